import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareWorkspace, removeWorkspace, WorkspaceError } from "../../src/workspace/mod.ts";
import { createFixture, git, jobDir, memoryLog, testGit } from "./_fixture.ts";

Deno.test("prepareWorkspace() git-worktree adds a detached worktree with the minimal mounts", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const job = jobDir(fx, 1);
  const ws = await prepareWorkspace({ type: "git-worktree", repo: fx.work, ref: "feature" }, {
    jobDir: job,
    reposDir: fx.reposDir,
  }, deps);
  const path = join(job, "workspace");
  assert.equal(ws.hostPath, path);
  assert.equal(ws.commit, fx.shas.c3);
  assert.equal(await git(["rev-parse", "HEAD"], path), fx.shas.c3);
  assert.equal(await git(["rev-parse", "--abbrev-ref", "HEAD"], path), "HEAD", "detached");
  // `feature` stays free for the user: it is not checked out in the worktree.
  await git(["checkout", "--quiet", "feature"], fx.work);
  await git(["checkout", "--quiet", "trunk"], fx.work);

  const gitFile = await Deno.readTextFile(join(path, ".git"));
  const admin = /^gitdir: (.+)$/m.exec(gitFile)![1]!.trim();
  const common = join(fx.work, ".git");
  assert.ok(admin.startsWith(join(common, "worktrees") + "/"), admin);
  assert.deepEqual(ws.extraMounts, [
    { hostPath: common, containerPath: common, readOnly: true },
    { hostPath: admin, containerPath: admin, readOnly: false },
  ]);
  assert.ok((await git(["worktree", "list", "--porcelain"], fx.work)).includes(`worktree ${path}`));
  await assert.rejects(Deno.stat(fx.reposDir), Deno.errors.NotFound, "no mirror, no fetch");

  await removeWorkspace(job, deps);
  await assert.rejects(Deno.stat(path), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(admin), Deno.errors.NotFound, "registration removed");
  assert.ok(!(await git(["worktree", "list", "--porcelain"], fx.work)).includes(path));
});

Deno.test("prepareWorkspace() git-worktree defaults to HEAD, expands ~ and takes tags and shas", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog(), home: fx.root };
  const cases: [string | undefined, string][] = [
    [undefined, fx.shas.c2],
    ["v1.0", fx.shas.c1],
    [fx.shas.c3.slice(0, 8), fx.shas.c3],
  ];
  for (const [i, [ref, sha]] of cases.entries()) {
    const ws = await prepareWorkspace({ type: "git-worktree", repo: "~/work", ref }, {
      jobDir: jobDir(fx, i),
      reposDir: fx.reposDir,
    }, deps);
    assert.equal(ws.commit, sha, String(ref));
  }
  const list = await git(["worktree", "list", "--porcelain"], fx.work);
  assert.equal(list.split("\n").filter((l) => l.startsWith("worktree ")).length, 4);
  for (const i of [0, 1, 2]) await removeWorkspace(jobDir(fx, i), deps);
  const after = await git(["worktree", "list", "--porcelain"], fx.work);
  assert.equal(after.split("\n").filter((l) => l.startsWith("worktree ")).length, 1);
});

Deno.test("prepareWorkspace() git-worktree works on a bare repository", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const ws = await prepareWorkspace({ type: "git-worktree", repo: fx.bare, ref: "trunk" }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, deps);
  assert.equal(ws.commit, fx.shas.c2);
  assert.equal(ws.extraMounts[0]!.hostPath, fx.bare);
  await removeWorkspace(jobDir(fx, 1), deps);
  assert.equal(
    await git(["worktree", "list", "--porcelain"], fx.bare),
    `worktree ${fx.bare}\nbare`,
  );
});

Deno.test("prepareWorkspace() git-worktree errors name the field", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  await Deno.mkdir(join(fx.work, "sub"));
  const cases: [string, string | undefined, string, RegExp][] = [
    [
      fx.work,
      "nope",
      "workspace.ref",
      /^Cannot check out workspace\.ref "nope" of .*: no branch, tag or commit of that name \(git: fatal: /,
    ],
    [join(fx.root, "missing"), undefined, "workspace.repo", /: no such folder$/],
    [fx.root, undefined, "workspace.repo", /is not the top folder of a git repository/],
    [
      join(fx.work, "sub"),
      undefined,
      "workspace.repo",
      /is not the top folder of a git repository/,
    ],
    ["https://example.com/r.git", undefined, "workspace.repo", /it is not an absolute path/],
  ];
  for (const [repo, ref, field, message] of cases) {
    const e = await prepareWorkspace({ type: "git-worktree", repo, ref }, {
      jobDir: jobDir(fx, 1),
      reposDir: fx.reposDir,
    }, deps).then(() => undefined, (e: unknown) => e);
    assert.ok(e instanceof WorkspaceError, `${repo}: ${e}`);
    assert.equal(e.field, field, e.message);
    assert.match(e.message, message);
  }
  assert.equal(
    await git(["worktree", "list", "--porcelain"], fx.work),
    `worktree ${fx.work}\nHEAD ${fx.shas.c2}\nbranch refs/heads/trunk`,
  );
});

Deno.test("removeWorkspace() unregisters a worktree whose folder is already gone", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const job = jobDir(fx, 1);
  await prepareWorkspace({ type: "git-worktree", repo: fx.work }, {
    jobDir: job,
    reposDir: fx.reposDir,
  }, deps);
  await Deno.remove(join(job, "workspace"), { recursive: true });
  await removeWorkspace(job, deps);
  assert.equal(
    (await git(["worktree", "list", "--porcelain"], fx.work)).split("\n\n").length,
    1,
  );
});
