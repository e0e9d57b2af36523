/**
 * The newcomer's path: a `pylon` command on PATH from a source checkout, relative paths read
 * from the caller's folder, sample events per template, and `construct`'s advice.
 */

import assert from "node:assert/strict";
import { callerCwd } from "../../src/cli/caller.ts";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";
import { PYLON_FLAGS, withoutDenoNoise } from "../_helpers/process.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const dec = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: withoutDenoNoise(dec.decode(out.stderr)),
  };
}

Deno.test("deno task install puts a working pylon launcher in $DENO_INSTALL_ROOT/bin", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-install-" });
  try {
    const installed = await run(Deno.execPath(), ["task", "-q", "install"], {
      cwd: ROOT,
      env: { DENO_INSTALL_ROOT: root, PATH: Deno.env.get("PATH") ?? "" },
    });
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, new RegExp(`Installed ${root}/bin/pylon`));
    assert.match(installed.stdout, /is not on your PATH yet/);
    const launcher = await Deno.readTextFile(`${root}/bin/pylon`);
    // Exactly the permission flags of the `pylon` task, and the checkout's config (and lock).
    assert.match(launcher, new RegExp(`"\\$deno" run --quiet ${PYLON_FLAGS.join(" ")} --config `));
    assert.match(launcher, new RegExp(`'${ROOT}/deno.json' '${ROOT}/main.ts' "\\$@"`));
    const version = await run(`${root}/bin/pylon`, ["version"], {
      cwd: root,
      env: { HOME: Deno.env.get("HOME") ?? root, PATH: Deno.env.get("PATH") ?? "" },
    });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^pylon \d+\.\d+\.\d+/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("callerCwd() takes INIT_CWD only when running in the checkout (deno task)", () => {
  assert.equal(
    callerCwd({ INIT_CWD: "/home/ada/app" }, "/src/pylon", "/src/pylon/"),
    "/home/ada/app",
  );
  assert.equal(callerCwd({ INIT_CWD: "/home/ada/app" }, "/tmp/x", "/src/pylon"), "/tmp/x");
  assert.equal(callerCwd({}, "/src/pylon", "/src/pylon"), "/src/pylon");
  assert.equal(callerCwd({ INIT_CWD: "rel" }, "/src/pylon", "/src/pylon"), "/src/pylon");
  assert.equal(callerCwd({ INIT_CWD: "/home/ada" }, "/src/pylon", undefined), "/src/pylon");
});

Deno.test("deno task pylon reads --payload @file and a relative PYLON_HOME from INIT_CWD", async () => {
  const caller = await Deno.makeTempDir({ prefix: "pylon-caller-" });
  try {
    const env = {
      INIT_CWD: caller,
      PYLON_HOME: "home",
      HOME: caller,
      TZ: "UTC",
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    };
    const pylon = (...args: string[]) =>
      run(Deno.execPath(), ["run", ...PYLON_FLAGS, "main.ts", ...args], { cwd: ROOT, env });
    const made = await pylon("construct", "hook", "--from", "blank");
    assert.equal(made.code, 0, made.stderr);
    await Deno.stat(`${caller}/home/pylons/hook/pylon.yaml`);
    await Deno.writeTextFile(`${caller}/event.json`, '{"hello":"from the caller"}');
    const ok = await pylon("test", "hook", "--payload", "@event.json", "--dry-run");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /from the caller/);
    const missing = await pylon("test", "hook", "--payload", "@nope.json", "--dry-run");
    assert.equal(missing.code, 1);
    // The absolute path tried, and why, without --debug.
    assert.match(
      missing.stderr,
      new RegExp(`Cannot read the payload file ${caller}/nope\\.json: no such file`),
    );
  } finally {
    await Deno.remove(caller, { recursive: true });
  }
});

Deno.test("pylon test --dry-run of a github-pr pylon uses a pull_request sample with its header", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_test" } });
  assert.equal(await cli(ctx, "construct", "pr", "--from", "github-pr"), 0, ctx.stderr());
  const before = ctx.stdout().length;
  assert.equal(await cli(ctx, "test", "pr", "--dry-run", "--json"), 0, ctx.stderr());
  const out = JSON.parse(ctx.stdout().slice(before));
  assert.equal(out.when, "accepted");
  assert.equal(out.topic, "PR #42: Fix off-by-one in pagination");
  assert.equal(out.repo, "https://github.com/your-org/your-repo.git");
  assert.equal(out.repo_refused, null);
  // --sample is the same event, said explicitly; it excludes --payload.
  assert.equal(await cli(ctx, "test", "pr", "--sample", "--dry-run"), 0, ctx.stderr());
  assert.match(
    ctx.stderr(),
    /Using the github-pr sample event \(headers: x-github-event: pull_request\)/,
  );
  assert.match(ctx.stdout(), /Outcome: accepted/);
  assert.equal(await cli(ctx, "test", "pr", "--sample", "--payload", "{}", "--dry-run"), 2);
});

