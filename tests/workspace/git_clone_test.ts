import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareWorkspace, removeWorkspace, WorkspaceError } from "../../src/workspace/mod.ts";
import {
  commit,
  createFixture,
  git,
  jobDir,
  memoryLog,
  recordingGit,
  startGitDaemon,
  testGit,
} from "./_fixture.ts";

async function mirrors(reposDir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(reposDir)) if (e.name.endsWith(".git")) names.push(e.name);
  return names;
}

Deno.test("prepareWorkspace() git-clone over git:// creates the mirror, then reuses and fetches it", async () => {
  await using fx = await createFixture();
  await using daemon = await startGitDaemon(fx.served);
  const repo = daemon.url("app.git");
  const deps = { git: testGit(), log: memoryLog() };
  const target = (n: number) => ({ jobDir: jobDir(fx, n), reposDir: fx.reposDir });

  const first = await prepareWorkspace({ type: "git-clone", repo, ref: "trunk" }, target(1), deps);
  assert.equal(first.hostPath, join(jobDir(fx, 1), "workspace"));
  assert.equal(first.commit, fx.shas.c2);
  assert.deepEqual(first.extraMounts, []);
  assert.equal(first.readOnly, false);
  const names = await mirrors(fx.reposDir);
  assert.equal(names.length, 1);
  assert.match(names[0]!, /^[0-9a-f]{16}\.git$/);
  assert.equal(
    await git(["rev-parse", "--is-bare-repository"], join(fx.reposDir, names[0]!)),
    "true",
  );
  assert.ok(deps.log.lines.some((l) => l.includes("event=workspace.mirror.created")));

  const pushed = await fx.pushCommit("console.log(2);\n");
  const second = await prepareWorkspace({ type: "git-clone", repo, ref: "trunk" }, target(2), deps);
  assert.equal(second.commit, pushed, "the job sees the commit pushed since the last one");
  assert.deepEqual(await mirrors(fx.reposDir), names, "the same mirror is reused");
  assert.ok(deps.log.lines.some((l) => l.includes("event=workspace.mirror.fetched")));
  assert.equal(
    await Deno.readTextFile(join(second.hostPath!, "main.ts")),
    "console.log(2);\n",
  );
  // The workspace tracks the real repository, on the branch it asked for.
  assert.equal(await git(["remote", "get-url", "origin"], second.hostPath!), repo);
  assert.equal(await git(["symbolic-ref", "--short", "HEAD"], second.hostPath!), "trunk");
  assert.equal(
    await git(["rev-parse", "--abbrev-ref", "trunk@{upstream}"], second.hostPath!),
    "origin/trunk",
  );
});

Deno.test("prepareWorkspace() git-clone checks out a branch, a tag and a commit sha", async () => {
  await using fx = await createFixture();
  await using daemon = await startGitDaemon(fx.served);
  const repo = daemon.url("app.git");
  const deps = { git: testGit(), log: memoryLog() };
  const cases: [string, string, boolean][] = [
    ["feature", fx.shas.c3, false],
    ["v1.0", fx.shas.c1, true],
    [fx.shas.c3, fx.shas.c3, true],
    [fx.shas.c1.slice(0, 7), fx.shas.c1, true],
    ["refs/heads/feature", fx.shas.c3, false],
  ];
  for (const [i, [ref, sha, detached]] of cases.entries()) {
    const ws = await prepareWorkspace({ type: "git-clone", repo, ref }, {
      jobDir: jobDir(fx, i),
      reposDir: fx.reposDir,
    }, deps);
    assert.equal(ws.commit, sha, ref);
    assert.equal(await git(["rev-parse", "HEAD"], ws.hostPath!), sha, ref);
    const branch = await git(["rev-parse", "--abbrev-ref", "HEAD"], ws.hostPath!);
    assert.equal(branch === "HEAD", detached, `${ref}: HEAD is ${branch}`);
    assert.equal(await git(["status", "--porcelain"], ws.hostPath!), "", "clean checkout");
  }
});

Deno.test("prepareWorkspace() git-clone without ref takes the remote's default branch, not main", async () => {
  await using fx = await createFixture();
  const repo = `file://${fx.bare}`;
  const deps = { git: testGit(), log: memoryLog() };
  const ws = await prepareWorkspace({ type: "git-clone", repo }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, deps);
  assert.equal(ws.commit, fx.shas.c2);
  assert.equal(await git(["symbolic-ref", "--short", "HEAD"], ws.hostPath!), "trunk");
  assert.match(ws.description, /at trunk/);

  // The remote's default branch changes: the next job follows it.
  await git(["symbolic-ref", "HEAD", "refs/heads/feature"], fx.bare);
  const next = await prepareWorkspace({ type: "git-clone", repo, ref: "" }, {
    jobDir: jobDir(fx, 2),
    reposDir: fx.reposDir,
  }, deps);
  assert.equal(next.commit, fx.shas.c3);
  assert.equal(await git(["symbolic-ref", "--short", "HEAD"], next.hostPath!), "feature");
});

