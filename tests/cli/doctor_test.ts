import assert from "node:assert/strict";
import { collectChecks, doctorCommand, runDoctor } from "../../src/cli/commands/doctor.ts";
import type { Check, FetchFn } from "../../src/cli/doctor/mod.ts";
import { cli, createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";
import { startTestDaemon } from "../_helpers/daemon.ts";
import { startFakeTelegram } from "../fakes/telegram_server.ts";
import { emptyDocker, fakeDocker, freePort, offline } from "./_doctor.ts";

const WEBHOOK = `name: hook
trigger:
  type: webhook
  path: /hook
agent:
  prompt: hi
`;

/** A home whose config passes: a free port, an existing OAuth folder, a 600 .env. */
async function healthyHome(extraConfig = ""): Promise<TestContext> {
  const ctx = await createTestContext();
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    `server:\n  host: 127.0.0.1\n  port: ${freePort()}\n${extraConfig}` +
      `defaults:\n  agent:\n    claude:\n      oauth_path: ${ctx.paths.root}\n`,
  );
  await Deno.writeTextFile(ctx.paths.globalEnv, "X=1\n", { mode: 0o600 });
  await Deno.chmod(ctx.paths.globalEnv, 0o600);
  return ctx;
}

async function doctor(ctx: TestContext, fetch: FetchFn = offline): Promise<Check[]> {
  return await collectChecks(ctx, { docker: fakeDocker, fetch });
}

function find(checks: Check[], label: string): Check {
  const c = checks.find((x) => x.label === label);
  assert.ok(c, `no check "${label}" in ${JSON.stringify(checks.map((x) => x.label))}`);
  return c;
}

Deno.test("doctor passes a healthy home, exits 0 and shows a cron pylon's next run", async () => {
  await using ctx = await healthyHome();
  await writePylon(
    ctx,
    "nightly",
    "name: nightly\ntrigger:\n  type: cron\n  cron: 0 9 * * *\n  timezone: Europe/Berlin\n" +
      "agent:\n  prompt: hi\n",
  );
  const code = await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline } });
  const out = ctx.stdout();
  assert.equal(code, 0, out);
  assert.match(out, /^Pylon Doctor\n\nConfig\n {2}Config \.+ ok {4}.*config\.yaml found\n/);
  assert.match(
    out,
    /\n {2}nightly cron \.+ ok {4}0 9 \* \* \* \(Europe\/Berlin\) next: 2026-11-25 09:00\n/,
  );
  assert.match(out, /\n {2}Engine \.+ ok {4}running \(v27\.1\.1, API 1\.46\)\n/);
  assert.match(out, /Agent image \.+ ok {4}pylon\/agent-claude:[0-9a-f]{12} \(pylon nightly\)\n/);
  assert.match(out, /\n {2}Daemon \.+ -- {4}not running\n/);
  assert.match(out, /\nPylons \(1\)\n/);
  assert.match(out, /\nAll checks passed\.\n$/);
});

Deno.test("doctor lines up every status of a section, also after a long pylon name", async () => {
  await using ctx = await healthyHome();
  await writePylon(ctx, "hook", WEBHOOK);
  await writePylon(
    ctx,
    "my-nightly-cron-audit",
    "name: my-nightly-cron-audit\ntrigger:\n  type: cron\n  cron: 0 9 * * *\n" +
      "agent:\n  prompt: hi\n",
  );
  await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline } });
  const out = ctx.stdout();
  // The longest label gets three dots; the others of its section line up with it.
  assert.match(out, /\n {2}my-nightly-cron-audit channel \.{3} ok {4}stdout\n/, out);
  assert.match(out, /\n {2}my-nightly-cron-audit cron \.{6} ok {4}0 9 \* \* \*/, out);
  // Each section's rows: the status starts in one column, after at least three dots.
  for (const block of out.split("\n\n").slice(1, -1)) {
    const rows = block.split("\n").filter((l) => /^ {2}\S.* \.{3,} (ok|FAIL|WARN|--) /.test(l));
    const columns = new Set(rows.map((l) => l.search(/ (ok|FAIL|WARN|--) /)));
    assert.equal(columns.size, rows.length ? 1 : 0, block);
  }
  // A section of short labels keeps the usual width.
  assert.match(out, /\n {2}Engine \.{16} ok {4}/);
});