Deno.test("the github-pr sample comes from a repository workspace.allowed_repos lets in", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_test" } });
  await cli(ctx, "construct", "pr", "--from", "github-pr");
  // As the README says: set workspace.allowed_repos to your repositories.
  const file = ctx.paths.pylonConfig("pr");
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace(
      'allowed_repos: ["your-org/*"]',
      "allowed_repos: [acme/*]",
    ),
  );
  const before = ctx.stdout().length;
  assert.equal(await cli(ctx, "test", "pr", "--dry-run", "--json"), 0, ctx.stderr());
  const out = JSON.parse(ctx.stdout().slice(before));
  assert.equal(out.repo, "https://github.com/acme/your-repo.git");
  assert.equal(out.repo_refused, null);
  assert.equal(out.message, "New PR from octocat\nhttps://github.com/acme/your-repo/pull/42\n");
  // A repository named as it is: the sample is of that one.
  await Deno.writeTextFile(
    file,
    (await Deno.readTextFile(file)).replace("allowed_repos: [acme/*]", "allowed_repos: [acme/app]"),
  );
  const at = ctx.stdout().length;
  assert.equal(await cli(ctx, "test", "pr", "--dry-run", "--json"), 0, ctx.stderr());
  assert.equal(JSON.parse(ctx.stdout().slice(at)).repo, "https://github.com/acme/app.git");
});

Deno.test("edit and list say that an unset ${VAR} goes in the .env, not in another edit", async () => {
  await using ctx = await createTestContext();
  await cli(ctx, "construct", "triage", "--from", "sentry", "--repo", "https://e.com/r.git");
  assert.equal(await cli(ctx, "edit", "triage"), 1);
  assert.match(ctx.stderr(), /references \$\{SENTRY_CLIENT_SECRET\} but it is not set/);
  assert.match(
    ctx.stderr(),
    /fix: add the value to .*pylons\/triage\/\.env \(then chmod 600 it\); pylon\.yaml needs no edit/,
  );
  assert.doesNotMatch(ctx.stderr(), /run `pylon edit triage` again/);
  assert.equal(await cli(ctx, "list"), 0);
  assert.match(ctx.stdout(), /fix: add the value to .*pylons\/triage\/\.env/);
});