Deno.test("prepareWorkspace() git-clone via file:// and a plain path share one mirror", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const a = await prepareWorkspace({ type: "git-clone", repo: `file://${fx.bare}` }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, deps);
  const b = await prepareWorkspace({ type: "git-clone", repo: fx.bare + "/", ref: "feature" }, {
    jobDir: jobDir(fx, 2),
    reposDir: fx.reposDir,
  }, deps);
  assert.equal(a.commit, fx.shas.c2);
  assert.equal(b.commit, fx.shas.c3);
  assert.equal((await mirrors(fx.reposDir)).length, 1);
});

Deno.test("prepareWorkspace() git-clone workspace stands alone: no alternates, works without the mirror", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const ws = await prepareWorkspace({ type: "git-clone", repo: fx.bare, ref: "feature" }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, deps);
  const objects = join(ws.hostPath!, ".git", "objects");
  await assert.rejects(Deno.stat(join(objects, "info", "alternates")), Deno.errors.NotFound);
  // Copied, not hard-linked: the agent cannot reach the mirror's inodes.
  for await (const e of Deno.readDir(join(objects, "pack"))) {
    assert.equal((await Deno.stat(join(objects, "pack", e.name))).nlink, 1, e.name);
  }
  await Deno.remove(fx.reposDir, { recursive: true });
  await git(["fsck", "--no-progress"], ws.hostPath!);
  assert.equal(
    await git(["log", "--format=%H"], ws.hostPath!),
    [fx.shas.c3, fx.shas.c2, fx.shas.c1].join("\n"),
  );
});

Deno.test("prepareWorkspace() git-clone with an unknown ref fails with WorkspaceError naming workspace.ref", async () => {
  await using fx = await createFixture();
  await using daemon = await startGitDaemon(fx.served);
  const deps = { git: testGit(), log: memoryLog() };
  const job = jobDir(fx, 1);
  for (const ref of ["no-such-branch", "deadbeef"]) {
    const e = await prepareWorkspace({ type: "git-clone", repo: daemon.url("app.git"), ref }, {
      jobDir: job,
      reposDir: fx.reposDir,
    }, deps).then(() => undefined, (e: unknown) => e);
    assert.ok(e instanceof WorkspaceError, String(e));
    assert.equal(e.field, "workspace.ref");
    assert.match(
      e.message,
      new RegExp(
        `^Cannot check out workspace\\.ref "${ref}" of git://127\\.0\\.0\\.1:\\d+/app\\.git: ` +
          "no branch, tag or commit of that name \\(git: fatal: ",
      ),
    );
    assert.ok(e.hint?.includes("payload"));
  }
  await assert.rejects(
    Deno.stat(join(job, "workspace")),
    Deno.errors.NotFound,
    "partial workspace removed",
  );
});

Deno.test("prepareWorkspace() git-clone of a missing repository fails with git's message", async () => {
  await using fx = await createFixture();
  await using daemon = await startGitDaemon(fx.served);
  const deps = { git: testGit(), log: memoryLog() };
  for (const repo of [daemon.url("nope.git"), `file://${fx.root}/nope.git`]) {
    const e = await prepareWorkspace({ type: "git-clone", repo }, {
      jobDir: jobDir(fx, 1),
      reposDir: fx.reposDir,
    }, deps).then(() => undefined, (e: unknown) => e);
    assert.ok(e instanceof WorkspaceError, String(e));
    assert.equal(e.field, "workspace.repo");
    assert.ok(e.message.startsWith(`Cannot clone ${repo}: repository not found (git: `), e.message);
    assert.match(e.gitStderr ?? "", /fatal:/);
  }
  assert.deepEqual(await mirrors(fx.reposDir), [], "no half-made mirror is left");
});

