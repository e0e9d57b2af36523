import assert from "node:assert/strict";
import { collectChecks } from "../../src/cli/commands/doctor.ts";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";
import { fakeDocker, offline } from "./_doctor.ts";

const WEBHOOK = (name: string, path: string) =>
  `name: ${name}\ntrigger:\n  type: webhook\n  path: ${path}\nagent:\n  prompt: hi\n`;

Deno.test("pylon list shows a folder with a bad name and what to rename it to", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", WEBHOOK("hook", "/hook"));
  await writePylon(ctx, "My Pylon", WEBHOOK("My Pylon", "/mine"));
  assert.equal(await cli(ctx, "list"), 0);
  const text = ctx.stdout();
  assert.match(text, /^My Pylon\s+\?\s+error: cannot load \(see below\)$/m);
  assert.match(text, /^hook\s+webhook\s+\/hook$/m);
  assert.match(
    text,
    /My Pylon: Cannot load pylon "My Pylon": .*the folder name "My Pylon" is not a valid pylon name .*; rename it to my-pylon\n {2}fix: rename the folder: cd .*\/pylons && mv 'My Pylon' my-pylon, then set name: my-pylon in its pylon\.yaml\n/,
  );

  await using json = await createTestContext();
  await writePylon(json, "My Pylon", WEBHOOK("my-pylon", "/mine"));
  await writePylon(json, "my-pylon", WEBHOOK("my-pylon", "/taken"));
  assert.equal(await cli(json, "list", "--json"), 0);
  const entries = JSON.parse(json.stdout());
  const bad = entries.find((e: { name: string }) => e.name === "My Pylon");
  assert.equal(bad.ok, false);
  // my-pylon is taken, and the file already says name: my-pylon... which must change too.
  assert.match(bad.hint, /mv 'My Pylon' my-pylon-2, then set name: my-pylon-2/);
});

Deno.test("pylon doctor fails a folder with a bad name and says exactly what to rename", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "Hook", WEBHOOK("hook", "/hook"));
  const checks = await collectChecks(ctx, { docker: fakeDocker, fetch: offline });
  const c = checks.find((x) => x.label === "Hook");
  assert.ok(c, JSON.stringify(checks.map((x) => x.label)));
  assert.equal(c.status, "FAIL");
  assert.match(
    c.detail,
    /pylons\/Hook\/pylon\.yaml: the folder name "Hook" is not a valid pylon name \(use lowercase: "hook"\); rename it to hook/,
  );
  assert.equal(c.hint, `rename the folder: cd ${ctx.paths.pylonsDir} && mv Hook hook`);
});

Deno.test("pylon edit opens a folder with a bad name, then says what to rename it to", async () => {
  let opened = "";
  await using ctx = await createTestContext({
    editor: (_cmd, args) => {
      opened = args.at(-1)!;
      return Promise.resolve(0);
    },
  });
  await writePylon(ctx, "My Pylon", WEBHOOK("My Pylon", "/mine").replace("webhook", "webhok"));
  assert.equal(await cli(ctx, "edit", "My Pylon"), 1);
  assert.equal(opened, ctx.paths.pylonConfig("My Pylon"));
  const err = ctx.stderr();
  assert.match(err, /Cannot load pylon "My Pylon" \(2 problems\)/);
  assert.match(err, /rename it to my-pylon/);
  assert.match(err, /trigger\.type: "webhok" is not supported/);
  assert.match(err, /fix: rename the folder: cd .* && mv 'My Pylon' my-pylon/);

  // A name that is no folder is still refused as a name.
  assert.equal(await cli(ctx, "edit", "No Such"), 2);
  assert.match(ctx.stderr(), /Invalid pylon name "No Such"/);
  assert.equal(await cli(ctx, "edit", "../x"), 2);
});
