import assert from "node:assert/strict";
import { join } from "node:path";
import { renderTemplate } from "../../src/template/mod.ts";
import { writeChannelMessage } from "../../src/nexus/pylon_files.ts";
import {
  type Effect,
  handleKey,
  initialState,
  type NexusState,
  withBuilderPayload,
  withSnapshot,
} from "../../src/nexus/state.ts";
import {
  builderPreview,
  builderRows,
  builderTemplate,
  expressionOf,
  MAX_FIELDS,
  newBuilder,
  payloadGroups,
} from "../../src/nexus/template_builder.ts";
import { job, pylon, snapshot } from "./_fixtures.ts";

function press(s: NexusState, ...keys: string[]): { state: NexusState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const k of keys) {
    const r = handleKey(s, k);
    s = r.state;
    effects.push(...r.effects);
  }
  return { state: s, effects };
}

const PAYLOAD = {
  action: "opened",
  issue: { title: "Crash", number: 42, user: { login: "mallory" }, labels: [{ name: "bug" }] },
  "odd-key": { 'quote"}}': "v" },
};

Deno.test("payloadGroups: top-level values share `body`, objects are groups of their leaves", () => {
  const groups = payloadGroups(PAYLOAD);
  assert.deepEqual(groups.map((g) => g.name), ["body", "issue", "odd-key"]);
  assert.deepEqual(groups[1]!.fields.map((f) => f.expr), [
    ".body.issue.title",
    ".body.issue.number",
    ".body.issue.user.login",
    'index .body "issue" "labels" 0 "name"',
  ]);
  assert.equal(groups[1]!.fields[0]!.sample, '"Crash"');
  assert.equal(groups[1]!.fields[0]!.label, "Title");
});

Deno.test("every generated expression renders the value it shows, odd keys included", () => {
  for (const field of payloadGroups(PAYLOAD).flatMap((g) => g.fields)) {
    const out = renderTemplate("channel.message", `{{ ${field.expr} }}`, { body: PAYLOAD });
    const value = field.path.reduce<unknown>(
      (v, k) => (v as Record<string | number, unknown>)[k],
      PAYLOAD,
    );
    assert.equal(out, String(value), field.expr);
  }
  assert.equal(expressionOf(["a-b", 0]), 'index .body "a-b" 0');
});

Deno.test("a huge or deep payload gives a bounded list; a stranger's key stays on one line", () => {
  const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
  assert.equal(payloadGroups(wide).flatMap((g) => g.fields).length, MAX_FIELDS);
  const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
  const [field] = payloadGroups(deep)[0]!.fields;
  assert.equal(field!.expr, ".body.a.b.c.d");
  const evil = payloadGroups({ "\x1b]0;PWNED\x07\nx": { y: 1 } });
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(evil[0]!.name, /[\x00-\x1f]/);
  assert.doesNotMatch(evil[0]!.name, /PWNED/);
  assert.deepEqual(payloadGroups("just text")[0]!.fields[0]!.expr, ".body");
  assert.deepEqual(payloadGroups(null), []);
});

Deno.test("checking fields builds labelled lines and a preview rendered from the payload", () => {
  let b = newBuilder("alpha", "job-1", PAYLOAD);
  const rows = () => builderRows(b);
  // Groups start closed (more than one): open `issue` and check title and login.
  b = { ...b, index: rows().findIndex((r) => r.kind === "group" && r.group.name === "issue") };
  const open = handleKey(
    { ...initialState(), view: "builder", builder: b },
    " ",
  ).state.builder!;
  b = open;
  const title = rows().findIndex((r) => r.kind === "field" && r.field.label === "Title");
  const login = rows().findIndex((r) => r.kind === "field" && r.field.label === "Login");
  for (const index of [title, login]) {
    b = handleKey({ ...initialState(), view: "builder", builder: { ...b, index } }, " ")
      .state.builder!;
  }
  assert.equal(
    builderTemplate(b),
    "Title: {{ .body.issue.title }}\nLogin: {{ .body.issue.user.login }}",
  );
  assert.deepEqual(builderPreview(b), ["Title: Crash", "Login: mallory"]);
});

Deno.test("a on a pylon opens the builder on its newest job; A approves; enter saves; esc cancels", () => {
  const waiting = job("alpha", "awaiting_approval");
  let s = withSnapshot(initialState(), snapshot([pylon("alpha")], [waiting]));
  s = press(s, "l").state;
  const opened = press(s, "a");
  assert.equal(opened.state.view, "builder");
  assert.deepEqual(opened.effects, [{ kind: "open_builder", pylon: "alpha", job: waiting.id }]);
  assert.deepEqual(press(s, "A").effects, [{
    kind: "action",
    action: { kind: "approve", job: waiting.id },
  }]);

  s = withBuilderPayload(opened.state, "alpha", waiting.id, { title: "x" });
  const nothing = press(s, "enter");
  assert.match(nothing.state.flash!.text, /check fields with space first/);
  assert.deepEqual(nothing.effects, []);
  const saved = press(s, "j", " ", "enter");
  assert.deepEqual(saved.effects, [{
    kind: "save_message",
    pylon: "alpha",
    template: "Title: {{ .body.title }}",
  }]);
  assert.equal(saved.state.view, "home");
  const cancelled = press(s, "j", " ", "esc");
  assert.deepEqual(cancelled.effects, []);
  assert.match(cancelled.state.flash!.text, /nothing saved/);

  const empty = withSnapshot(initialState(), snapshot([pylon("alpha")], []));
  const none = press(empty, "l", "a");
  assert.equal(none.state.view, "home");
  assert.match(none.state.flash!.text, /has no job yet/);
});

Deno.test("writeChannelMessage sets channel.message and keeps the file's comments", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "pylon.yaml");
    await Deno.writeTextFile(
      file,
      "# my pylon\nname: alpha\ntrigger:\n  type: webhook # from GitHub\n  path: /a\nagent:\n  prompt: p\n",
    );
    await writeChannelMessage(file, "Title: {{ .body.title }}\nBy: {{ .body.user }}");
    const text = await Deno.readTextFile(file);
    assert.match(text, /^# my pylon/);
    assert.match(text, /type: webhook # from GitHub/);
    assert.match(text, /channel:\n {2}message: \|-\n {4}Title: \{\{ \.body\.title \}\}\n {4}By:/);
    await Deno.writeTextFile(file, "name: alpha\nchannel: stdout\n");
    await assert.rejects(() => writeChannelMessage(file, "x"), /channel is not a mapping/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
