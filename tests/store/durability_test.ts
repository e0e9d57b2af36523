import assert from "node:assert/strict";
import { join } from "node:path";
import { openJobStore } from "../../src/store/mod.ts";

const CHILD = new URL("./_child.ts", import.meta.url).pathname;

function spawnChild(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CHILD, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-durability-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("JobStore keeps every acknowledged insert when its process is killed with SIGKILL", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "jobs.db");
    const child = spawnChild(["durability", path]);
    const stderr = new Response(child.stderr).text();
    const printed: string[] = [];
    let buffer = "";
    let killed = false;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      printed.push(...lines);
      if (!killed && printed.length >= 300) {
        child.kill("SIGKILL");
        killed = true;
      }
    }
    const status = await child.status;
    assert.ok(killed, `the child ended by itself: ${await stderr}`);
    assert.equal(status.signal, "SIGKILL", await stderr);
    assert.ok(printed.every((id) => /^[0-9a-f-]{36}$/.test(id)), "only whole ids are counted");

    await using store = await openJobStore(path, { pylon: "child" });
    const missing = [];
    for (const id of printed) if (!(await store.get(id))) missing.push(id);
    assert.deepEqual(missing, [], `${missing.length} of ${printed.length} printed ids were lost`);
    const rows = (await store.list({ limit: 1_000_000 })).length;
    assert.ok(rows >= printed.length, `${rows} rows for ${printed.length} printed ids`);
  });
});

Deno.test("JobStore.insert() dedupes one delivery id across concurrent processes", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "jobs.db");
    // Create the schema first so the children race on the insert, not on the migration.
    await (await openJobStore(path, { pylon: "child" })).close();
    const startAt = String(Date.now() + 1_500);
    const children = Array.from({ length: 6 }, () => spawnChild(["dedupe", path, "gh-1", startAt]));
    const outputs = await Promise.all(children.map((c) => c.output()));
    const results = outputs.map((o) => {
      assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
      return JSON.parse(new TextDecoder().decode(o.stdout)) as { id: string; created: boolean };
    });
    assert.equal(results.filter((r) => r.created).length, 1);
    assert.equal(new Set(results.map((r) => r.id)).size, 1);
    await using store = await openJobStore(path, { pylon: "child" });
    assert.equal((await store.list({ limit: 100 })).length, 1);
  });
});
