import assert from "node:assert/strict";
import { collectChecks } from "../../src/cli/commands/doctor.ts";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";
import { fakeDocker, offline } from "./_doctor.ts";

const WEBHOOK = (name: string, path: string, extra = "") =>
  `name: ${name}\n${extra}trigger:\n  type: webhook\n  path: ${path}\nagent:\n  prompt: hi\n`;

/** `b` (line 4) loses /shared to `a` (line 5, after a description line). */
async function clashingHome() {
  const ctx = await createTestContext();
  await writePylon(ctx, "a", WEBHOOK("a", "/shared", "description: first\n"));
  await writePylon(ctx, "b", WEBHOOK("b", "/shared/"));
  return ctx;
}

const LOSER_REGEXP =
  /pylons\/b\/pylon\.yaml:4(:\d+)?: trigger\.path: \/shared is also the path of pylon "a" \(.*pylons\/a\/pylon\.yaml:5\), which takes it/;

/** `a` serves /shared and is flagged too, naming `b`'s file and line. */
const WINNER_REGEXP =
  /pylons\/a\/pylon\.yaml:5(:\d+)?: trigger\.path: \/shared is also the path of pylon "b" \(.*pylons\/b\/pylon\.yaml:4\); this pylon serves it/;

Deno.test("pylon list reports two pylons on one path with both files and lines", async () => {
  await using ctx = await clashingHome();
  assert.equal(await cli(ctx, "list"), 0);
  assert.match(ctx.stdout(), /^a\s+webhook\s+\/shared\s+first \(path shared, see below\)$/m);
  assert.match(ctx.stdout(), LOSER_REGEXP);
  assert.match(ctx.stdout(), WINNER_REGEXP);
  const before = ctx.stdout().length;
  assert.equal(await cli(ctx, "list", "--json"), 0);
  const entries = JSON.parse(ctx.stdout().slice(before)) as {
    name: string;
    ok: boolean;
    warning?: string;
  }[];
  assert.match(entries.find((e) => e.name === "a")?.warning ?? "", WINNER_REGEXP);
  assert.equal(entries.find((e) => e.name === "b")?.ok, false);
});

Deno.test("pylon doctor fails the pylon that loses its path and warns on the one that serves it", async () => {
  await using ctx = await clashingHome();
  const checks = await collectChecks(ctx, { docker: fakeDocker, fetch: offline });
  const b = checks.find((c) => c.label === "b");
  assert.equal(b?.status, "FAIL", JSON.stringify(checks));
  assert.match(b.detail, LOSER_REGEXP);
  assert.notEqual(checks.find((c) => c.label === "a")?.status, "FAIL");
  const served = checks.find((c) => c.label === "a path");
  assert.equal(served?.status, "WARN", JSON.stringify(checks));
  assert.match(served.detail, WINNER_REGEXP);
});

Deno.test("pylon construct and pylon edit flag a path another pylon already has", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "a", WEBHOOK("a", "/shared"));
  assert.equal(
    await cli(ctx, "construct", "b", "--from", "blank", "--path", "/shared"),
    0,
    ctx.stderr(),
  );
  assert.match(
    ctx.stdout(),
    /Before it can run, fix:\n.*trigger\.path: \/shared is also the path of pylon "a" \(.*pylons\/a\/pylon\.yaml:4\)/,
  );
  assert.equal(await cli(ctx, "edit", "b"), 1);
  assert.match(ctx.stderr(), /trigger\.path: \/shared is also the path of pylon "a"/);
  assert.equal(await cli(ctx, "edit", "a"), 1);
  assert.match(
    ctx.stderr(),
    /pylons\/a\/pylon\.yaml:4(:\d+)?: trigger\.path: \/shared is also the path of pylon "b"/,
  );
});
