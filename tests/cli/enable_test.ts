/** `pylon enable` / `pylon disable`: through the daemon when it runs, the file otherwise. */

import assert from "node:assert/strict";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";
import { eventually, startTestDaemon } from "../_helpers/daemon.ts";

const YAML = `# Nightly audit.
name: audit
trigger:
  type: webhook
  path: /audit # sender posts here
agent:
  prompt: p
workspace:
  type: none
`;

Deno.test("pylon disable / enable edit pylon.yaml when no daemon runs, keeping comments", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "audit", YAML);
  const file = ctx.paths.pylonConfig("audit");
  assert.equal(await cli(ctx, "disable", "audit"), 0, ctx.stderr());
  assert.match(ctx.stdout(), /Pylon "audit" disabled \(the daemon is not running/);
  assert.equal(
    await Deno.readTextFile(file),
    YAML.replace("name: audit\n", "name: audit\ndisabled: true\n"),
  );
  assert.equal(await cli(ctx, "disable", "audit"), 0);
  assert.match(ctx.stdout(), /Pylon "audit" is already disabled\.\n$/);
  assert.equal(await cli(ctx, "enable", "audit"), 0);
  assert.equal(await Deno.readTextFile(file), YAML);
  assert.equal(await cli(ctx, "enable", "nope"), 1);
  assert.match(ctx.stderr(), /Pylon "nope" does not exist/);
});

Deno.test("pylon disable / enable go through the running daemon, which applies them at once", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "audit", YAML);
  const d = await startTestDaemon(ctx.paths.root);
  try {
    assert.equal(await cli(ctx, "disable", "audit"), 0, ctx.stderr());
    assert.equal(ctx.stdout(), 'Pylon "audit" disabled.\n');
    assert.ok(d.logs.some((l) => /event=pylon\.disable_requested/.test(l)));
    // The API's reload and the file watcher's of the same write: the log says "disabled" once.
    await eventually(() =>
      Promise.resolve(
        d.logs.some((l) => /event=pylon\.reloaded pylon=audit state=disabled/.test(l)),
      )
    );
    assert.equal(d.logs.filter((l) => /event=pylon\.disabled pylon=audit/.test(l)).length, 1);
    const ignored = await fetch(`${d.url}/audit`, { method: "POST", body: "{}" });
    assert.equal((await ignored.json()).status, "ignored");
    // Not a POST: 405 as on an active pylon's path, saying the pylon is disabled.
    const got = await fetch(`${d.url}/audit`);
    assert.equal(got.status, 405);
    assert.equal(got.headers.get("allow"), "POST");
    assert.deepEqual(await got.json(), { error: "use POST for /audit (pylon audit is disabled)" });
    assert.equal(await cli(ctx, "enable", "audit"), 0, ctx.stderr());
    assert.match(ctx.stdout(), /Pylon "audit" enabled\.\n$/);
    assert.ok(d.logs.some((l) => /event=pylon\.enabled pylon=audit/.test(l)), d.logs.join("\n"));
    assert.equal(await Deno.readTextFile(ctx.paths.pylonConfig("audit")), YAML);
    const accepted = await fetch(`${d.url}/audit`, { method: "POST", body: "{}" });
    assert.equal(accepted.status, 202);
    await accepted.body?.cancel();
  } finally {
    await d.stop();
  }
});

Deno.test("toggling a pylon quickly ends in the state asked last, whatever the file watcher reloads", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "audit", YAML);
  const d = await startTestDaemon(ctx.paths.root);
  const toggle = async (verb: "enable" | "disable") => {
    const res = await d.api(`/api/pylons/audit/${verb}`, { method: "POST" });
    assert.equal(res.status, 200, await res.clone().text());
    return await res.json();
  };
  try {
    // The watcher reloads each write about 100 ms later: these toggles land before, inside and
    // after those reloads. The last answer, and the pylon's path, must follow the last request.
    for (let i = 0; i < 24; i++) {
      await toggle("disable");
      await new Promise((r) => setTimeout(r, (i * 13) % 160));
      assert.equal((await toggle("enable")).state, "active");
      const res = await fetch(`${d.url}/audit`, { method: "POST", body: "{}" });
      const body = await res.text();
      assert.equal(res.status, 202, `round ${i}: ${body}`);
    }
  } finally {
    await d.stop();
  }
});
