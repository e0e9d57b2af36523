/**
 * A damaged job database (a stray or half-copied `data/<pylon>/jobs.db`) takes its pylon out of
 * service, never the daemon: the other pylons keep serving, the pylon's path answers 503, the log
 * names the file and the fix, and no container is pruned as an orphan while one database is
 * unread (its running jobs would look unknown).
 */

import assert from "node:assert/strict";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";

const yaml = (name: string) =>
  `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nagent:\n  prompt: hi\n`;

async function post(url: string) {
  const res = await fetch(url, { method: "POST", body: "{}" });
  return { status: res.status, body: await res.text() };
}

const notLoaded = (name: string) =>
  JSON.stringify({ error: `pylon ${name} is not loaded; see the daemon log` });

Deno.test("a damaged jobs.db at start skips its pylon, not the daemon, and prunes no orphans", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-damaged-" });
  await writeHome(root, {
    "pylons/hook/pylon.yaml": yaml("hook"),
    "pylons/ghost/pylon.yaml": yaml("ghost"),
    "data/ghost/jobs.db": "this is not a database\n",
  });
  let prunes = 0;
  const runner = Object.assign(createScriptedRunner(), {
    pruneOrphans: () => {
      prunes++;
      return Promise.resolve();
    },
  });
  const d = await startTestDaemon(root, { runner });
  try {
    assert.equal((await post(`${d.url}/hook`)).status, 202);
    assert.deepEqual(await post(`${d.url}/ghost`), { status: 503, body: notLoaded("ghost") });
    const line = await d.waitForLog(/event=store\.failed pylon=ghost/);
    assert.match(line, /file=\S*data\/ghost\/jobs\.db /);
    assert.match(line, /not a database/);
    assert.match(line, /hint="the file is damaged or not a job database; move it away/);
    assert.match(line, /path=\/ghost /);
    const banner = d.out.join("");
    assert.match(banner, /ghost {2,}FAIL {2}.*not a database/);
    assert.match(banner, /\n1 pylon active/);
    assert.match(await d.waitForLog(/event=orphans\.skipped/), /ghost cannot be opened/);
    assert.equal(prunes, 0);
    // The file is left for the operator to look at.
    assert.equal(
      await Deno.readTextFile(`${root}/data/ghost/jobs.db`),
      "this is not a database\n",
    );

    // Moved away and the pylon file saved again: the pylon loads with a fresh database.
    await Deno.rename(`${root}/data/ghost/jobs.db`, `${root}/data/ghost/jobs.db.broken`);
    await writeHome(root, { "pylons/ghost/pylon.yaml": yaml("ghost") + "\n" });
    await d.waitForLog(/event=pylon\.added pylon=ghost/, 3000);
    await eventually(async () => (await post(`${d.url}/ghost`)).status === 202);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a pylon added while running beside a damaged jobs.db answers 503 and is logged by name", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-damaged-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook") });
  const d = await startTestDaemon(root);
  try {
    await writeHome(root, { "data/ghost/jobs.db": "junk\n" });
    await writeHome(root, { "pylons/ghost/pylon.yaml": yaml("ghost") });
    const line = await d.waitForLog(/event=store\.failed pylon=ghost/, 3000);
    assert.match(line, /file=\S*data\/ghost\/jobs\.db .*path=\/ghost /);
    assert.deepEqual(await post(`${d.url}/ghost`), { status: 503, body: notLoaded("ghost") });
    assert.equal((await post(`${d.url}/hook`)).status, 202);
    assert.equal(d.logs.filter((l) => /watch\.failed/.test(l)).length, 0, d.logs.join("\n"));
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
