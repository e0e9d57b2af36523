/** `pylon doctor --fix`: the safe repairs it applies, what it says, and the report after them. */

import assert from "node:assert/strict";
import { runDoctor } from "../../src/cli/commands/doctor.ts";
import { createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";
import { FakeDockerClient } from "../fakes/docker_fake.ts";
import { offline } from "./_doctor.ts";

async function home(): Promise<TestContext> {
  const ctx = await createTestContext();
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    `server:\n  host: 127.0.0.1\n  port: ${port}\n` +
      `defaults:\n  agent:\n    claude:\n      oauth_path: ${ctx.paths.root}\n`,
  );
  return ctx;
}

const HOOK = "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: hi\n";

Deno.test("doctor --fix makes readable .env files private and reports them fixed", async () => {
  await using ctx = await home();
  await Deno.writeTextFile(ctx.paths.globalEnv, "A=1\n");
  await Deno.chmod(ctx.paths.globalEnv, 0o644);
  await writePylon(ctx, "hook", HOOK, "B=2\n");
  await Deno.chmod(ctx.paths.pylonEnv("hook"), 0o640);
  const docker = new FakeDockerClient();
  const code = await runDoctor(ctx, { fix: true, deps: { docker, fetch: offline } });
  const out = ctx.stdout();
  assert.equal(code, 0, out);
  assert.match(
    out,
    /^Fixing 3 things:\n {2}fixed: chmod 600 \S+\/\.env\n {2}fixed: build pylon\/agent-claude:[0-9a-f]{12} \(a few minutes\)\n {2}fixed: chmod 600 \S+\/pylons\/hook\/\.env\n\nPylon Doctor\n/,
  );
  assert.equal((await Deno.stat(ctx.paths.globalEnv)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(ctx.paths.pylonEnv("hook"))).mode! & 0o777, 0o600);
  // The report is of the state after the fixes.
  assert.match(out, /\n {2}\.env \.+ ok {4}\S+\/\.env \(mode 600\)\n/);
  assert.match(
    out,
    /\n {2}Agent image \.+ ok {4}pylon\/agent-claude:[0-9a-f]{12} \(pylon hook\)\n/,
  );
  assert.doesNotMatch(out, /WARN|--fix` can do/);
  assert.equal(docker.calls.filter((c) => c.method === "buildImage").length, 1);
});

/** A Docker fake that has every image, for tests about other fixes. */
function allImages(): FakeDockerClient {
  const docker = new FakeDockerClient();
  docker.inspectImage = (ref) => Promise.resolve({ Id: `sha256:${ref.length}` } as never);
  return docker;
}

Deno.test("doctor --fix creates a missing pylon home", async () => {
  // A user who has logged in to Claude Code (the defaults' agent login is checked too).
  const user = await Deno.makeTempDir({ prefix: "pylon-user-" });
  await Deno.mkdir(`${user}/.claude`);
  await using ctx = await createTestContext({ env: { HOME: user } });
  await using _user = { [Symbol.asyncDispose]: () => Deno.remove(user, { recursive: true }) };
  await Deno.remove(ctx.paths.root, { recursive: true });
  const docker = allImages();
  const before = await runDoctor(ctx, { deps: { docker, fetch: offline } });
  assert.equal(before, 0);
  assert.match(ctx.stdout(), /\n {2}Home \.+ WARN {2}\S+ does not exist yet\n/);
  assert.match(ctx.stdout(), /`pylon doctor --fix` can do this for you: mkdir -m 700 /);
  await runDoctor(ctx, { fix: true, deps: { docker, fetch: offline } });
  assert.match(ctx.stdout(), /\n {2}fixed: mkdir -m 700 \S+ \S+\/pylons \S+\/jobs \S+\/repos\n/);
  assert.equal((await Deno.stat(ctx.paths.jobsDir)).isDirectory, true);
  assert.equal((await Deno.stat(ctx.paths.root)).mode! & 0o777, 0o700);
});

Deno.test("doctor --fix says so when it cannot fix something, and --json lists the fixes", async () => {
  await using ctx = await home();
  await writePylon(ctx, "hook", HOOK);
  const docker = new FakeDockerClient();
  docker.buildImage = () => Promise.reject(new Error("no space left on device"));
  const code = await runDoctor(ctx, { fix: true, json: true, deps: { docker, fetch: offline } });
  assert.equal(code, 0);
  const report = JSON.parse(ctx.stdout());
  assert.equal(report.fixed.length, 1);
  assert.equal(report.fixed[0].ok, false);
  assert.match(report.fixed[0].fix, /^build pylon\/agent-claude:/);
  assert.match(report.fixed[0].error, /no space left on device/);
  const image = report.checks.find((c: { label: string }) => c.label === "Agent image");
  assert.equal(image.status, "WARN");
  assert.match(image.hint, /pylon rebuild-images claude/);
  assert.equal(image.fixable, false, "a fix that just failed is not offered again");
});

Deno.test("doctor --fix that fails does not suggest --fix again", async () => {
  await using ctx = await home();
  await writePylon(ctx, "hook", HOOK);
  const docker = new FakeDockerClient();
  docker.buildImage = () => Promise.reject(new Error("no space left on device"));
  await runDoctor(ctx, { fix: true, deps: { docker, fetch: offline } });
  const out = ctx.stdout();
  assert.match(out, /\n {2}could not build pylon\/agent-claude:\S+ \(a few minutes\): .*no space/);
  assert.match(
    out,
    /Agent image \.+ WARN {2}pylon\/agent-claude:\S+ not built yet \(pylon hook\)\n/,
  );
  assert.match(out, /\n {6}fix: build it now with `pylon rebuild-images claude`/);
  assert.doesNotMatch(out, /--fix` can do/);
});

Deno.test("doctor --fix with nothing to fix says so", async () => {
  await using ctx = await home();
  const code = await runDoctor(ctx, {
    fix: true,
    deps: { docker: allImages(), fetch: offline },
  });
  assert.equal(code, 0);
  assert.match(ctx.stdout(), /^Nothing to fix automatically\.\n\nPylon Doctor\n/);
});