Deno.test("prepareWorkspace() never shows URL credentials in errors or logs", async () => {
  await using fx = await createFixture();
  // A server that hangs up on every connection; it keeps its port, so no parallel test's server
  // can take it over (a freed port could, and then the clone would meet that server instead).
  using hangUp = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of hangUp) conn.close();
  })().catch(() => {});
  const port = (hangUp.addr as Deno.NetAddr).port;
  const log = memoryLog();
  const repo = `http://alice:s3cr3t-t0ken@127.0.0.1:${port}/acme/app.git`;
  const e = await prepareWorkspace({ type: "git-clone", repo }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, { git: testGit(), log }).then(() => undefined, (e: unknown) => e);
  assert.ok(e instanceof WorkspaceError);
  assert.ok(e.message.includes(`http://***@127.0.0.1:${port}/acme/app.git`), e.message);
  assert.match(e.message, /cannot connect to 127\.0\.0\.1/);
  for (const text of [e.message, e.hint ?? "", ...log.lines]) {
    assert.ok(!text.includes("s3cr3t"), text);
    assert.ok(!text.includes("alice"), text);
  }
});

Deno.test("prepareWorkspace() git-clone: concurrent jobs on one repository all succeed", async () => {
  await using fx = await createFixture();
  await using daemon = await startGitDaemon(fx.served);
  const repo = daemon.url("app.git");
  const git = recordingGit();
  const deps = { git, log: memoryLog() };
  const refs = ["trunk", "feature", "v1.0", "trunk", "feature", undefined];
  const results = await Promise.all(
    refs.map((ref, i) =>
      prepareWorkspace({ type: "git-clone", repo, ref }, {
        jobDir: jobDir(fx, i),
        reposDir: fx.reposDir,
      }, deps)
    ),
  );
  const want = [fx.shas.c2, fx.shas.c3, fx.shas.c1, fx.shas.c2, fx.shas.c3, fx.shas.c2];
  assert.deepEqual(results.map((r) => r.commit), want);
  assert.equal((await mirrors(fx.reposDir)).length, 1);
  const clones = git.calls.filter((a) => a[0] === "clone" && a.includes("--mirror"));
  assert.equal(clones.length, 1, "one mirror clone for all of them");
});

Deno.test("removeWorkspace() deletes a git-clone workspace and keeps the mirror", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const job = jobDir(fx, 1);
  const ws = await prepareWorkspace({ type: "git-clone", repo: fx.bare }, {
    jobDir: job,
    reposDir: fx.reposDir,
  }, deps);
  await removeWorkspace(job, deps);
  await assert.rejects(Deno.stat(ws.hostPath!), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(join(job, "workspace.json")), Deno.errors.NotFound);
  assert.equal((await mirrors(fx.reposDir)).length, 1);
  await removeWorkspace(job, deps); // twice is fine
});

Deno.test("prepareWorkspace() git-clone rebuilds a damaged mirror and drops dead temp clones", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const target = (n: number) => ({ jobDir: jobDir(fx, n), reposDir: fx.reposDir });
  await prepareWorkspace({ type: "git-clone", repo: fx.bare }, target(1), deps);
  const [name] = await mirrors(fx.reposDir);
  const mirror = join(fx.reposDir, name!);
  // A process killed mid-clone leaves a temp folder; a wiped disk can leave a mirror without HEAD.
  await Deno.mkdir(`${mirror}.tmp-deadbeef`);
  await Deno.remove(join(mirror, "HEAD"));
  const ws = await prepareWorkspace({ type: "git-clone", repo: fx.bare }, target(2), deps);
  assert.equal(ws.commit, fx.shas.c2);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(fx.reposDir))).map((e) => e.name).sort(), [
    name!,
    name!.replace(/\.git$/, ".lock"),
  ]);
  // Objects gone: the fetch reports a broken repository, and the mirror is made again.
  await Deno.remove(join(mirror, "objects"), { recursive: true });
  const again = await prepareWorkspace(
    { type: "git-clone", repo: fx.bare, ref: "feature" },
    target(3),
    deps,
  );
  assert.equal(again.commit, fx.shas.c3);
  assert.ok(deps.log.lines.some((l) => l.includes("event=workspace.mirror.broken")));
});

Deno.test("prepareWorkspace() git-clone of an empty repository gives an empty workspace", async () => {
  await using fx = await createFixture();
  const empty = join(fx.served, "empty.git");
  await git(["init", "--quiet", "--bare", "--initial-branch=trunk", empty]);
  const ws = await prepareWorkspace({ type: "git-clone", repo: empty }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, { git: testGit(), log: memoryLog() });
  assert.equal(ws.commit, undefined);
  assert.match(ws.description, /\(empty repository\)$/);
  assert.deepEqual(
    (await Array.fromAsync(Deno.readDir(ws.hostPath!))).map((e) => e.name),
    [".git"],
  );
  assert.equal(await git(["remote", "get-url", "origin"], ws.hostPath!), empty);
});

