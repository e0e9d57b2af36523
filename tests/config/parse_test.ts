import assert from "node:assert/strict";
import { globalConfigSchema, parseConfigText, pylonConfigSchema } from "../../src/config/mod.ts";
import { GLOBAL_KEY_HOMES, PYLON_KEY_HOMES } from "../../src/config/schema.ts";
import type { ConfigIssue } from "../../src/errors.ts";

function pylonIssues(text: string): ConfigIssue[] {
  const r = parseConfigText(text, {
    schema: pylonConfigSchema,
    lookup: () => undefined,
    envFileHint: ".env",
    keyHomes: PYLON_KEY_HOMES,
  });
  assert.equal(r.ok, false, "expected problems");
  return r.ok ? [] : r.issues;
}

function globalIssues(text: string): ConfigIssue[] {
  const r = parseConfigText(text, {
    schema: globalConfigSchema,
    lookup: () => undefined,
    envFileHint: ".env",
    keyHomes: GLOBAL_KEY_HOMES,
  });
  assert.equal(r.ok, false, "expected problems");
  return r.ok ? [] : r.issues;
}

const HEAD = "name: a\ntrigger:\n  type: webhook\n  path: /a\n";

Deno.test("parseConfigText() lists the channel types and suggests the nearest for a typo", async (t) => {
  await t.step("one type", () => {
    const [issue] = pylonIssues(HEAD + "channel:\n  type: stdot\n");
    assert.equal(issue?.keyPath, "channel.type");
    assert.equal(issue?.line, 6);
    assert.equal(
      issue?.message,
      '"stdot" is not supported; use "stdout" (one of telegram, slack, webhook, stdout, github)',
    );
  });
  await t.step("a list of types points at the wrong one", () => {
    const [issue] = pylonIssues(HEAD + "channel:\n  type: [github, telgram]\n");
    assert.equal(issue?.keyPath, "channel.type[1]");
    assert.match(issue!.message, /^"telgram" is not supported; use "telegram" \(one of /);
  });
  await t.step("in config.yaml too", () => {
    const [issue] = globalIssues("defaults:\n  channel:\n    type: slak\n");
    assert.equal(issue?.keyPath, "defaults.channel.type");
    assert.match(issue!.message, /use "slack"/);
  });
});

Deno.test("parseConfigText() suggests the spelling of a misspelled top-level key", async (t) => {
  await t.step("pylon.yaml", () => {
    const [issue] = pylonIssues(HEAD + "worksapce:\n  type: none\n");
    assert.equal(issue?.line, 5);
    assert.equal(
      issue?.message,
      "unknown key `worksapce` at the top level; did you mean `workspace`?",
    );
  });
  await t.step("config.yaml", () => {
    const [issue] = globalIssues("servre:\n  port: 8080\n");
    assert.equal(issue?.message, "unknown key `servre` at the top level; did you mean `server`?");
  });
  await t.step("a top-level key written inside a section is sent back to the top", () => {
    const issues = pylonIssues(HEAD + "  workspace:\n    type: none\n");
    assert.match(
      issues.map((i) => i.message).join("\n"),
      /`workspace` is not valid under `trigger`; it belongs at the top level/,
    );
  });
});

Deno.test("parseConfigText() names a key indented unlike its neighbours at its own line", async (t) => {
  await t.step("one space too far", () => {
    const issues = pylonIssues("name: a\ntrigger:\n  type: webhook\n   path: /x\n");
    assert.equal(issues.length, 1, JSON.stringify(issues));
    assert.equal(issues[0]!.line, 4);
    assert.equal(issues[0]!.column, 4);
    assert.match(
      issues[0]!.message,
      /^`path` is indented 3 spaces, more than `type` on line 3 \(2\): its indentation does not match its neighbours; indent it 2 spaces/,
    );
    assert.doesNotMatch(issues[0]!.message, /compact mappings/);
  });
  await t.step("less than its neighbours", () => {
    const issues = pylonIssues("name: a\ntrigger:\n    type: webhook\n  path: /x\n");
    assert.equal(issues[0]!.line, 4);
    assert.match(issues[0]!.message, /^`path` is indented 2 spaces, less than `type` on line 3/);
  });
  await t.step("a value going on over more-indented lines is not flagged when it parses", () => {
    const r = parseConfigText(
      HEAD + "agent:\n  prompt: look at\n    this event\n  env:\n    A: |\n      x\n       y\n",
      {
        schema: pylonConfigSchema,
        lookup: () => undefined,
        envFileHint: ".env",
        keyHomes: PYLON_KEY_HOMES,
      },
    );
    assert.equal(r.ok, true, r.ok ? "" : JSON.stringify(r.issues));
  });
});

Deno.test("parseConfigText() refuses agent.gateway: true beside agent.network: none at its line", () => {
  const [issue, ...rest] = pylonIssues(
    HEAD + "agent:\n  prompt: p\n  network: none\n  gateway: true\n",
  );
  assert.equal(rest.length, 0);
  assert.equal(issue?.keyPath, "agent.gateway");
  assert.equal(issue?.line, 8);
  assert.match(issue!.message, /agent\.network: none leaves the job no way to reach/);
  assert.match(issue!.message, /fix: remove gateway: true .* or use network: bridge/);
});