Deno.test("doctor reports a broken pylon with file:line:col and exits 1", async () => {
  await using ctx = await healthyHome();
  await writePylon(ctx, "hook", WEBHOOK.replace("type: webhook", "type: webhok"));
  const code = await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline } });
  assert.equal(code, 1);
  assert.match(
    ctx.stdout(),
    /\n {2}hook \.+ FAIL {2}.*pylons\/hook\/pylon\.yaml:3:9: trigger\.type: "webhok" is not supported; use "webhook".*\n {6}fix: edit it with `pylon edit hook`\n/,
  );
  assert.match(ctx.stdout(), /\n1 problem found\.\n$/);
});

Deno.test("doctor names every problem of a pylon that does not load, each at its line", async () => {
  await using ctx = await healthyHome();
  await writePylon(
    ctx,
    "hook",
    WEBHOOK.replace("type: webhook", "type: webhok") + "channel:\n  type: stdot\n",
  );
  const code = await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline } });
  assert.equal(code, 1);
  assert.match(
    ctx.stdout(),
    /\n {2}hook \.+ FAIL {2}2 problems:\n {6}\S*pylons\/hook\/pylon\.yaml:3:9: trigger\.type: "webhok" is not supported; use "webhook".*\n {6}\S*pylons\/hook\/pylon\.yaml:8:9: channel\.type: "stdot" is not supported; use "stdout".*\n {6}fix: edit it with `pylon edit hook`\n/,
  );
});

Deno.test("doctor names an unset ${VAR} and the .env file to put it in, never a value", async () => {
  await using ctx = await healthyHome();
  await writePylon(
    ctx,
    "hook",
    WEBHOOK.replace(
      "path: /hook",
      'path: /hook\n  secret: "${HOOK_SECRET}"\n  signature_header: X-Sig',
    ),
  );
  const c = find(await doctor(ctx), "hook");
  assert.equal(c.status, "FAIL");
  assert.match(c.detail, /:5:11: trigger\.secret: references \$\{HOOK_SECRET\} but it is not set/);
  assert.match(c.detail, /HOOK_SECRET=<value> to .*pylons\/hook\/\.env/);
});

Deno.test("doctor warns about a group-readable .env with the chmod to run", async () => {
  await using ctx = await healthyHome();
  await Deno.chmod(ctx.paths.globalEnv, 0o640);
  const checks = await doctor(ctx);
  const c = find(checks, ".env");
  assert.equal(c.status, "WARN");
  assert.match(c.detail, /readable by group\/others \(mode 640\)/);
  assert.equal(c.hint, `it holds secrets: chmod 600 ${ctx.paths.globalEnv}`);
  assert.equal(await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline } }), 0);
  assert.match(
    ctx.stdout(),
    /\nAll checks passed\. \(1 warning\)\n`pylon doctor --fix` can do this for you: chmod 600 .*\/\.env\n$/,
  );
});

Deno.test("doctor names the problems --fix cannot repair beside the ones it can", async () => {
  await using ctx = await healthyHome();
  await Deno.chmod(ctx.paths.globalEnv, 0o640);
  await writePylon(ctx, "hook", WEBHOOK.replace("agent:", "worksapce: {}\nagent:"));
  assert.equal(await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline } }), 1);
  assert.match(
    ctx.stdout(),
    /\n1 problem found\.\n`pylon doctor --fix` can do this for you: chmod 600 .*\/\.env\nIt does not fix the problem that needs you \(the fix: under it\): hook\n$/,
  );
});

Deno.test("doctor fails on a missing CA certificate file", async () => {
  await using ctx = await healthyHome("docker:\n  ca_certificates: [/nonexistent/corp.pem]\n");
  const c = find(await doctor(ctx), "CA certificate");
  assert.equal(c.status, "FAIL");
  assert.match(c.detail, /Cannot read CA certificate "\/nonexistent\/corp\.pem"/);
  assert.match(c.hint ?? "", /docker\.ca_certificates/);
});

