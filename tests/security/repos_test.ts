/**
 * The probe of issue 12, item 3: with the `github-pr` pylon as `pylon construct` writes it, one
 * unsigned POST whose payload named a local repository (`clone_url: file:///…`) and a foreign
 * repository (`full_name`) made pylon clone the local one and post its content, with the
 * operator's GitHub token, on the foreign one. Now the template ships signed, an event picks a
 * repository only from `workspace.allowed_repos` (never a local one), the GitHub channel writes
 * only there, a pylon whose secret is missing does not serve its path, and the banner and
 * `pylon doctor` name every webhook anyone can trigger.
 */

import assert from "node:assert/strict";
import { cli, createTestContext, type TestContext } from "../_helpers/cli.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { startFakeGitHub } from "../fakes/github_server.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";
import { githubHeaders, prEvent } from "../fixtures/github/mod.ts";
import { dockerRunnerFor } from "../integration/_agent.ts";
import { dockerTest, ensureTestImage } from "../integration/_docker.ts";
import { parseDotEnv } from "../../src/config/mod.ts";
import { signRequest } from "../../src/daemon/mod.ts";
import { finished, removeJobContainers } from "./_attacker.ts";

const SECRET_TEXT = `TOP-SECRET-${crypto.randomUUID()}`;

/** A repository on the daemon's disk that nobody meant to hand out. */
async function localSecretRepo(): Promise<{ dir: string; sha: string }> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-secret-repo-" });
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", {
      args: ["-c", "user.email=t@t", "-c", "user.name=t", ...args],
      cwd: dir,
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  await git("init", "-q", "-b", "main");
  await Deno.writeTextFile(`${dir}/secret.txt`, SECRET_TEXT);
  await git("add", ".");
  await git("commit", "-q", "-m", "secret");
  return { dir, sha: await git("rev-parse", "HEAD") };
}

/**
 * `pylon construct review --from github-pr`, pointed at the fake GitHub with a token in the
 * pylon's `.env`; with `image`, its agent prints the workspace's `secret.txt` as its result.
 */
async function constructReviewer(
  ctx: TestContext,
  apiUrl: string,
  options: { image?: string; allowed?: string } = {},
): Promise<void> {
  assert.equal(await cli(ctx, "construct", "review", "--from", "github-pr"), 0, ctx.stderr());
  const file = ctx.paths.pylonConfig("review");
  let yaml = (await Deno.readTextFile(file)).replace(
    '    token: "${GITHUB_TOKEN}"\n',
    `    token: "\${GITHUB_TOKEN}"\n    api_url: ${apiUrl}\n`,
  );
  if (options.allowed) yaml = yaml.replace('["your-org/*"]', `["${options.allowed}"]`);
  if (options.image) {
    const script = 'printf \'{"status":"completed","result":"%s"}\' ' +
      '"$(cat secret.txt 2>/dev/null)" > "$PYLON_OUT/result.json"';
    yaml = yaml.slice(0, yaml.indexOf("\nagent:\n")) + "\nagent:\n" + [
      "  type: custom",
      `  image: ${JSON.stringify(options.image)}`,
      '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
      '  prompt: "review"',
      "  timeout: 1m",
      "  env:",
      `    SCRIPT: ${JSON.stringify(script)}`,
    ].join("\n") + "\n";
  }
  await Deno.writeTextFile(file, yaml);
  await Deno.writeTextFile(ctx.paths.pylonEnv("review"), "GITHUB_TOKEN=ghp_test\n", {
    append: true,
  });
}

/** What the attacker sends: a pull request event naming `cloneUrl` and `fullName`. */
function hostileEvent(cloneUrl: string, fullName: string, sha: string): Uint8Array<ArrayBuffer> {
  const [owner, repo] = fullName.split("/") as [string, string];
  const event = prEvent("opened", { headSha: sha, owner, repo }) as unknown as {
    repository: Record<string, unknown>;
  };
  event.repository.clone_url = cloneUrl;
  return new TextEncoder().encode(JSON.stringify(event));
}

async function post(
  d: TestDaemon,
  body: Uint8Array<ArrayBuffer>,
  secret?: string,
): Promise<Response> {
  const signature = secret
    ? await signRequest({ secret, header: "X-Hub-Signature-256" }, body)
    : {};
  return await fetch(`${d.url}/review`, {
    method: "POST",
    headers: { ...githubHeaders("pull_request"), ...signature },
    body,
  });
}

async function webhookSecret(ctx: TestContext): Promise<string | undefined> {
  const text = await Deno.readTextFile(ctx.paths.pylonEnv("review")).catch(() => "");
  return parseDotEnv(text).vars.GITHUB_WEBHOOK_SECRET;
}

