/**
 * The bash completion script, run by a real bash: commands, options, pylon names and job ids
 * (listed by the real program through `pylon __complete pylons|jobs`).
 */

import assert from "node:assert/strict";
import { cli, createTestContext } from "../_helpers/cli.ts";
import { PYLON_FLAGS } from "../_helpers/process.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function complete(script: string, words: string[], binDir: string, home: string) {
  const program = [
    `source ${script}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    "_pylon_complete",
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const out = await new Deno.Command("bash", {
    args: ["-c", program],
    env: { PATH: `${binDir}:${Deno.env.get("PATH")}`, PYLON_HOME: home, HOME: home },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
}

Deno.test("pylon completion bash completes commands, options and pylon names", async () => {
  await using ctx = await createTestContext();
  await cli(ctx, "construct", "sentry-triage", "--from", "blank");
  await cli(ctx, "construct", "pr-review", "--from", "blank");
  const before = ctx.stdout().length;
  assert.equal(await cli(ctx, "completion", "bash"), 0);
  const script = `${ctx.paths.root}/pylon.bash`;
  await Deno.writeTextFile(script, ctx.stdout().slice(before));
  const bin = `${ctx.paths.root}/bin`;
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    `${bin}/pylon`,
    `#!/bin/sh\nexec "${Deno.execPath()}" run ${PYLON_FLAGS.join(" ")} "${MAIN}" "$@"\n`,
    { mode: 0o755 },
  );
  const home = ctx.paths.root;
  assert.deepEqual(await complete(script, ["pylon", "con"], bin, home), ["construct"]);
  assert.deepEqual(await complete(script, ["pylon", "c"], bin, home), [
    "construct",
    "cost",
    "cron",
    "completion",
  ]);
  assert.deepEqual(await complete(script, ["pylon", "edit", ""], bin, home), [
    "pr-review",
    "sentry-triage",
  ]);
  assert.deepEqual(await complete(script, ["pylon", "destroy", "se"], bin, home), [
    "sentry-triage",
  ]);
  assert.deepEqual(await complete(script, ["pylon", "construct", "x", "--f"], bin, home), [
    "--from",
  ]);
  assert.deepEqual(await complete(script, ["pylon", "completion", "z"], bin, home), ["zsh"]);
  // Templates after construct --from (not after cron --from, which takes a time).
  assert.deepEqual(
    await complete(script, ["pylon", "construct", "x", "--from", ""], bin, home),
    ["sentry", "github-pr", "cron-audit", "blank"],
  );
  assert.deepEqual(
    await complete(script, ["pylon", "construct", "x", "--from", "gi"], bin, home),
    ["github-pr"],
  );
  assert.deepEqual(await complete(script, ["pylon", "cron", "--from", "s"], bin, home), []);

  // Job ids, newest first, for the commands that take a job.
  const stores = createStoreRegistry(ctx.paths);
  const ids = ["aaaa1111", "bbbb2222"].map((p) => p + crypto.randomUUID().slice(8));
  try {
    for (const id of ids) {
      const job = { id, pylon: "pr-review", trigger: "webhook" as const, payload: {}, headers: {} };
      await (await stores.open("pr-review")).insert({ ...job, status: "queued" });
    }
  } finally {
    await stores.closeAll();
  }
  assert.deepEqual(await complete(script, ["pylon", "logs", "a"], bin, home), ["aaaa1111"]);
  const killable = await complete(script, ["pylon", "kill", ""], bin, home);
  assert.deepEqual(killable.sort(), ["aaaa1111", "bbbb2222"]);
  assert.deepEqual(await complete(script, ["pylon", "edit", "aaaa"], bin, home), []);
});

Deno.test("pylon completion rejects an unknown shell with exit 2", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "completion", "tcsh"), 2);
  assert.match(ctx.stderr(), /Unsupported shell "tcsh"/);
});

Deno.test("pylon completion zsh and fish name every visible command", async () => {
  for (const shell of ["zsh", "fish"]) {
    await using ctx = await createTestContext();
    assert.equal(await cli(ctx, "completion", shell), 0);
    for (const name of ["start", "construct", "list", "edit", "test", "destroy", "cron"]) {
      assert.match(ctx.stdout(), new RegExp(`\\b${name}\\b`), `${shell}: ${name}`);
    }
  }
});

Deno.test("pylon completion zsh and fish offer the templates after construct --from", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "completion", "zsh"), 0);
  assert.match(
    ctx.stdout(),
    /if \[\[ "\$\{words\[2\]\}" == construct && "\$\{words\[CURRENT-1\]\}" == --from \]\]; then\n {4}compadd -- sentry github-pr cron-audit blank\n {4}return/,
  );
  const before = ctx.stdout().length;
  assert.equal(await cli(ctx, "completion", "fish"), 0);
  assert.match(
    ctx.stdout().slice(before),
    /subcommand_from construct' -l from .* -a 'sentry github-pr cron-audit blank'/,
  );
});
