/**
 * `pylon doctor`'s row about the web dashboard (`server.dashboard`): a WARN when it is served
 * over plain http on a non-loopback address without an https `public_url`; and the field's
 * validation.
 */

import assert from "node:assert/strict";
import { collectChecks } from "../../src/cli/commands/doctor.ts";
import type { Check } from "../../src/cli/doctor/mod.ts";
import { createTestContext } from "../_helpers/cli.ts";
import { fakeDocker, freePort, offline } from "./_doctor.ts";

async function dashboardRow(server: string): Promise<Check> {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(ctx.paths.globalConfig, `server:\n  port: ${freePort()}\n${server}`);
  const checks = await collectChecks(ctx, { docker: fakeDocker, fetch: offline });
  const row = checks.find((c) => c.label === "Web dashboard");
  assert.ok(row, JSON.stringify(checks.map((c) => c.label)));
  return row;
}

Deno.test("doctor warns when the dashboard is served over plain http to other machines", async (t) => {
  await t.step("on all interfaces, no public_url: WARN with the fixes", async () => {
    const row = await dashboardRow("  host: 0.0.0.0\n");
    assert.equal(row.status, "WARN");
    assert.match(row.detail, /plain http on 0\.0\.0\.0/);
    assert.match(row.hint!, /https:\/\/ URL.*127\.0\.0\.1.*server\.dashboard: false/);
  });
  await t.step("an http public_url does not help", async () => {
    const row = await dashboardRow("  host: 10.0.0.5\n  public_url: http://pylon.example.com\n");
    assert.equal(row.status, "WARN");
  });
  await t.step("behind an https public_url: ok", async () => {
    const row = await dashboardRow("  host: 0.0.0.0\n  public_url: https://pylon.example.com\n");
    assert.equal(row.status, "ok");
    assert.match(row.detail, /behind https:\/\/pylon\.example\.com/);
  });
  await t.step("on loopback: ok", async () => {
    assert.equal((await dashboardRow("  host: 127.0.0.1\n")).status, "ok");
  });
  await t.step("turned off: nothing to warn about", async () => {
    const row = await dashboardRow("  host: 0.0.0.0\n  dashboard: false\n");
    assert.equal(row.status, "--");
    assert.match(row.detail, /server\.dashboard: false/);
  });
});

Deno.test("server.dashboard must be true or false, and the error names the file and field", async () => {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(ctx.paths.globalConfig, "server:\n  dashboard: maybe\n");
  const checks = await collectChecks(ctx, { docker: fakeDocker, fetch: offline });
  const config = checks.find((c) => c.label === "Config")!;
  assert.equal(config.status, "FAIL");
  assert.match(config.detail, /config\.yaml:2.*server\.dashboard.*true or false/);
});
