import assert from "node:assert/strict";
import { collectChecks } from "../../src/cli/commands/doctor.ts";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";
import { fakeDocker, offline } from "./_doctor.ts";

/** A pylon mounting a harmless-looking link to /etc, and /root/.ssh. */
async function sneakyHome() {
  const ctx = await createTestContext();
  const link = `${ctx.paths.root}/innocent`;
  await Deno.symlink("/etc", link);
  await writePylon(
    ctx,
    "sneaky",
    "name: sneaky\ntrigger:\n  type: webhook\n  path: /sneaky\nagent:\n  prompt: hi\n" +
      `  volumes:\n    - "${link}:/data:ro"\n    - "/root/.ssh:/keys:ro"\n`,
  );
  return ctx;
}

Deno.test("pylon edit and pylon doctor apply the mount rule through symlinks at config time", async (t) => {
  await using ctx = await sneakyHome();
  await t.step("edit", async () => {
    assert.equal(await cli(ctx, "edit", "sneaky"), 1);
    assert.match(
      ctx.stderr(),
      /pylon\.yaml:8:\d+: agent\.volumes\[0\]: .*mounting it is not allowed/,
    );
    assert.match(
      ctx.stderr(),
      /agent\.volumes\[1\]: "\/root\/\.ssh:\/keys:ro": mounting it is not allowed/,
    );
  });
  await t.step("doctor", async () => {
    const checks = await collectChecks(ctx, { docker: fakeDocker, fetch: offline });
    const c = checks.find((x) => x.label === "sneaky");
    assert.equal(c?.status, "FAIL", JSON.stringify(checks));
    assert.match(c.detail, /agent\.volumes\[0\]: .*mounting it is not allowed/);
  });
});

Deno.test("a pylon's mount problems are listed in the order of its lines", async () => {
  await using ctx = await createTestContext();
  // Outside the pylon home, so what it points to is the problem.
  const outside = await Deno.makeTempDir({ prefix: "pylon-mount-order-" });
  await using _ = { [Symbol.asyncDispose]: () => Deno.remove(outside, { recursive: true }) };
  const link = `${outside}/innocent`;
  await Deno.symlink("/etc", link);
  await writePylon(
    ctx,
    "sneaky",
    "name: sneaky\ntrigger:\n  type: webhook\n  path: /sneaky\nagent:\n  prompt: hi\n" +
      `  volumes:\n    - "${link}:/data:ro"\n    - "/root/.ssh:/keys:ro"\n    - "/srv:/workspace/x"\n`,
  );
  assert.equal(await cli(ctx, "edit", "sneaky"), 1);
  const lines = [...ctx.stderr().matchAll(/pylon\.yaml:(\d+):\d+: agent\.volumes\[(\d)\]/g)]
    .map((m) => `${m[1]}:${m[2]}`);
  assert.deepEqual(lines, ["8:0", "9:1", "10:2"], ctx.stderr());
  assert.match(ctx.stderr(), /it resolves to \/etc, and \/etc is a system folder/);
});