dockerTest(
  "an unsigned event cannot make the constructed github-pr pylon leak a local repository to GitHub",
  async (docker) => {
    const image = await ensureTestImage(docker);
    await using github = startFakeGitHub({ token: "ghp_test" });
    await using ctx = await createTestContext();
    const secretRepo = await localSecretRepo();
    await constructReviewer(ctx, github.url, { image });
    const d = await startTestDaemon(ctx.paths.root, {
      createRunner: dockerRunnerFor(ctx.paths.root),
    });
    const ids: string[] = [];
    try {
      const body = hostileEvent(
        `file://${secretRepo.dir}`,
        "victim-org/victim-repo",
        secretRepo.sha,
      );
      const res = await post(d, body);
      const answer = await res.json();
      if (answer.job_id) {
        // What used to happen: the job ran, and its review was posted on the named repository.
        ids.push(answer.job_id);
        await finished(d, answer.job_id, 30_000);
        await new Promise((r) => setTimeout(r, 500));
      }
      const leaked = github.comments("victim-org", "victim-repo", 42).map((c) => c.body);
      assert.deepEqual(leaked.filter((b) => b.includes(SECRET_TEXT)), [], "nothing leaked");
      assert.equal(res.status, 401, `an unsigned event is refused: ${JSON.stringify(answer)}`);
      assert.ok(!JSON.stringify(github.requests).includes(SECRET_TEXT));
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(secretRepo.dir, { recursive: true });
    }
  },
);

dockerTest(
  "a signed event picks a repository only from allowed_repos, never a local one, and GitHub hears nothing of others",
  async (docker) => {
    const image = await ensureTestImage(docker);
    await using github = startFakeGitHub({ token: "ghp_test" });
    await using ctx = await createTestContext();
    const secretRepo = await localSecretRepo();
    await constructReviewer(ctx, github.url, { image, allowed: "octo-org/*" });
    const secret = await webhookSecret(ctx);
    assert.ok(secret, "construct wrote the webhook secret to the pylon's .env");
    const d = await startTestDaemon(ctx.paths.root, {
      createRunner: dockerRunnerFor(ctx.paths.root),
    });
    const ids: string[] = [];
    try {
      // An allowed repository's name, but a clone URL on the daemon's disk.
      const local = await post(
        d,
        hostileEvent(`file://${secretRepo.dir}`, "octo-org/octo-repo", secretRepo.sha),
        secret,
      );
      assert.equal(local.status, 202);
      const localJob = await finished(d, ids[ids.push((await local.json()).job_id) - 1]!);
      assert.equal(localJob.status, "failed");
      assert.match(String(localJob.error), /workspace\.repo .*may not be on this machine/);
      assert.ok(!JSON.stringify(localJob).includes(SECRET_TEXT));

      // A repository outside the list: no clone, and not a single request about it to GitHub.
      const foreign = await post(
        d,
        hostileEvent(
          "https://github.com/victim-org/victim-repo.git",
          "victim-org/victim-repo",
          secretRepo.sha,
        ),
        secret,
      );
      assert.equal(foreign.status, 202);
      const foreignJob = await finished(d, ids[ids.push((await foreign.json()).job_id) - 1]!);
      assert.equal(foreignJob.status, "failed");
      assert.match(String(foreignJob.error), /not in workspace\.allowed_repos \(octo-org\/\*\)/);
      await d.waitForLog(/event=github\.refused .*repo=victim-org\/victim-repo/);
      assert.deepEqual(github.requests.filter((r) => r.path.includes("victim")), []);
      assert.ok(!JSON.stringify(github.requests).includes(SECRET_TEXT));
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(secretRepo.dir, { recursive: true });
    }
  },
);

Deno.test("a github-pr pylon whose webhook secret is missing does not serve its path", async () => {
  await using github = startFakeGitHub({ token: "ghp_test" });
  await using ctx = await createTestContext();
  await constructReviewer(ctx, github.url);
  // The operator lost the secret line (or never had one): nothing may be served unsigned.
  await Deno.writeTextFile(ctx.paths.pylonEnv("review"), "GITHUB_TOKEN=ghp_test\n");
  const runner = createScriptedRunner();
  const d = await startTestDaemon(ctx.paths.root, { runner });
  try {
    const res = await post(
      d,
      hostileEvent(
        "https://github.com/octo-org/octo-repo.git",
        "octo-org/octo-repo",
        "a".repeat(40),
      ),
    );
    await res.body?.cancel();
    assert.equal(res.status, 503);
    assert.deepEqual(runner.ran, []);
  } finally {
    await d.stop();
  }
});

