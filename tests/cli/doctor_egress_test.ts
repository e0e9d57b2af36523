/**
 * `pylon doctor`'s egress row (issue 19): a webhook pylon that strangers can reach and whose
 * agent may reach any host is a WARN naming the fix; a pylon with a list says which hosts.
 */

import assert from "node:assert/strict";
import { collectChecks } from "../../src/cli/commands/doctor.ts";
import type { Check } from "../../src/cli/doctor/mod.ts";
import { createTestContext } from "../_helpers/cli.ts";
import { fakeDocker, freePort, offline } from "./_doctor.ts";

async function egressRow(server: string, agent: string): Promise<Check | undefined> {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(ctx.paths.globalConfig, `server:\n  port: ${freePort()}\n${server}`);
  const dir = `${ctx.paths.root}/pylons/hook`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    `${dir}/pylon.yaml`,
    "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  type: custom\n" +
      `  image: busybox\n  prompt: go\n${agent}`,
  );
  const checks = await collectChecks(ctx, { docker: fakeDocker, fetch: offline });
  return checks.find((c) => c.label === "hook egress");
}

Deno.test("doctor warns about egress: any for a webhook pylon that strangers can reach", async (t) => {
  await t.step("public_url and no list: WARN with the fix", async () => {
    const row = await egressRow("  public_url: https://pylon.example.com\n", "");
    assert.equal(row?.status, "WARN");
    assert.match(row!.detail, /from the internet.*any host/);
    assert.match(row!.hint!, /agent\.egress.*pylon edit hook/);
  });
  await t.step("listening on loopback only: no warning", async () => {
    const row = await egressRow("  host: 127.0.0.1\n", "");
    assert.equal(row?.status, "--");
  });
  await t.step("a list: ok, naming the hosts", async () => {
    const row = await egressRow(
      "  public_url: https://pylon.example.com\n",
      "  egress: [api.github.com]\n",
    );
    assert.equal(row?.status, "ok");
    assert.match(row!.detail, /api\.github\.com/);
  });
});
