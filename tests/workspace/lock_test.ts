import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareWorkspace } from "../../src/workspace/mod.ts";
import { createFixture, jobDir, memoryLog, startGitDaemon, testGit } from "./_fixture.ts";

const CHILD = fileURLToPath(new URL("./_child.ts", import.meta.url));

async function runChild(args: string[]): Promise<{ commit?: string; error?: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(text);
}

Deno.test("prepareWorkspace() git-clone: separate processes share one mirror safely", async () => {
  await using fx = await createFixture();
  await using daemon = await startGitDaemon(fx.served);
  const repo = daemon.url("app.git");
  const refs = ["trunk", "feature", "v1.0", "trunk"];
  const results = await Promise.all(
    refs.map((ref, i) => runChild([repo, jobDir(fx, i), fx.reposDir, ref])),
  );
  assert.deepEqual(results, [
    { commit: fx.shas.c2 },
    { commit: fx.shas.c3 },
    { commit: fx.shas.c1 },
    { commit: fx.shas.c2 },
  ]);
  const names = (await Array.fromAsync(Deno.readDir(fx.reposDir))).map((e) => e.name).sort();
  assert.equal(names.length, 2, names.join(", "));
  assert.match(names[0]!, /^[0-9a-f]{16}\.git$/);
  assert.equal(names[1], names[0]!.replace(/\.git$/, ".lock"));
});

Deno.test("prepareWorkspace() git-clone waits for another process holding the mirror's lock", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const target = (n: number) => ({ jobDir: jobDir(fx, n), reposDir: fx.reposDir });
  await prepareWorkspace({ type: "git-clone", repo: fx.bare }, target(1), deps);
  const lockFile = (await Array.fromAsync(Deno.readDir(fx.reposDir)))
    .map((e) => join(fx.reposDir, e.name)).find((p) => p.endsWith(".lock"))!;

  // flock(1) holds the same advisory lock for 600 ms, as a second daemon would.
  const holder = new Deno.Command("flock", {
    args: ["--exclusive", lockFile, "sh", "-c", "echo held; sleep 0.6"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = holder.stdout.getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value).trim(), "held");
  const started = performance.now();
  const ws = await prepareWorkspace({ type: "git-clone", repo: fx.bare }, target(2), deps);
  const waited = performance.now() - started;
  reader.releaseLock();
  await holder.stdout.cancel();
  assert.equal((await holder.status).code, 0);
  assert.equal(ws.commit, fx.shas.c2);
  assert.ok(waited >= 400, `waited only ${waited} ms`);
});

Deno.test("prepareWorkspace() git-clone: a burst of jobs fetches once, not once per job", async () => {
  await using fx = await createFixture();
  const deps = { git: testGit(), log: memoryLog() };
  const target = (n: number) => ({ jobDir: jobDir(fx, n), reposDir: fx.reposDir });
  await prepareWorkspace({ type: "git-clone", repo: fx.bare }, target(0), deps);
  const pushed = await fx.pushCommit("burst\n");
  const results = await Promise.all(
    [1, 2, 3, 4, 5].map((n) =>
      prepareWorkspace({ type: "git-clone", repo: fx.bare, ref: "trunk" }, target(n), deps)
    ),
  );
  assert.deepEqual(results.map((r) => r.commit), Array(5).fill(pushed));
  const fetches = deps.log.lines.filter((l) => l.includes("event=workspace.mirror.fetched"));
  assert.ok(fetches.length >= 1 && fetches.length < 5, `${fetches.length} fetches`);
});
