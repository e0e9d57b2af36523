/**
 * The release workflow's smoke test of the compiled binary (scripts/smoke_binary.sh), run here
 * against the source install's `pylon` launcher (`deno task install`): `deno compile` cannot
 * run on every machine, but the script, its pylon and every command it calls can. A second
 * test checks that release.yml runs the script on the built binary before anything is published.
 *
 * @module
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { dockerTest } from "../integration/_docker.ts";
import { freePort } from "../_helpers/process.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const dec = new TextDecoder();

/** Where this Deno keeps its module cache, so the launcher finds the test run's packages. */
const DENO_DIR: string = Deno.env.get("DENO_DIR") ?? JSON.parse(
  dec.decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
  ),
).denoDir;

/** The commands the script itself needs besides pylon (the release runner has them all). */
const TOOLS = ["sh", "curl", "jq", "openssl", "od", "mktemp"];

function missingTools(): string[] {
  return TOOLS.filter((tool) =>
    !new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null" }).outputSync()
      .success
  );
}

dockerTest("scripts/smoke_binary.sh passes against the source install's pylon", async () => {
  const missing = missingTools();
  assert.deepEqual(missing, [], `the smoke script needs ${missing.join(", ")}`);
  const root = await Deno.makeTempDir({ prefix: "pylon-smoke-" });
  try {
    await Deno.mkdir(`${root}/tmp`);
    await Deno.mkdir(`${root}/home`);
    const install = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-write", "--allow-env", "scripts/install.ts"],
      cwd: ROOT,
      env: { DENO_INSTALL_ROOT: root, PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(install.code, 0, dec.decode(install.stderr));

    // Run from an unrelated folder with a relative launcher path, as the workflow does
    // (`dist/pylon-linux-x64`); the script makes it absolute.
    const smoke = await new Deno.Command("sh", {
      args: [`${ROOT}/scripts/smoke_binary.sh`, "bin/pylon", String(freePort())],
      cwd: root,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: `${root}/home`,
        TMPDIR: `${root}/tmp`,
        DENO_DIR,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = dec.decode(smoke.stdout);
    const report = `${stdout}\n--- stderr ---\n${dec.decode(smoke.stderr)}`;
    assert.equal(smoke.code, 0, report);
    assert.match(stdout, /^pylon \d+\.\d+\.\d+$/m, report);
    assert.match(stdout, /pylon jobs --json lists it/, report);
    assert.match(stdout, /pylon approve released it/, report);
    assert.match(stdout, /Pylon Doctor/, report);
    assert.match(stdout, /smoke test passed$/m, report);
    // The script removes its temporary PYLON_HOME.
    assert.deepEqual(await Array.fromAsync(Deno.readDir(`${root}/tmp`)), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("release.yml smoke-tests the compiled daemon before it publishes anything", async () => {
  const workflow = parse(await Deno.readTextFile(`${ROOT}/.github/workflows/release.yml`)) as {
    on: { push: { tags: string[] } };
    jobs: { release: { steps: { name?: string; run?: string; uses?: string }[] } };
  };
  assert.deepEqual(workflow.on.push.tags, ["v*"]);
  const steps = workflow.jobs.release.steps;
  const at = (test: (s: { run?: string; uses?: string }) => boolean) => {
    const i = steps.findIndex(test);
    assert.notEqual(i, -1);
    return i;
  };
  const compile = at((s) => /deno task compile/.test(s.run ?? ""));
  const smoke = at((s) =>
    /^sh scripts\/smoke_binary\.sh dist\/pylon-linux-x64\b/m.test(s.run ?? "")
  );
  const publish = at((s) => (s.uses ?? "").startsWith("softprops/action-gh-release"));
  assert.ok(compile < smoke && smoke < publish, "compile, then the smoke test, then publish");
  // The script the step names exists, and is the one this repository's test runs.
  await Deno.stat(`${ROOT}/scripts/smoke_binary.sh`);
});
