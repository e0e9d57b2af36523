/**
 * A start that cannot be broken: folders that do not load (a bad folder name, bad YAML) are
 * reported and skipped, their paths answer 503; an invalid edit of a security field fails closed.
 */

import assert from "node:assert/strict";
import { signRequest } from "../../src/daemon/mod.ts";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";

const yaml = (name: string, path: string, extra = "", agent = "") =>
  `name: ${name}\ntrigger:\n  type: webhook\n  path: ${path}\n${extra}agent:\n  prompt: hi\n${agent}`;

async function post(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", body: "{}", headers });
  return { status: res.status, body: await res.text() };
}

const notLoaded = (name: string) =>
  JSON.stringify({ error: `pylon ${name} is not loaded; see the daemon log` });

Deno.test("the daemon starts beside a folder with a bad name, serves the rest, and answers 503 on its path", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-broken-" });
  await writeHome(root, {
    "pylons/hook/pylon.yaml": yaml("hook", "/hook"),
    "pylons/My Pylon/pylon.yaml": yaml("My Pylon", "/mine"),
    "pylons/typo/pylon.yaml": yaml("typo", "/typo", "  bogus: 1\n"),
    // A YAML syntax error further down: the file still names its path.
    "pylons/unparsed/pylon.yaml": yaml("unparsed", "/unparsed/") + "  bad: [\n",
  });
  const d = await startTestDaemon(root);
  try {
    assert.equal((await post(`${d.url}/hook`)).status, 202);
    assert.deepEqual(await post(`${d.url}/mine`), { status: 503, body: notLoaded("My Pylon") });
    assert.deepEqual(await post(`${d.url}/typo`), { status: 503, body: notLoaded("typo") });
    assert.deepEqual(await post(`${d.url}/unparsed`), {
      status: 503,
      body: notLoaded("unparsed"),
    });
    assert.equal((await post(`${d.url}/nothing`)).status, 404);

    const banner = d.out.join("");
    assert.match(banner, /My Pylon {2,}FAIL {2}.*not a valid pylon name.*rename it to my-pylon/);
    assert.match(banner, /fix: rename the folder: cd .*pylons && mv 'My Pylon' my-pylon/);
    assert.match(banner, /unparsed {2,}FAIL {2}.*YAML syntax error/);
    assert.match(banner, /\n1 pylon active/);
    const line = await d.waitForLog(/event=pylon\.invalid pylon="My Pylon"/);
    assert.match(line, /file=".*pylons\/My Pylon\/pylon\.yaml"/);
    assert.match(line, /hint="rename the folder: cd .* && mv 'My Pylon' my-pylon, then set name/);
    assert.match(line, /path=\/mine/);
    assert.match(await d.waitForLog(/event=pylon\.invalid pylon=typo/), /line=5 /);
    assert.match(
      await d.waitForLog(/event=pylon\.invalid pylon=unparsed/),
      /line=\d+ reason="YAML syntax error.* path=\/unparsed /,
    );
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a folder with a bad name added while running is logged with its path; the others keep serving", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-broken-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/hook") });
  const d = await startTestDaemon(root);
  try {
    await writeHome(root, { "pylons/Bad Name/pylon.yaml": yaml("bad-name", "/bad") });
    const line = await d.waitForLog(/event=pylon\.reload_failed pylon="Bad Name"/, 2000);
    assert.match(line, /file=".*pylons\/Bad Name\/pylon\.yaml"/);
    assert.match(line, /rename it to bad-name/);
    assert.match(line, /kept="not active"/);
    // The file already says name: bad-name, so only the folder needs renaming.
    assert.match(line, /hint="rename the folder: cd .* && mv 'Bad Name' bad-name"/);
    assert.deepEqual(await post(`${d.url}/bad`), { status: 503, body: notLoaded("Bad Name") });
    assert.equal((await post(`${d.url}/hook`)).status, 202);
    assert.equal(d.logs.filter((l) => /watch\.failed/.test(l)).length, 0, d.logs.join("\n"));

    // A new file whose YAML does not parse still closes the path it names.
    await writeHome(root, { "pylons/unparsed/pylon.yaml": yaml("unparsed", "/u") + "  bad: [\n" });
    await d.waitForLog(/event=pylon\.reload_failed pylon=unparsed .*path=\/u /, 2000);
    assert.deepEqual(await post(`${d.url}/u`), { status: 503, body: notLoaded("unparsed") });

    // Renamed as told: it loads, and its path serves.
    await Deno.rename(`${root}/pylons/Bad Name`, `${root}/pylons/bad-name`);
    await eventually(async () => (await post(`${d.url}/bad`)).status === 202, 2000);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a secret added before its variable exists fails closed until the .env has it", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-broken-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/hook") });
  const d = await startTestDaemon(root);
  try {
    assert.equal((await post(`${d.url}/hook`)).status, 202);

    // The edit names a secret whose variable is not set yet: the unsigned config must not
    // keep serving.
    await writeHome(root, {
      "pylons/hook/pylon.yaml": yaml(
        "hook",
        "/hook",
        '  secret: "${HOOK_SECRET}"\n  signature_header: X-Signature\n',
      ),
    });
    const line = await d.waitForLog(/event=pylon\.reload_failed pylon=hook/, 2000);
    assert.match(line, /file=.*pylons\/hook\/pylon\.yaml line=5 field=trigger\.secret/);
    assert.match(line, /kept=nothing/);
    assert.match(line, /\/hook answers 503 until the pylon loads again/);
    const refused = await post(`${d.url}/hook`);
    assert.deepEqual(refused, { status: 503, body: notLoaded("hook") });
    assert.doesNotMatch(refused.body, /HOOK_SECRET|pylon\.yaml|\.env/);

    await writeHome(root, { "pylons/hook/.env": "HOOK_SECRET=s3cret\n" });
    await eventually(async () => (await post(`${d.url}/hook`)).status === 401, 2000);
    const body = new TextEncoder().encode("{}");
    const headers = await signRequest({ secret: "s3cret", header: "X-Signature" }, body);
    assert.equal((await post(`${d.url}/hook`, headers)).status, 202);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an invalid edit outside the security fields keeps the last good config serving", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-broken-" });
  const users = "channel:\n  type: telegram\n  telegram:\n    bot_token: '1:x'\n    chat_id: 5\n" +
    "    allowed_users: [1, 2]\n";
  await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/hook", "", "") + users });
  const d = await startTestDaemon(root);
  try {
    await writeHome(root, {
      "pylons/hook/pylon.yaml": yaml("hook", "/hook", "", "  timeout: banana\n") + users,
    });
    const kept = await d.waitForLog(/event=pylon\.reload_failed pylon=hook/, 2000);
    assert.match(kept, /line=7 reason="agent\.timeout: is not a duration/);
    assert.match(kept, /kept="previous config"/);
    assert.equal((await post(`${d.url}/hook`)).status, 202);

    // The same broken edit, but user 2 is also removed from allowed_users: fail closed.
    const before = d.logs.length;
    await writeHome(root, {
      "pylons/hook/pylon.yaml": yaml("hook", "/hook", "", "  timeout: banana\n") +
        users.replace("[1, 2]", "[1]"),
    });
    await eventually(async () => (await post(`${d.url}/hook`)).status === 503, 2000);
    const closed = d.logs.slice(before).find((l) => /event=pylon\.reload_failed/.test(l))!;
    assert.match(closed, /line=13 field=channel\.telegram\.allowed_users/);
    assert.match(closed, /problem=".*pylon\.yaml:7: agent\.timeout: is not a duration/);

    // A YAML syntax error cannot be compared with anything: fail closed too (after a fix).
    await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/hook") + users });
    await eventually(async () => (await post(`${d.url}/hook`)).status === 202, 2000);
    await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/hook") + "  bad: [\n" });
    await eventually(async () => (await post(`${d.url}/hook`)).status === 503, 2000);
    assert.match(
      d.logs.findLast((l) => /event=pylon\.reload_failed/.test(l))!,
      /field="\(the whole file\)" reason="the file does not parse/,
    );
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a broken config.yaml still refuses to start, naming the file and line", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-broken-" });
  await writeHome(root, {
    "config.yaml": "server:\n  host: 127.0.0.1\n  prot: 8080\n",
    "pylons/hook/pylon.yaml": yaml("hook", "/hook"),
  });
  try {
    await assert.rejects(
      () => startTestDaemon(root),
      (e: Error) => e.name === "ConfigError" && /config\.yaml:3:3: .*prot/.test(e.message),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("queued jobs of a pylon whose edit failed closed wait for the fix instead of failing", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-broken-" });
  await writeHome(root, {
    "config.yaml": "docker:\n  max_concurrent: 1\n",
    "pylons/hook/pylon.yaml": yaml("hook", "/hook"),
  });
  const runner = createScriptedRunner();
  runner.hold();
  const d = await startTestDaemon(root, { runner });
  try {
    const first = JSON.parse((await post(`${d.url}/hook`)).body).job_id;
    const second = JSON.parse((await post(`${d.url}/hook`)).body).job_id;
    await eventually(() => Promise.resolve(runner.active.has(first)));
    // A YAML syntax error cannot show that the secret is unchanged: the pylon fails closed.
    await Deno.writeTextFile(`${root}/pylons/hook/pylon.yaml`, "name: hook\ntrigger: [\n");
    await eventually(async () => (await post(`${d.url}/hook`)).status === 503);
    runner.release();
    const status = async (id: string) => (await (await d.api(`/api/jobs/${id}`)).json()).status;
    await eventually(async () => await status(first) === "completed");
    await new Promise((r) => setTimeout(r, 200)); // the dispatcher has had its turn
    assert.equal(await status(second), "queued");

    await Deno.writeTextFile(`${root}/pylons/hook/pylon.yaml`, yaml("hook", "/hook"));
    await eventually(async () => await status(second) === "completed");
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