Deno.test("doctor fails when the claude OAuth folder is missing", async () => {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(ctx.paths.globalConfig, `server:\n  port: ${freePort()}\n`);
  await writePylon(ctx, "hook", WEBHOOK);
  const c = find(await doctor(ctx), "claude (oauth)");
  assert.equal(c.status, "FAIL");
  assert.equal(c.detail, "~/.claude not found (pylon hook)");
  assert.equal(c.hint, "run `claude` once on this host, or use auth: api_key");
  // One missing folder is one problem, whatever the number of pylons that need it; a custom
  // image needs no login unless its pylon sets auth.
  await writePylon(
    ctx,
    "other",
    WEBHOOK.replace("name: hook", "name: other").replace("/hook", "/other"),
  );
  await writePylon(
    ctx,
    "own",
    "name: own\ntrigger:\n  type: webhook\n  path: /own\nagent:\n  type: custom\n" +
      "  image: busybox\n  prompt: hi\n",
  );
  const checks = await doctor(ctx);
  const rows = checks.filter((x) => x.section === "Agent auth");
  assert.deepEqual(rows.map((x) => [x.label, x.status, x.detail]), [
    ["claude (oauth)", "FAIL", "~/.claude not found (pylons hook, other)"],
    ["custom (none)", "--", "no credentials needed (pylon own)"],
  ]);
});

Deno.test("doctor with no pylon checks the agent login config.yaml's defaults need", async () => {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(ctx.paths.globalConfig, `server:\n  port: ${freePort()}\n`);
  const checks = await doctor(ctx);
  const c = find(checks, "claude (oauth)");
  assert.equal(c.status, "FAIL");
  assert.equal(c.detail, "~/.claude not found (config.yaml defaults)");
  assert.equal(await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline } }), 1);
  assert.doesNotMatch(ctx.stdout(), /All checks passed/);
});

Deno.test("doctor names the API key variable and the .env files when it is unset", async () => {
  await using ctx = await healthyHome();
  await writePylon(ctx, "hook", WEBHOOK + "  auth: api_key\n");
  const c = find(await doctor(ctx), "claude (api_key)");
  assert.equal(c.status, "FAIL");
  assert.equal(c.detail, "ANTHROPIC_API_KEY not set (pylon hook)");
  assert.match(c.hint ?? "", /ANTHROPIC_API_KEY=<key> to .*pylons\/hook\/\.env or .*\/\.env/);
});

Deno.test("doctor probes a public webhook URL through the injected fetch", async (t) => {
  const probe = (res: Response | Error): FetchFn => (url) => {
    if (url.endsWith("/healthz")) return Promise.reject(new TypeError("refused"));
    return res instanceof Error ? Promise.reject(res) : Promise.resolve(res);
  };
  await using ctx = await healthyHome();
  await writePylon(
    ctx,
    "hook",
    WEBHOOK.replace("path: /hook", "path: /hook\n  public_url: https://ex.test"),
  );
  await t.step("pylon's 405 is reachable", async () => {
    const res = new Response('{"error":"use POST for /hook"}', { status: 405 });
    const c = find(await doctor(ctx, probe(res)), "hook webhook");
    assert.deepEqual([c.status, c.detail], ["ok", "https://ex.test/hook reachable"]);
  });
  await t.step("another server's answer is a WARN", async () => {
    const c = find(await doctor(ctx, probe(new Response("hi", { status: 200 }))), "hook webhook");
    assert.equal(c.status, "WARN");
    assert.match(c.detail, /answered 200 \(may not be routed to pylon\)/);
  });
  await t.step("a connection error while stopped is a WARN", async () => {
    const c = find(await doctor(ctx, probe(new TypeError("dns error"))), "hook webhook");
    assert.equal(c.status, "WARN");
    assert.match(c.detail, /unreachable \(the daemon is not running\)/);
  });
});

