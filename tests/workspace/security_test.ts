import assert from "node:assert/strict";
import { join } from "node:path";
import { createGitRunner, prepareWorkspace, WorkspaceError } from "../../src/workspace/mod.ts";
import {
  createFixture,
  HERMETIC_ENV,
  jobDir,
  memoryLog,
  recordingGit,
  startGitDaemon,
  testGit,
} from "./_fixture.ts";

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("prepareWorkspace() refuses template-injected refs before git runs", async () => {
  await using fx = await createFixture();
  await using daemon = await startGitDaemon(fx.served);
  const pwned = join(fx.root, "pwned");
  const hostile = [
    `--upload-pack=touch ${pwned}`,
    `--upload-pack=touch${pwned}`,
    "-x",
    "a..b",
    "$(id)",
    "`id`",
    `main;touch ${pwned}`,
    "main\ntouch",
    "HEAD@{1}",
    "main~1",
    "main^",
    ":/fix",
    ".hidden",
    "x.lock",
    "refs//heads",
    "trailing/",
    "@",
  ];
  for (const type of ["git-clone", "git-worktree"] as const) {
    for (const ref of hostile) {
      const git = recordingGit();
      const job = jobDir(fx, "hostile");
      const repo = type === "git-clone" ? daemon.url("app.git") : fx.work;
      const e = await prepareWorkspace({ type, repo, ref }, {
        jobDir: job,
        reposDir: fx.reposDir,
      }, { git, log: memoryLog() }).then(() => undefined, (e: unknown) => e);
      assert.ok(e instanceof WorkspaceError, `${type} ${JSON.stringify(ref)}: ${e}`);
      assert.equal(e.field, "workspace.ref");
      assert.ok(
        e.message.startsWith(`Cannot use workspace.ref ${JSON.stringify(ref)}: `),
        e.message,
      );
      assert.deepEqual(git.calls, [], `git must not run for ${JSON.stringify(ref)}`);
      assert.equal(await exists(job), false, "nothing is created");
    }
  }
  assert.equal(await exists(pwned), false);
  assert.equal(await exists(fx.reposDir), false);
});

Deno.test("prepareWorkspace() refuses remote helpers and option-like repositories", async () => {
  await using fx = await createFixture();
  const pwned = join(fx.root, "pwned");
  const hostile = [
    `ext::sh -c touch% ${pwned}`,
    `ext::touch%20${pwned}`,
    "fd::17",
    `--upload-pack=touch ${pwned}`,
    "-oProxyCommand=touch",
    `ssh://-oProxyCommand=touch%20${pwned}/x`,
    "git@-oProxyCommand=x:repo",
    "ftp://example.com/r.git",
    "relative/path",
    "example.com::repo",
    "https://example.com/r\n.git",
    "https://exa mple.com/r.git",
    "",
  ];
  for (const repo of hostile) {
    const git = recordingGit();
    const e = await prepareWorkspace({ type: "git-clone", repo }, {
      jobDir: jobDir(fx, "hostile"),
      reposDir: fx.reposDir,
    }, { git, log: memoryLog() }).then(() => undefined, (e: unknown) => e);
    assert.ok(e instanceof WorkspaceError, `${JSON.stringify(repo)}: ${e}`);
    assert.equal(e.field, "workspace.repo", `${JSON.stringify(repo)}: ${e.message}`);
    assert.ok(e.message.includes("workspace.repo"), e.message);
    assert.deepEqual(git.calls, [], `git must not run for ${JSON.stringify(repo)}`);
  }
  assert.equal(await exists(pwned), false);
});

Deno.test("createGitRunner() refuses the ext transport even when called directly", async () => {
  await using fx = await createFixture();
  const pwned = join(fx.root, "pwned");
  const result = await testGit().run(["ls-remote", `ext::sh -c touch% ${pwned}`], {
    cwd: fx.root,
  });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /transport 'ext' not allowed/);
  assert.equal(await exists(pwned), false);
});

Deno.test("createGitRunner() runs no shell and never prompts", async () => {
  await using fx = await createFixture();
  const git = testGit();
  const echo = await git.run(["config", "--get", "core.bare"], { cwd: fx.work });
  assert.equal(echo.stdout.trim(), "false");
  // A $(...) argument reaches git verbatim.
  const odd = await git.run(["rev-parse", "--verify", "--quiet", "$(touch x)"], { cwd: fx.work });
  assert.equal(odd.code, 1);
  assert.equal(await exists(join(fx.work, "x")), false);
  const env = await git.run(["var", "GIT_EDITOR"], {
    cwd: fx.work,
    env: { GIT_EDITOR: "true" },
  });
  assert.equal(env.stdout.trim(), "true", "per-call env applies");
  const prompt = await git.run(["ls-remote", "http://127.0.0.1:1/x.git"], { cwd: fx.work });
  assert.notEqual(prompt.code, 0);
});

Deno.test("createGitRunner() ignores a GIT_DIR set in the daemon's environment", async () => {
  await using fx = await createFixture();
  // Passed as the inherited environment, not set on this process: test files run in parallel
  // in one process, and a GIT_DIR set here leaked into other files' git commands.
  const git = createGitRunner({
    env: HERMETIC_ENV,
    inheritedEnv: { ...Deno.env.toObject(), GIT_DIR: fx.bare },
  });
  const r = await git.run(["rev-parse", "--is-bare-repository"], { cwd: fx.work });
  assert.equal(r.stdout.trim(), "false");
});

Deno.test("createGitRunner() reports a missing git binary as WorkspaceError", async () => {
  const { createGitRunner } = await import("../../src/workspace/mod.ts");
  const git = createGitRunner({ gitPath: "/nonexistent/git" });
  await assert.rejects(git.run(["--version"], {}), (e: unknown) => {
    assert.ok(e instanceof WorkspaceError);
    assert.match(e.message, /^Cannot run git: "\/nonexistent\/git" was not found$/);
    return true;
  });
});

Deno.test("prepareWorkspace() stops when the job is aborted", async () => {
  await using fx = await createFixture();
  const controller = new AbortController();
  controller.abort(new Error("job killed"));
  const job = jobDir(fx, 1);
  await assert.rejects(
    prepareWorkspace({ type: "git-clone", repo: fx.bare }, { jobDir: job, reposDir: fx.reposDir }, {
      git: testGit(),
      log: memoryLog(),
      signal: controller.signal,
    }),
    /job killed/,
  );
  assert.equal(await exists(join(job, "workspace")), false);
});
