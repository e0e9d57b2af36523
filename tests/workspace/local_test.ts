import assert from "node:assert/strict";
import { join } from "node:path";
import { prepareWorkspace, removeWorkspace, WorkspaceError } from "../../src/workspace/mod.ts";
import { createFixture, jobDir, memoryLog, recordingGit, testGit } from "./_fixture.ts";

Deno.test("prepareWorkspace() local resolves ~ and symlinks and is never deleted", async () => {
  await using fx = await createFixture();
  const project = join(fx.root, "project");
  await Deno.mkdir(project);
  await Deno.writeTextFile(join(project, "keep.txt"), "mine\n");
  await Deno.symlink(project, join(fx.root, "link"));
  const git = recordingGit();
  const deps = { git, log: memoryLog(), home: fx.root };
  const job = jobDir(fx, 1);
  const ws = await prepareWorkspace({ type: "local", path: "~/link" }, {
    jobDir: job,
    reposDir: fx.reposDir,
  }, deps);
  assert.deepEqual(ws, {
    hostPath: project,
    readOnly: false,
    extraMounts: [],
    description: `local folder ${project} (~/link)`,
  });
  await removeWorkspace(job, deps);
  assert.equal(await Deno.readTextFile(join(project, "keep.txt")), "mine\n");
  assert.deepEqual(git.calls, [], "no git for a local workspace");
});

Deno.test("prepareWorkspace() local refuses missing paths, files and host folders", async () => {
  await using fx = await createFixture();
  const file = join(fx.root, "file.txt");
  await Deno.writeTextFile(file, "x");
  const cases: [string | undefined, RegExp][] = [
    [join(fx.root, "missing"), /^Cannot use workspace\.path ".*missing": no such folder$/],
    [file, /is not a folder$/],
    [undefined, /it is not set$/],
    ["relative/dir", /it is not an absolute path$/],
    ["/", /mounting it is not allowed: \/ is the whole host$/],
    ["/etc/..//etc", /mounting it is not allowed: \/etc is a system folder$/],
    ["/proc/self", /\/proc\/self is inside the system folder \/proc$/],
    ["/root", /\/root is a home folder$/],
    ["/var/run", /holds the Docker socket/],
  ];
  for (const [path, message] of cases) {
    const e = await prepareWorkspace({ type: "local", path }, {
      jobDir: jobDir(fx, 1),
      reposDir: fx.reposDir,
    }, { git: testGit(), log: memoryLog() }).then(() => undefined, (e: unknown) => e);
    assert.ok(e instanceof WorkspaceError, `${path}: ${e}`);
    assert.equal(e.field, "workspace.path");
    assert.match(e.message, message);
  }
});

Deno.test("prepareWorkspace() none creates an empty folder, removeWorkspace deletes it", async () => {
  await using fx = await createFixture();
  const deps = { git: recordingGit(), log: memoryLog() };
  const job = jobDir(fx, 1);
  const ws = await prepareWorkspace({ type: "none" }, { jobDir: job, reposDir: fx.reposDir }, deps);
  assert.equal(ws.hostPath, join(job, "workspace"));
  assert.deepEqual(ws.extraMounts, []);
  assert.equal((await Array.fromAsync(Deno.readDir(ws.hostPath!))).length, 0);
  await Deno.writeTextFile(join(ws.hostPath!, "made-by-agent.txt"), "x");
  await removeWorkspace(job, deps);
  await assert.rejects(Deno.stat(ws.hostPath!), Deno.errors.NotFound);
  assert.deepEqual(deps.git.calls, []);
});

Deno.test("prepareWorkspace() replaces leftovers of an earlier attempt", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const job = jobDir(fx, 1);
  await Deno.mkdir(join(job, "workspace"), { recursive: true });
  await Deno.writeTextFile(join(job, "workspace", "stale.txt"), "old");
  const ws = await prepareWorkspace({ type: "git-clone", repo: fx.bare }, {
    jobDir: job,
    reposDir: fx.reposDir,
  }, deps);
  await assert.rejects(Deno.stat(join(ws.hostPath!, "stale.txt")), Deno.errors.NotFound);
  assert.equal(ws.commit, fx.shas.c2);
});

Deno.test("prepareWorkspace() reuse continues in the previous workspace without git", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const first = await prepareWorkspace({ type: "git-clone", repo: fx.bare }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, deps);
  await Deno.writeTextFile(join(first.hostPath!, "agent-change.txt"), "keep me");
  const git = recordingGit();
  const again = await prepareWorkspace({ type: "git-clone", repo: fx.bare }, {
    jobDir: jobDir(fx, 2),
    reposDir: fx.reposDir,
    reuse: first.hostPath!,
  }, { git, log: deps.log });
  assert.equal(again.hostPath, first.hostPath);
  assert.equal(await Deno.readTextFile(join(again.hostPath!, "agent-change.txt")), "keep me");
  assert.match(again.description, /continued$/);
  assert.deepEqual(git.calls, []);
  await assert.rejects(Deno.stat(join(jobDir(fx, 2), "workspace")), Deno.errors.NotFound);
});

Deno.test("prepareWorkspace() reuse of a worktree keeps its mounts", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const first = await prepareWorkspace({ type: "git-worktree", repo: fx.work }, {
    jobDir: jobDir(fx, 1),
    reposDir: fx.reposDir,
  }, deps);
  const again = await prepareWorkspace({ type: "git-worktree", repo: fx.work }, {
    jobDir: jobDir(fx, 2),
    reposDir: fx.reposDir,
    reuse: first.hostPath!,
  }, deps);
  assert.equal(again.hostPath, first.hostPath);
  assert.deepEqual(again.extraMounts, first.extraMounts);
  await removeWorkspace(jobDir(fx, 1), deps);
});

Deno.test("prepareWorkspace() reuse of a vanished workspace prepares a new one", async () => {
  await using fx = await createFixture();
  const log = memoryLog();
  const ws = await prepareWorkspace({ type: "git-clone", repo: fx.bare, ref: "feature" }, {
    jobDir: jobDir(fx, 2),
    reposDir: fx.reposDir,
    reuse: join(jobDir(fx, 1), "workspace"),
  }, { git: testGit(), log });
  assert.equal(ws.hostPath, join(jobDir(fx, 2), "workspace"));
  assert.equal(ws.commit, fx.shas.c3);
  assert.ok(log.lines.some((l) => l.includes("event=workspace.reuse_missing")));
});