Deno.test("pylon construct --from github-pr writes a random webhook secret (0600) and says where it goes", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_test" } });
  assert.equal(await cli(ctx, "construct", "review", "--from", "github-pr"), 0, ctx.stderr());
  const env = ctx.paths.pylonEnv("review");
  assert.match(await Deno.readTextFile(env), /^GITHUB_WEBHOOK_SECRET=[0-9a-f]{64}\n$/);
  assert.equal((await Deno.stat(env)).mode! & 0o777, 0o600);
  const yaml = await Deno.readTextFile(ctx.paths.pylonConfig("review"));
  assert.match(
    yaml,
    /^ {2}secret: "\$\{GITHUB_WEBHOOK_SECRET\}"\n {2}signature_header: X-Hub-Signature-256$/m,
  );
  assert.match(yaml, /^ {2}allowed_repos: \["your-org\/\*"\]$/m);
  assert.match(ctx.stdout(), /Settings → Webhooks → Add webhook/);
  assert.match(ctx.stdout(), /GITHUB_WEBHOOK_SECRET/);
  const secret = await webhookSecret(ctx);
  assert.ok(secret && !ctx.stdout().includes(secret), "the secret itself is not printed");

  // A dry run needs no secret: it sends nothing.
  await Deno.writeTextFile(env, "");
  const payload = JSON.stringify({ number: 1, repository: { clone_url: "file:///etc" } });
  assert.equal(
    await cli(ctx, "test", "review", "--dry-run", "--payload", payload),
    0,
    ctx.stderr(),
  );
  assert.match(ctx.stderr(), /trigger\.secret is not set \(GITHUB_WEBHOOK_SECRET\)/);
  assert.match(ctx.stdout(), /Repo refused: .*may not be on this machine/);
});

Deno.test("the banner, the log and pylon doctor name every webhook anyone can trigger", async () => {
  await using ctx = await createTestContext();
  const hook = (name: string, signed: boolean) =>
    Deno.writeTextFile(
      ctx.paths.pylonConfig(name),
      `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\n` +
        (signed ? '  secret: "s3cret"\n  signature_header: X-Hub-Signature-256\n' : "") +
        "agent:\n  prompt: hi\n",
    );
  for (const name of ["open", "closed"]) {
    await Deno.mkdir(ctx.paths.pylonDir(name), { recursive: true });
  }
  await hook("open", false);
  await hook("closed", true);
  // Loopback, but a proxy forwards the internet to it.
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    "server:\n  public_url: https://hooks.example.com\n",
  );
  const d = await startTestDaemon(ctx.paths.root, { runner: createScriptedRunner() });
  try {
    const banner = d.out.join("");
    assert.match(
      banner,
      /WARNING: this webhook pylon runs an agent, on your agent key, for anyone/,
    );
    assert.match(
      banner,
      / {4}open \(\/open\): unsigned, and public at https:\/\/hooks\.example\.com/,
    );
    assert.doesNotMatch(banner, / {4}closed \(/);
    await d.waitForLog(/level=warn event=webhook\.unsigned pylon=open path=\/open/);
  } finally {
    await d.stop();
  }

  // Doctor, with the default server.host 0.0.0.0 (every interface).
  await Deno.writeTextFile(ctx.paths.globalConfig, "");
  await cli(ctx, "doctor", "--offline");
  assert.match(
    ctx.stdout(),
    /open signature \.+ WARN {2}unsigned, on 0\.0\.0\.0: anyone who reaches \/open runs the agent on your agent key/,
  );
  assert.match(ctx.stdout(), /closed signature \.+ ok {4}signed \(X-Hub-Signature-256\)/);
});

Deno.test("the GitHub channel never writes to a repository outside allowed_repos", async () => {
  await using github = startFakeGitHub({ token: "ghp_test" });
  await using ctx = await createTestContext();
  await Deno.mkdir(ctx.paths.pylonDir("notes"), { recursive: true });
  await Deno.writeTextFile(
    ctx.paths.pylonConfig("notes"),
    [
      "name: notes",
      "trigger:",
      "  type: webhook",
      "  path: /notes",
      "channel:",
      "  type: github",
      "  github:",
      "    token: ghp_test",
      `    api_url: ${github.url}`,
      "    allowed_repos: [octo-org/*]",
      "agent:",
      "  prompt: hi",
    ].join("\n") + "\n",
  );
  const d = await startTestDaemon(ctx.paths.root, { runner: createScriptedRunner() });
  try {
    const send = async (fullName: string) => {
      const res = await fetch(`${d.url}/notes`, {
        method: "POST",
        headers: githubHeaders("pull_request"),
        body: hostileEvent("https://x/y.git", fullName, "b".repeat(40)),
      });
      return (await res.json()).job_id as string;
    };
    await finished(d, await send("victim-org/victim-repo"));
    const ok = await send("octo-org/octo-repo");
    await finished(d, ok);
    await d.waitForLog(/event=github\.refused .*repo=victim-org\/victim-repo/);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(github.requests.filter((r) => r.path.includes("victim")), []);
    assert.ok(github.requests.some((r) => r.path.includes("/repos/octo-org/octo-repo/")));
  } finally {
    await d.stop();
  }
});