Deno.test("a first pylon start on a fresh home does not warn about folders it made itself", async () => {
  const home = await Deno.makeTempDir({ prefix: "pylon-fresh-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PYLON_FLAGS, `${ROOT}/main.ts`, "start", "--host", "127.0.0.1", "--port", "0"],
    env: {
      HOME: home,
      PYLON_HOME: `${home}/.pylon`,
      NO_COLOR: "1",
      // The module cache stays the usual one (a fresh HOME would download every package again).
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let err = "";
  try {
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    while (!/event=daemon\.listening/.test(err)) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
    reader.releaseLock();
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await child.stderr.cancel().catch(() => {});
    await Deno.remove(home, { recursive: true });
  }
  assert.match(err, /event=daemon\.listening/);
  assert.doesNotMatch(err, /home\.tightened/);
});

Deno.test("pylon piped into a reader that leaves (| head) exits quietly", async () => {
  const home = await Deno.makeTempDir({ prefix: "pylon-pipe-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...PYLON_FLAGS, `${ROOT}/main.ts`, "cron", "* * * * *", "--count", "1000"],
      env: {
        HOME: home,
        PYLON_HOME: home,
        NO_COLOR: "1",
        DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await child.stdout.cancel(); // the reader is gone before the first line is written
    const { code } = await child.status;
    const stderr = withoutDenoNoise(dec.decode(await new Response(child.stderr).arrayBuffer()));
    assert.equal(stderr, "");
    assert.equal(code, 141);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("pylon test --dry-run says which part of trigger.when is false and what it read", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_test" } });
  await cli(ctx, "construct", "pr", "--from", "github-pr");
  const payload = JSON.stringify({ action: "closed", number: 1, pull_request: { draft: false } });
  assert.equal(await cli(ctx, "test", "pr", "--payload", payload, "--dry-run"), 0, ctx.stderr());
  const out = ctx.stdout();
  assert.match(out, /When: ignored/);
  assert.match(out, /trigger\.when: \{\{ and \(eq \(index \.headers "x-github-event"\)/);
  assert.match(out, /FALSE {2}\(eq \(index \.headers "x-github-event"\) "pull_request"\)/);
  assert.match(out, /FALSE {2}\(or \(eq \.body\.action "opened"\)/);
  assert.match(out, /true {3}\(not \.body\.pull_request\.draft\)/);
  assert.match(out, /header x-github-event = \(not sent\)/);
  assert.match(out, /\.body\.action = "closed"/);
  assert.match(out, /--header 'x-github-event: pull_request'/);
});

Deno.test("pylon test --dry-run uses the scheduler's payload for a cron pylon and Sentry's for sentry", async () => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "audit",
    'name: audit\ntrigger:\n  type: cron\n  cron: "0 9 * * 1"\n' +
      'agent:\n  prompt: "{{ .body.pylon }} at {{ .body.scheduled_at }}"\n',
  );
  assert.equal(await cli(ctx, "test", "audit", "--dry-run"), 0, ctx.stderr());
  assert.match(ctx.stdout(), /Prompt: audit at 2026-11-24T10:00:00\.000Z\n/);
  await cli(ctx, "construct", "triage", "--from", "sentry", "--repo", "https://e.com/r.git");
  assert.equal(await cli(ctx, "test", "triage", "--dry-run"), 0, ctx.stderr());
  assert.match(ctx.stdout(), /Topic: TypeError: Cannot read properties of undefined/);
  assert.match(ctx.stderr(), /Using the sentry sample event/);
});

Deno.test("pylon construct says what is true: start it, fix it first, or already served", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "construct", "hook", "--from", "blank"), 0, ctx.stderr());
  assert.match(ctx.stdout(), /Webhook: http:\/\/localhost:8080\/hook\n/);
  assert.match(
    ctx.stdout(),
    /server\.public_url is unset: this address works on this machine only/,
  );
  assert.match(ctx.stdout(), /Start it: {2}pylon start {3}\(the daemon serves every pylon\)/);
  // A git-clone pylon without a repository cannot load: no "Start it", and no advice to
  // construct it again (that fails: it exists).
  assert.equal(await cli(ctx, "construct", "audit", "--from", "cron-audit"), 0, ctx.stderr());
  const out = ctx.stdout().slice(ctx.stdout().indexOf("Pylon constructed: audit"));
  assert.match(out, /Before it can run, fix:/);
  assert.match(out, /set workspace\.repo with: pylon edit audit/);
  assert.match(out, /Once fixed, start the daemon: {2}pylon start/);
  assert.doesNotMatch(out, /construct it again|Start it:/);
  // A sentry pylon does not load until its Client Secret is pasted: say that, not "Start it".
  const repo = ["--repo", "https://e.com/r.git"];
  assert.equal(await cli(ctx, "construct", "triage", "--from", "sentry", ...repo), 0);
  const sentry = ctx.stdout().slice(ctx.stdout().indexOf("Pylon constructed: triage"));
  assert.match(
    sentry,
    /Once SENTRY_CLIENT_SECRET is in \S*pylons\/triage\/\.env, start the daemon: {2}pylon start/,
  );
  assert.doesNotMatch(sentry, /Start it:|Before it can run/);
});

Deno.test("pylon construct does not say 'start it' when the running daemon already serves it", async () => {
  await using ctx = await createTestContext();
  const daemon = await startTestDaemon(ctx.paths.root);
  try {
    assert.equal(await cli(ctx, "construct", "late", "--from", "blank"), 0, ctx.stderr());
    assert.match(ctx.stdout(), /The running daemon \(http:\/\/127\.0\.0\.1:\d+\) picked it up/);
    assert.doesNotMatch(ctx.stdout(), /Start it:/);
    // The URL is where the daemon listens (started on another port than config.yaml's 8080),
    // also for a pylon that cannot load yet (github-pr without GITHUB_TOKEN), which GitHub's
    // setup text calls "the webhook above".
    const port = new URL(daemon.url).port;
    assert.match(ctx.stdout(), new RegExp(`Webhook: http://127\\.0\\.0\\.1:${port}/late\n`));
    assert.equal(await cli(ctx, "construct", "pr", "--from", "github-pr"), 0, ctx.stderr());
    const out = ctx.stdout().slice(ctx.stdout().indexOf("Pylon constructed: pr"));
    assert.match(out, /Before it can run, fix:\n.*GITHUB_TOKEN/);
    assert.match(out, new RegExp(`Webhook: http://127\\.0\\.0\\.1:${port}/pr\n`));
    assert.match(out, /Payload URL: the webhook above/);
    // Not "has not loaded it: see its log": the one thing missing is the secret to paste.
    const repo = ["--repo", "https://e.com/r.git"];
    assert.equal(await cli(ctx, "construct", "triage", "--from", "sentry", ...repo), 0);
    const sentry = ctx.stdout().slice(ctx.stdout().indexOf("Pylon constructed: triage"));
    assert.match(
      sentry,
      /The running daemon \(http:\/\/127\.0\.0\.1:\d+\) loads it as soon as SENTRY_CLIENT_SECRET is in \S*pylons\/triage\/\.env; no restart\. Until then its path answers 503\./,
    );
    assert.doesNotMatch(sentry, /picked it up|has not loaded it|Start it:/);
  } finally {
    await daemon.stop();
  }
});
