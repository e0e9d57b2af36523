/**
 * The pylon home holds payloads, results, agent state and the API token: it is private to the
 * user running pylon. A home made with loose modes is tightened at start; what pylon creates is
 * 0700 (folders) and 0600 (its own files).
 */

import assert from "node:assert/strict";
import { cli, createTestContext } from "../_helpers/cli.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o777).toString(8);
}

Deno.test("the daemon makes a loose home private and creates its databases 0600", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-perm-" });
  await writeHome(root, {
    "pylons/hook/pylon.yaml":
      "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: hi\n",
  });
  await Deno.chmod(root, 0o755);
  await Deno.chmod(`${root}/pylons`, 0o775);
  const d = await startTestDaemon(root);
  try {
    const res = await fetch(`${d.url}/hook`, { method: "POST", body: "{}" });
    assert.equal(res.status, 202);
    await res.body?.cancel();
    await d.waitForLog(/event=home\.tightened/);
    for (const dir of [root, `${root}/pylons`, `${root}/data`, `${root}/data/hook`]) {
      assert.equal(await mode(dir), "700", dir);
    }
    for (const file of ["jobs.db", "jobs.db-wal", "jobs.db-shm"]) {
      assert.equal(await mode(`${root}/data/hook/${file}`), "600", file);
    }
    assert.equal(await mode(`${root}/daemon.lock`), "600");
    assert.equal(await mode(`${root}/daemon.token`), "600");
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("pylon construct on a new machine creates a private home", async () => {
  await using ctx = await createTestContext();
  await Deno.remove(ctx.paths.root, { recursive: true });
  assert.equal(await cli(ctx, "construct", "audit", "--from", "blank"), 0, ctx.stderr());
  assert.equal(await mode(ctx.paths.root), "700");
  assert.equal(await mode(ctx.paths.pylonDir("audit")), "700");
});
