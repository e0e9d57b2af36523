/** `disabled: true` written into pylon.yaml and taken out again, comments and layout kept. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { withDisabledFlag, writeDisabledFlag } from "../../src/config/mod.ts";
import { ConfigError } from "../../src/errors.ts";

const FILE = `# Reviews pull requests.
name: review   # the folder's name
trigger:
  type: webhook
  path: /review # GitHub sends here
agent:
  prompt: |
    Review it.
`;

Deno.test("withDisabledFlag() adds a line after name and removes it again, nothing else changed", () => {
  const off = withDisabledFlag(FILE, true);
  assert.equal(
    off,
    FILE.replace("folder's name\n", "folder's name\ndisabled: true\n"),
  );
  assert.equal(withDisabledFlag(off, true), off, "already disabled: unchanged");
  assert.equal(withDisabledFlag(off, false), FILE);
  assert.equal(withDisabledFlag(FILE, false), FILE, "already enabled: unchanged");
});

Deno.test("withDisabledFlag() replaces only the value of disabled: false, keeping its comment", () => {
  const text = "name: a\ndisabled: false # for now\ntrigger: {type: webhook, path: /a}\n";
  assert.equal(
    withDisabledFlag(text, true),
    "name: a\ndisabled: true # for now\ntrigger: {type: webhook, path: /a}\n",
  );
  assert.equal(withDisabledFlag(text, false), "name: a\ntrigger: {type: webhook, path: /a}\n");
});

Deno.test("withDisabledFlag() falls back to the document model for a flow mapping", () => {
  const text = "{name: a, trigger: {type: webhook, path: /a}}\n";
  const off = withDisabledFlag(text, true);
  assert.match(off, /disabled: true/);
  assert.doesNotMatch(withDisabledFlag(off, false), /disabled/);
});

Deno.test("withDisabledFlag() refuses a file that is not a YAML mapping", () => {
  assert.throws(() => withDisabledFlag("- a\n- b\n", true), ConfigError);
  assert.throws(() => withDisabledFlag("name: [\n", true), ConfigError);
});

Deno.test("writeDisabledFlag() replaces the file atomically, keeps its mode, refuses links", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-disabled-" });
  try {
    const file = join(dir, "pylon.yaml");
    await Deno.writeTextFile(file, FILE, { mode: 0o600 });
    await Deno.chmod(file, 0o600);
    assert.equal(await writeDisabledFlag(file, true), true);
    assert.equal(await writeDisabledFlag(file, true), false);
    assert.match(await Deno.readTextFile(file), /^disabled: true$/m);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), ["pylon.yaml"]);
    assert.equal(await writeDisabledFlag(file, false), true);
    assert.equal(await Deno.readTextFile(file), FILE);
    const link = join(dir, "link.yaml");
    await Deno.symlink(file, link);
    await assert.rejects(() => writeDisabledFlag(link, true), ConfigError);
    assert.equal(await Deno.readTextFile(file), FILE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