Deno.test("doctor warns when the port is used by another program", async () => {
  await using ctx = await createTestContext();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  await Deno.writeTextFile(ctx.paths.globalConfig, `server:\n  host: 127.0.0.1\n  port: ${port}\n`);
  const c = find(await doctor(ctx), `Port ${port}`);
  assert.equal(c.status, "WARN");
  assert.equal(c.detail, "in use by another program");
});

Deno.test("doctor shows the port a daemon started with --port listens on, and its URLs", async () => {
  await using ctx = await healthyHome();
  await writePylon(ctx, "hook", WEBHOOK);
  const configured = /port: (\d+)/.exec(await Deno.readTextFile(ctx.paths.globalConfig))![1];
  const d = await startTestDaemon(ctx.paths.root); // on another port, as `--port` does
  try {
    const port = new URL(d.url).port;
    assert.notEqual(port, configured);
    const checks = await doctor(ctx, (input, init) => fetch(input, init));
    assert.ok(!checks.some((c) => c.label === `Port ${configured}`), JSON.stringify(checks));
    const row = find(checks, `Port ${port}`);
    assert.equal(row.status, "ok");
    assert.match(
      row.detail,
      new RegExp(
        `used by pylon \\(pid \\d+\\), started with --port ${port} \\(server: 127\\.0\\.0\\.1:${configured} applies`,
      ),
    );
    assert.match(
      find(checks, "hook webhook").detail,
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/hook `),
    );
  } finally {
    await d.stop();
  }
});

Deno.test("doctor --json prints checks, problems and warnings", async () => {
  await using ctx = await healthyHome();
  await writePylon(ctx, "bad", "name: bad\n");
  const code = await runDoctor(ctx, { json: true, deps: { docker: fakeDocker, fetch: offline } });
  assert.equal(code, 1);
  const report = JSON.parse(ctx.stdout());
  assert.deepEqual(Object.keys(report), ["checks", "problems", "warnings"]);
  assert.equal(report.problems, 1);
  assert.equal(report.warnings, 0);
  for (const c of report.checks) {
    assert.deepEqual(Object.keys(c).sort(), [
      "detail",
      "fixable",
      "hint",
      "label",
      "section",
      "status",
    ]);
  }
  const bad = report.checks.find((c: Check) => c.label === "bad");
  assert.equal(bad.section, "Pylons (1)");
  assert.equal(bad.status, "FAIL");
  assert.equal(typeof bad.hint, "string");
  assert.equal(report.checks.find((c: Check) => c.label === "Config").hint, null);
});

Deno.test("doctor reports an unreachable DOCKER_HOST with the client's hint", async () => {
  await using ctx = await createTestContext({ env: { DOCKER_HOST: "unix:///nonexistent.sock" } });
  const code = await doctorCommand.run({ positionals: [], values: {} }, ctx);
  assert.equal(code, 1);
  assert.match(ctx.stdout(), /\n {2}Engine \.+ FAIL {2}.*\n {6}fix: .*Docker/);
});

const DOCKER_SOCKET = (() => {
  try {
    Deno.statSync("/var/run/docker.sock");
    return true;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "doctor finds the real Docker Engine when it answers",
  ignore: !DOCKER_SOCKET && Deno.env.get("PYLON_REQUIRE_DOCKER") !== "1",
  async fn() {
    await using ctx = await healthyHome();
    const c = find(await collectChecks(ctx, { fetch: offline }), "Engine");
    assert.equal(c.status, "ok", c.detail);
    assert.match(c.detail, /^running \(v\S+, API \S+\)$/);
  },
});

Deno.test("doctor checks a telegram channel's settings without printing the token", async () => {
  await using ctx = await healthyHome();
  await using tg = startFakeTelegram({ token: "sekret-123:abc" });
  await Deno.writeTextFile(ctx.paths.globalEnv, "TG_TOKEN=sekret-123:abc\n", { mode: 0o600 });
  await writePylon(
    ctx,
    "hook",
    WEBHOOK + 'channel:\n  type: telegram\n  telegram:\n    bot_token: "${TG_TOKEN}"\n' +
      `    api_url: ${tg.url}\n`,
  );
  assert.equal(await runDoctor(ctx, { deps: { docker: fakeDocker, fetch } }), 0);
  assert.match(
    ctx.stdout(),
    /hook channel \.+ ok {4}telegram, chat detected from the first message/,
  );
  assert.doesNotMatch(ctx.stdout(), /sekret/);
});

Deno.test("pylon doctor --offline skips the chat APIs and public URL probes", async () => {
  await using ctx = await createTestContext({ env: { DOCKER_HOST: "unix:///nonexistent.sock" } });
  await Deno.writeTextFile(ctx.paths.globalConfig, `server:\n  port: ${freePort()}\n`);
  await writePylon(
    ctx,
    "hook",
    WEBHOOK.replace("path: /hook", "path: /hook\n  public_url: https://ex.test") +
      "channel:\n  type: telegram\n  telegram:\n    bot_token: 1:x\n" +
      `    api_url: http://127.0.0.1:${freePort()}\n`,
  );
  await cli(ctx, "doctor", "--offline");
  const out = ctx.stdout();
  assert.match(
    out,
    /\n {2}hook webhook \.+ -- {4}https:\/\/ex\.test\/hook not probed \(--offline\)\n/,
  );
  assert.match(out, /\nChannels\n {2}Channel APIs \.+ -- {4}--offline\n/);
  assert.doesNotMatch(out, /Telegram bot/);
});

Deno.test("doctor warns about a missing agent image with the rebuild-images command", async () => {
  await using ctx = await healthyHome();
  await writePylon(ctx, "hook", WEBHOOK);
  const code = await runDoctor(ctx, { deps: { docker: emptyDocker, fetch: offline } });
  const out = ctx.stdout();
  assert.equal(code, 0, out);
  assert.match(
    out,
    /\n {2}Agent image \.+ WARN {2}pylon\/agent-claude:[0-9a-f]{12} not built yet \(pylon hook\)\n {6}fix: build it now with `pylon rebuild-images claude`/,
  );
  assert.match(out, /\nAll checks passed\. \(1 warning\)\n`pylon doctor --fix` can do this/);
});

Deno.test("doctor without pylons checks the default agent image and chat API", async () => {
  await using ctx = await healthyHome(
    "channel_placeholder",
  );
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    (await Deno.readTextFile(ctx.paths.globalConfig)).replace(
      "channel_placeholder",
      "",
    ).replace(
      "defaults:\n",
      "defaults:\n  channel:\n    type: telegram\n    telegram:\n      bot_token: 123:SECRETTOKEN\n" +
        "      chat_id: -100\n      api_url: http://127.0.0.1:1\n",
    ),
  );
  const code = await runDoctor(ctx, { deps: { docker: emptyDocker, fetch: offline } });
  const out = ctx.stdout();
  assert.notEqual(code, 0, out);
  assert.doesNotMatch(out, /All checks passed/);
  assert.match(out, /\nPylons \(0\)\n/);
  assert.match(
    out,
    /Agent image \.+ WARN {2}pylon\/agent-claude:\S+ not built yet \(config\.yaml defaults\)/,
  );
  assert.match(out, /\nChannels\n {2}Telegram bot \.+ FAIL .*\(config\.yaml defaults\)/);
  assert.doesNotMatch(out, /SECRETTOKEN/);
});

Deno.test("doctor names the pylons in its agent image and agent auth rows", async () => {
  await using ctx = await healthyHome();
  await writePylon(ctx, "hook", WEBHOOK);
  await writePylon(
    ctx,
    "other",
    WEBHOOK.replace("name: hook", "name: other").replace("/hook", "/other"),
  );
  const checks = await doctor(ctx);
  assert.match(find(checks, "Agent image").detail, / \(pylons hook, other\)$/);
  assert.match(find(checks, "claude (oauth)").detail, / \(pylons hook, other\)$/);
});
