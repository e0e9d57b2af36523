import assert from "node:assert/strict";
import {
  rawTriggerPath,
  readRawPylon,
  SECURITY_FIELDS,
  securityFingerprint,
  securityTouch,
  suggestPylonName,
} from "../../src/config/mod.ts";
import { renameHint, shellWord } from "../../src/config/names.ts";
import { securityFieldOf } from "../../src/config/security.ts";
import { ConfigError, type ConfigIssue } from "../../src/errors.ts";

const BASE = `name: hook
trigger:
  type: webhook
  path: /hook
  secret: "\${HOOK_SECRET}"
  signature_header: X-Sig
channel:
  type: telegram
  telegram:
    allowed_users: [1, 2]
agent:
  prompt: hi
`;

function failure(issues: ConfigIssue[]): ConfigError {
  return new ConfigError("Cannot load pylon", { file: "pylon.yaml", issues });
}

const env: Record<string, string> = { HOOK_SECRET: "s3cret" };
const lookup = (k: string) => env[k];
const last = securityFingerprint(readRawPylon(BASE)!, lookup);
const timeoutIssue = failure([{
  keyPath: "agent.timeout",
  message: "is not a duration",
  line: 12,
}]);

Deno.test("SECURITY_FIELDS covers the secret, signature settings, when, every allowed_users and the repositories", () => {
  for (
    const f of [
      "trigger.secret",
      "trigger.signature_header",
      "trigger.signature_format",
      "trigger.when",
      "channel.telegram.allowed_users",
      "channel.slack.allowed_users",
      "channel.github.allowed_users",
      "channel.github.allowed_repos",
      "workspace.allowed_repos",
    ]
  ) {
    assert.ok(SECURITY_FIELDS.includes(f), f);
  }
});

Deno.test("securityTouch() lets a non-security failure keep the last good config", () => {
  const next = readRawPylon(BASE + "  timeout: banana\n")!;
  assert.equal(securityTouch(timeoutIssue, next, lookup, last), undefined);
});

Deno.test("securityTouch() fails closed on an issue at or under a security field", () => {
  const touch = securityTouch(
    failure([{ keyPath: "trigger.secret", message: "references ${X} but it is not set", line: 5 }]),
    readRawPylon(BASE)!,
    lookup,
    last,
  );
  assert.deepEqual(touch && { field: touch.field, line: touch.line }, {
    field: "trigger.secret",
    line: 5,
  });
  const item = securityTouch(
    failure([{ keyPath: "channel.telegram.allowed_users[1]", message: "bad", line: 10 }]),
    readRawPylon(BASE)!,
    lookup,
    last,
  );
  assert.equal(item?.field, "channel.telegram.allowed_users");
});

Deno.test("securityTouch() fails closed when a security field changed beside another error", () => {
  const next = readRawPylon(BASE.replace("[1, 2]", "[1]"))!;
  const touch = securityTouch(timeoutIssue, next, lookup, last);
  assert.equal(touch?.field, "channel.telegram.allowed_users");
  assert.equal(touch?.line, 10);
  const when = readRawPylon(
    BASE.replace("  signature_header", "  when: 'true'\n  signature_header"),
  );
  assert.equal(securityTouch(timeoutIssue, when!, lookup, last)?.field, "trigger.when");
  // The GitHub channel's repositories: a repository added beside a broken line fails closed.
  const github = (repos: string) =>
    BASE.replace(
      "  type: telegram\n  telegram:",
      `  type: github\n  github:\n    allowed_repos: ${repos}`,
    );
  const before = securityFingerprint(readRawPylon(github("[acme/app]"))!, lookup);
  const widened = readRawPylon(github("[acme/app, other/*]"))!;
  assert.equal(
    securityTouch(timeoutIssue, widened, lookup, before)?.field,
    "channel.github.allowed_repos",
  );
  assert.equal(
    securityTouch(timeoutIssue, readRawPylon(github("[acme/app]"))!, lookup, before),
    undefined,
  );
});

Deno.test("securityTouch() fails closed when a referenced secret resolves differently", () => {
  const next = readRawPylon(BASE)!;
  const rotated = securityTouch(timeoutIssue, next, (k) => ({ HOOK_SECRET: "new" })[k], last);
  assert.equal(rotated?.field, "trigger.secret");
  assert.match(rotated!.reason, /cannot be resolved as before/);
  // The .env does not parse: a field holding a reference cannot be compared.
  assert.equal(securityTouch(timeoutIssue, next, undefined, last)?.field, "trigger.secret");
  // Without references, a broken .env cannot change the security fields.
  const literal = BASE.replace('"${HOOK_SECRET}"', "s3cret");
  const plain = securityFingerprint(readRawPylon(literal)!, lookup);
  assert.equal(securityTouch(timeoutIssue, readRawPylon(literal)!, undefined, plain), undefined);
});

Deno.test("securityTouch() fails closed when the file does not parse", () => {
  const broken = BASE + "  bad: [\n";
  assert.equal(readRawPylon(broken), undefined);
  const touch = securityTouch(
    failure([{ keyPath: "", message: "YAML syntax error", line: 13 }]),
    undefined,
    lookup,
    last,
  );
  assert.equal(touch?.field, "(the whole file)");
  assert.equal(touch?.line, 13);
});

Deno.test("securityFieldOf() treats an unknown key spelled like a security field as one", () => {
  assert.equal(securityFieldOf("trigger.secrett"), "trigger.secret");
  assert.equal(securityFieldOf("secret"), "trigger.secret");
  assert.equal(securityFieldOf("channel.allowed_users"), "channel.telegram.allowed_users");
  assert.equal(securityFieldOf("trigger.whne"), "trigger.when");
  assert.equal(securityFieldOf("approval"), undefined);
  assert.equal(securityFieldOf("trigger.path"), undefined);
  assert.equal(securityFieldOf("agent.timeout"), undefined);
  // Known keys and free-form maps are not guesses.
  assert.equal(securityFieldOf("channel.webhook.secret"), undefined);
  assert.equal(securityFieldOf("agent.env.MY_SECRET"), undefined);
});

Deno.test("rawTriggerPath() reads the path of a file that does not validate", () => {
  const raw = readRawPylon("name: x\ntrigger:\n  path: /mine/\n  bogus: 1\n");
  assert.equal(rawTriggerPath(raw), "/mine");
  assert.equal(rawTriggerPath(readRawPylon("trigger:\n  path: 5\n")), undefined);
  assert.equal(rawTriggerPath(undefined), undefined);
});

Deno.test("suggestPylonName() and renameHint() say what to rename a bad folder to", () => {
  assert.equal(suggestPylonName("My Pylon"), "my-pylon");
  assert.equal(suggestPylonName("Café_Bot!"), "cafe-bot");
  assert.equal(suggestPylonName("---"), "my-pylon");
  assert.equal(suggestPylonName("x".repeat(70)).length, 63);
  assert.equal(shellWord("~/.pylon/pylons"), "~/.pylon/pylons");
  assert.equal(shellWord("It's"), `'It'\\''s'`);
  assert.equal(
    renameHint("~/.pylon/pylons", "My Pylon", "my-pylon", "My Pylon"),
    "rename the folder: cd ~/.pylon/pylons && mv 'My Pylon' my-pylon, then set name: my-pylon " +
      "in its pylon.yaml",
  );
  assert.equal(
    renameHint("~/my home/pylons", "-x", "x", "x"),
    "rename the folder: cd ~/'my home/pylons' && mv ./-x x",
  );
});
