/**
 * The probe of issue 12, item 7: credentials in a repository URL
 * (`http://x-access-token:${TOKEN}@host/repo.git`) ended up in the workspace's `.git/config`
 * (which the agent reads), the job's `repo` column, git's command line (`ps`) and
 * `pylon test --dry-run`. Now git gets them from a credential helper, they are stored and shown
 * redacted, and an agent gets them only with `workspace.push: true`, through a helper that
 * asks the job's channel and answers for that repository alone (issue 19, item 4: no file).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createGitRunner, prepareWorkspace, pushCredential } from "../../src/workspace/mod.ts";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";
import { startGitHttpServer } from "../fakes/git_http_server.ts";
import { dockerTest, ensureTestImage } from "../integration/_docker.ts";
import {
  createFixture,
  HERMETIC_ENV,
  jobDir,
  memoryLog,
  recordingGit,
} from "../workspace/_fixture.ts";
import { attackerYaml, finished, removeJobContainers, startAttackedDaemon } from "./_attacker.ts";
import { writeHome } from "../_helpers/daemon.ts";
import { createPylonPaths } from "../../src/config/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";

const TOKEN = `ghs_${crypto.randomUUID().replaceAll("-", "")}`;

/** Every file under `dir` (the workspace, the mirror cache) as one string. */
async function allText(dir: string): Promise<string> {
  let out = "";
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out += await allText(path);
    else if (entry.isFile) out += await Deno.readTextFile(path).catch(() => "");
  }
  return out;
}

Deno.test("a token in workspace.repo reaches git through a helper: never argv, config, logs or the user's helper", async () => {
  await using fx = await createFixture();
  await using server = startGitHttpServer(fx.served, { user: "x-access-token", password: TOKEN });
  // The operator's own credential helper, which would store whatever git is given.
  const store = join(fx.root, "stored-credentials");
  const globalConfig = join(fx.root, "gitconfig");
  await Deno.writeTextFile(globalConfig, `[credential]\n\thelper = store --file=${store}\n`);
  const git = recordingGit(
    createGitRunner({ env: { ...HERMETIC_ENV, GIT_CONFIG_GLOBAL: globalConfig } }),
  );
  const log = memoryLog();
  const url = server.url("app.git").replace("http://", `http://x-access-token:${TOKEN}@`);
  const deps = { git, log, home: fx.root };
  for (const n of [1, 2]) {
    const ws = await prepareWorkspace(
      { type: "git-clone", repo: url },
      { jobDir: jobDir(fx, n), reposDir: fx.reposDir },
      deps,
    );
    assert.equal(await Deno.readTextFile(join(ws.hostPath!, "main.ts")), "console.log(1);\n");
    assert.deepEqual(ws.extraMounts, [], "no credentials for the agent without workspace.push");
    assert.ok(!ws.description.includes(TOKEN));
    const config = await Deno.readTextFile(join(ws.hostPath!, ".git", "config"));
    assert.ok(!config.includes(TOKEN), "the agent's .git/config has no token");
    assert.ok(!config.includes("credential"), "and no helper");
    assert.match(config, new RegExp(`url = ${server.url("app.git")}\\n`));
  }
  assert.ok(server.logins.includes(`x-access-token:${TOKEN}`), "the server got the token");
  assert.ok(git.calls.length > 0);
  assert.ok(!git.calls.flat().some((arg) => arg.includes(TOKEN)), "no token on a command line");
  assert.ok(!(await allText(fx.reposDir)).includes(TOKEN), "the mirror cache has no token");
  assert.ok(!log.lines.join("\n").includes(TOKEN), "the log has no token");
  await assert.rejects(Deno.stat(store), Deno.errors.NotFound, "the user's helper stored nothing");
});