Deno.test("prepareWorkspace() git-clone follows refs that moved or changed kind since the last job", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const target = (n: number) => ({ jobDir: jobDir(fx, n), reposDir: fx.reposDir });
  const spec = (ref: string) => ({ type: "git-clone" as const, repo: fx.bare, ref });
  await prepareWorkspace(spec("feature"), target(0), deps);

  // A branch pushed after the mirror was made: unknown to the mirror until the fetch.
  await git(["push", "--quiet", "served", `${fx.shas.c1}:refs/heads/hotfix`], fx.work);
  const hotfix = await prepareWorkspace(spec("hotfix"), target(1), deps);
  assert.equal(hotfix.commit, fx.shas.c1);

  // The branch moved on: the written workspace is brought forward, on its branch, clean.
  const moved = await fx.pushCommit("moved\n");
  const trunk = await prepareWorkspace(spec("trunk"), target(2), deps);
  assert.equal(trunk.commit, moved);
  assert.equal(await git(["symbolic-ref", "--short", "HEAD"], trunk.hostPath!), "trunk");
  assert.equal(await git(["status", "--porcelain"], trunk.hostPath!), "");
  assert.equal(await git(["rev-parse", "origin/trunk"], trunk.hostPath!), moved);
  assert.equal(await Deno.readTextFile(join(trunk.hostPath!, "main.ts")), "moved\n");
  assert.ok(
    deps.log.lines.some((l) => l.includes("event=workspace.advanced") && l.includes("ref=trunk")),
  );

  // A tag force-moved to another commit.
  await git(["push", "--quiet", "--force", "served", `${fx.shas.c3}:refs/tags/v1.0`], fx.work);
  const tag = await prepareWorkspace(spec("v1.0"), target(3), deps);
  assert.equal(tag.commit, fx.shas.c3);
  assert.equal(await git(["rev-parse", "HEAD"], tag.hostPath!), fx.shas.c3);
  assert.equal(await git(["status", "--porcelain"], tag.hostPath!), "");

  // `hotfix` stops being a branch and becomes a tag.
  await git(
    ["push", "--quiet", "served", ":refs/heads/hotfix", `${fx.shas.c2}:refs/tags/hotfix`],
    fx.work,
  );
  const retagged = await prepareWorkspace(spec("hotfix"), target(4), deps);
  assert.equal(retagged.commit, fx.shas.c2);
  assert.equal(await git(["rev-parse", "--abbrev-ref", "HEAD"], retagged.hostPath!), "HEAD");
  assert.equal(await git(["status", "--porcelain"], retagged.hostPath!), "");
  assert.ok(
    deps.log.lines.some((l) => l.includes("event=workspace.recopied") && l.includes("ref=hotfix")),
  );

  // And a branch deleted upstream is gone for the next job, cache or not.
  await git(["push", "--quiet", "served", ":refs/heads/feature"], fx.work);
  const gone = await prepareWorkspace(spec("feature"), target(5), deps).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(gone instanceof WorkspaceError);
  assert.equal(gone.field, "workspace.ref");
  await assert.rejects(Deno.stat(join(jobDir(fx, 5), "workspace")), Deno.errors.NotFound);
});

Deno.test("prepareWorkspace() git-clone checks out a fork's pull request commit by its sha", async () => {
  await using fx = await createFixture();
  // A fork's commit is in no branch of the repository, only under refs/pull/<n>/head, as on
  // GitHub; the github-pr template checks out .body.pull_request.head.sha.
  await git(["checkout", "--quiet", "-b", "fork-fix", fx.shas.c2], fx.work);
  const forkSha = await commit(fx.work, "fix.ts", "export const fixed = true;\n");
  await git(["push", "--quiet", "served", "fork-fix:refs/pull/7/head"], fx.work);
  await git(["checkout", "--quiet", "trunk"], fx.work);
  await using daemon = await startGitDaemon(fx.served);
  const ws = await prepareWorkspace(
    { type: "git-clone", repo: daemon.url("app.git"), ref: forkSha },
    { jobDir: jobDir(fx, 1), reposDir: fx.reposDir },
    { git: testGit(), log: memoryLog() },
  );
  assert.equal(ws.commit, forkSha);
  assert.equal(await git(["rev-parse", "HEAD"], ws.hostPath!), forkSha);
  assert.ok(await Deno.stat(`${ws.hostPath}/fix.ts`));
});