Deno.test("workspace.push names the channel's helper for that repository only; no credential file", async () => {
  await using fx = await createFixture();
  await using server = startGitHttpServer(fx.served, { user: "x-access-token", password: TOKEN });
  const url = server.url("app.git").replace("http://", `http://x-access-token:${TOKEN}@`);
  const spec = { type: "git-clone", repo: url, push: true } as const;
  const ws = await prepareWorkspace(
    spec,
    { jobDir: jobDir(fx, 1), reposDir: fx.reposDir },
    { git: recordingGit(), log: memoryLog(), home: fx.root },
  );
  // Issue 19, item 4: nothing mounted, nothing written for the agent; the channel serves it.
  assert.deepEqual(ws.extraMounts, []);
  await assert.rejects(Deno.stat(join(jobDir(fx, 1), "git-credentials")));
  assert.ok(!(await allText(jobDir(fx, 1))).includes(TOKEN), "no file of the job holds it");
  assert.deepEqual(JSON.parse(pushCredential(spec, fx.root)!), {
    origin: new URL(server.url("")).origin,
    username: "x-access-token",
    password: TOKEN,
    path: "app.git",
  });
  const config = await Deno.readTextFile(join(ws.hostPath!, ".git", "config"));
  assert.ok(!config.includes(TOKEN), "the workspace's config names a helper, not the token");
  // Which requests would run the helper (git traces it; the helper itself is in the image).
  const asks = async (path: string) => {
    const port = new URL(server.url("")).host;
    const child = new Deno.Command("git", {
      args: ["credential", "fill"],
      cwd: ws.hostPath!,
      env: { ...HERMETIC_ENV, GIT_TRACE: "1", GIT_TERMINAL_PROMPT: "0" },
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(`protocol=http\nhost=${port}\npath=${path}\n\n`));
    await writer.close();
    const { stderr } = await child.output();
    return new TextDecoder().decode(stderr).includes(
      "/usr/local/lib/pylon/pylon-init.mjs credential",
    );
  };
  assert.equal(await asks("app.git"), true, "the repository's own URL gets the helper");
  assert.equal(await asks("other.git"), false, "another repository on the same host does not");
});

Deno.test("pylon test --dry-run shows a repository URL without its credentials", async () => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "clone",
    "name: clone\ntrigger:\n  type: webhook\n  path: /clone\nworkspace:\n  type: git-clone\n" +
      '  repo: "https://x-access-token:${REPO_TOKEN}@git.example.com/acme/app.git"\n' +
      "agent:\n  prompt: hi\n",
    `REPO_TOKEN=${TOKEN}\n`,
  );
  assert.equal(await cli(ctx, "test", "clone", "--dry-run"), 0, ctx.stderr());
  assert.match(ctx.stdout(), /Repo: https:\/\/\*\*\*@git\.example\.com\/acme\/app\.git\n/);
  assert.equal(await cli(ctx, "test", "clone", "--dry-run", "--json"), 0, ctx.stderr());
  assert.ok(!(ctx.stdout() + ctx.stderr()).includes(TOKEN));
});

dockerTest(
  "an agent finds no token in its workspace, and the job's repo is stored redacted; push opts in",
  async (docker) => {
    const image = await ensureTestImage(docker);
    await using fx = await createFixture();
    await using server = startGitHttpServer(fx.served, {
      user: "x-access-token",
      password: TOKEN,
    });
    const repo = server.url("app.git").replace("http://", "http://x-access-token:${REPO_TOKEN}@");
    // The agent reports everything it can read about the repository: config, environment, files.
    const snoop = "{ cat .git/config; env; ls -la /pylon; cat /pylon/git-credentials; } " +
      '2>&1 | base64 | tr -d "\\n" > /tmp/seen; ' +
      'printf \'{"status":"completed","result":"%s"}\' "$(cat /tmp/seen)" > "$PYLON_OUT/result.json"';
    const root = await Deno.makeTempDir({ prefix: "pylon-sec-cred-" });
    const workspace = (push: boolean) => [
      "workspace:",
      "  type: git-clone",
      `  repo: ${JSON.stringify(repo)}`,
      ...(push ? ["  push: true"] : []),
    ];
    await writeHome(root, {
      "pylons/snoop/pylon.yaml": attackerYaml("snoop", image, { script: snoop }) +
        workspace(false).join("\n") + "\n",
      "pylons/snoop/.env": `REPO_TOKEN=${TOKEN}\n`,
      // The push helper reaches the daemon's channel; a loopback daemon needs host networking.
      "pylons/pusher/pylon.yaml":
        attackerYaml("pusher", image, { script: snoop, extra: ["  network: host"] }) +
        workspace(true).join("\n") + "\n",
      "pylons/pusher/.env": `REPO_TOKEN=${TOKEN}\n`,
    });
    const d = await startAttackedDaemon(root);
    const ids: string[] = [];
    const run = async (name: string) => {
      const res = await fetch(`${d.url}/${name}`, { method: "POST", body: "{}" });
      const id = (await res.json()).job_id;
      ids.push(id);
      const job = await finished(d, id, 60_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      return { job, seen: new TextDecoder().decode(decodeBase64(String(job.result))) };
    };
    try {
      const snooped = await run("snoop");
      assert.match(snooped.seen, /\[remote "origin"\]/, "the agent did read .git/config");
      assert.ok(!snooped.seen.includes(TOKEN), "no token in the workspace or environment");
      assert.ok(!JSON.stringify(snooped.job).includes(TOKEN));

      const pushed = await run("pusher");
      // Issue 19, item 4: the helper asks the channel with the job's token; no file, no variable
      // and no config holds the credential itself.
      assert.ok(!pushed.seen.includes(TOKEN), "push: true puts no credential in the container");
      assert.match(pushed.seen, /credential "http:\/\/127\.0\.0\.1:\d+\/app\.git"/);
      assert.match(
        pushed.seen,
        /helper = !node \/usr\/local\/lib\/pylon\/pylon-init\.mjs credential/,
      );
      assert.match(pushed.seen, /PYLON_AGENT_TOKEN=\S{40,}/);
      assert.ok(!JSON.stringify(pushed.job).includes(TOKEN));

      // The job's `repo` column, as `pylon jobs` and the store keep it.
      await d.stop();
      const stores = createStoreRegistry(createPylonPaths(root));
      try {
        const stored = await (await stores.open("snoop")).get(ids[0]!);
        assert.equal(stored?.repo, server.url("app.git").replace("http://", "http://***@"));
      } finally {
        await stores.closeAll();
      }
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
