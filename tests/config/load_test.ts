import assert from "node:assert/strict";
import { ConfigError } from "../../src/errors.ts";
import { loadAllPylons, loadGlobalConfig, loadPylon, resolvePylon } from "../../src/config/mod.ts";
import { createTestContext, writePylon } from "../_helpers/cli.ts";

const MINIMAL = `name: hook
trigger:
  type: webhook
  path: /hook
agent:
  prompt: "Look at {{ .body.x }}"
`;

async function loadError(fn: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("loadGlobalConfig() uses built-in defaults when config.yaml is absent", async () => {
  await using ctx = await createTestContext();
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  assert.equal(global.exists, false);
  assert.equal(global.config.server.port, 8080);
  assert.equal(global.config.server.host, "0.0.0.0");
  assert.equal(global.config.defaults.channel.type, "stdout");
  assert.equal(global.config.defaults.agent.type, "claude");
  assert.equal(global.config.docker.max_concurrent, 3);
  assert.equal(global.config.docker.max_queue, 100);
  assert.equal(global.config.docker.default_timeout, "15m");
  assert.equal(global.config.jobs.retain_days, 90);
});

Deno.test("loadGlobalConfig() points a misplaced key at its section with line and column", async () => {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    "version: 1\nport: 9000\nserver:\n  host: 127.0.0.1\n",
  );
  const e = await loadError(() => loadGlobalConfig(ctx.paths, ctx.env));
  assert.equal(e.issues.length, 1);
  assert.equal(e.issues[0]!.line, 2);
  assert.equal(e.issues[0]!.column, 1);
  assert.match(
    e.message,
    /config\.yaml:2:1: port: `port` is not valid at the top level; it belongs under `server`/,
  );
});

Deno.test("loadGlobalConfig() fills unset variables from the global .env without overriding exported ones", async () => {
  await using ctx = await createTestContext({ env: { TOKEN_A: "from-shell" } });
  await Deno.writeTextFile(ctx.paths.globalEnv, "TOKEN_A=from-file\nTOKEN_B=file-b\n");
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    'defaults:\n  channel:\n    type: telegram\n    telegram:\n      bot_token: "${TOKEN_A}-${TOKEN_B}"\n',
  );
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  assert.equal(global.config.defaults.channel.telegram?.bot_token, "from-shell-file-b");
});

Deno.test("loadPylon() explains a top-level key that belongs under channel", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", MINIMAL + "approval: true\n");
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const e = await loadError(() => loadPylon(ctx.paths, "hook", global));
  assert.match(
    e.message,
    /pylon\.yaml:7:1: approval: `approval` is not valid at the top level; it belongs under `channel`/,
  );
  assert.equal(e.hint, "edit it with `pylon edit hook`");
});

Deno.test("loadPylon() suggests the right spelling of a mistyped key and value", async () => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "hook",
    "name: hook\ntrigger:\n  type: webhok\n  path: /hook\n  sceret: abc\nagent:\n  prompt: hi\n",
  );
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const e = await loadError(() => loadPylon(ctx.paths, "hook", global));
  assert.equal(e.issues.length, 2, e.message);
  assert.match(e.message, /:3:9: trigger\.type: "webhok" is not supported; use "webhook"/);
  assert.match(
    e.message,
    /:5:3: trigger\.sceret: unknown key `sceret` under `trigger`; did you mean `secret`\?/,
  );
});

Deno.test("loadPylon() names an unset variable and where to put it, never a secret value", async () => {
  await using ctx = await createTestContext({ env: { AGENT_KIND: "hunter2-secret" } });
  await writePylon(
    ctx,
    "hook",
    'name: hook\ntrigger:\n  type: webhook\n  path: /hook\n  secret: "${HOOK_SECRET}"\n' +
      "  signature_header: X-Hub-Signature-256\nagent:\n  type: ${AGENT_KIND}\n  prompt: hi\n",
  );
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const e = await loadError(() => loadPylon(ctx.paths, "hook", global));
  assert.match(
    e.message,
    /:5:11: trigger\.secret: references \$\{HOOK_SECRET\} but it is not set; add HOOK_SECRET=<value> to .*pylons\/hook\/\.env \(this pylon only\) or .*\.env/,
  );
  assert.match(e.message, /agent\.type: the value from the environment is not supported/);
  assert.doesNotMatch(e.message, /hunter2/);
});

Deno.test("loadPylon() resolves ${VAR} from the pylon's .env before the process env", async () => {
  await using ctx = await createTestContext({ env: { HOOK_SECRET: "process" } });
  await writePylon(
    ctx,
    "hook",
    'name: hook\ntrigger:\n  type: webhook\n  path: /hook\n  secret: "${HOOK_SECRET}"\n' +
      "  signature_header: X-Hub-Signature-256\nagent:\n  prompt: hi\n",
    "HOOK_SECRET=per-pylon\n",
  );
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const pylon = await loadPylon(ctx.paths, "hook", global);
  assert.equal(pylon.config.trigger.secret, "per-pylon");
});

Deno.test("loadPylon() reports a YAML syntax error with its line", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", "name: hook\ntrigger:\n  type: webhook\n  path: [/x\n");
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const e = await loadError(() => loadPylon(ctx.paths, "hook", global));
  assert.match(e.message, /pylon\.yaml:\d+:\d+: YAML syntax error: /);
  // A key indented one space too far is named at its own line, in words.
  await writePylon(ctx, "hook", "name: hook\ntrigger:\n  type: webhook\n   path: /x\n");
  const indent = await loadError(() => loadPylon(ctx.paths, "hook", global));
  assert.equal(indent.issues.length, 1);
  assert.match(indent.message, /pylon\.yaml:4:4: `path` .*its indentation does not match/);
});

Deno.test("loadPylon() reports every problem at once", async () => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "hook",
    [
      "name: other",
      "trigger:",
      "  type: cron",
      '  cron: "0 25 * * *"',
      "  timezone: Mars/Olympus",
      "workspace:",
      "  type: git-clone",
      "agent:",
      "  timeout: soon",
      "  volumes:",
      '    - "/var/run/docker.sock:/var/run/docker.sock"',
      '    - "/etc/ssh:/ssh:ro"',
      '    - "relative:/x"',
      '  prompt: "{{ if .body.x }}unclosed"',
    ].join("\n"),
  );
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const e = await loadError(() => loadPylon(ctx.paths, "hook", global));
  const byPath = Object.fromEntries(e.issues.map((i) => [i.keyPath, i]));
  assert.match(byPath["agent.timeout"]!.message, /not a duration/);
  assert.equal(byPath["agent.timeout"]!.line, 9);
  // The schema failed, so the cross-field checks did not run yet: fix shapes first.
  const e2 = await (async () => {
    await writePylon(
      ctx,
      "hook",
      (await Deno.readTextFile(ctx.paths.pylonConfig("hook"))).replace(
        "timeout: soon",
        "timeout: 5m",
      ),
    );
    return await loadError(() => loadPylon(ctx.paths, "hook", global));
  })();
  const p = Object.fromEntries(e2.issues.map((i) => [i.keyPath, i]));
  assert.match(p["name"]!.message, /is "other" but the pylon's folder is "hook"/);
  assert.match(p["trigger.cron"]!.message, /hour/);
  assert.equal(p["trigger.cron"]!.line, 4);
  assert.match(p["trigger.timezone"]!.message, /not an IANA time zone/);
  assert.match(p["workspace"]!.message, /needs `repo`/);
  assert.match(p["agent.volumes[0]"]!.message, /not allowed/);
  assert.match(p["agent.volumes[1]"]!.message, /not allowed/);
  assert.match(p["agent.volumes[2]"]!.message, /absolute path or start with ~/);
  assert.match(p["agent.prompt"]!.message, /template error at line 1, column \d+/);
  assert.equal(p["agent.prompt"]!.line, 14);
});

Deno.test("loadAllPylons() returns a broken pylon's error without dropping the others", async () => {
  await using ctx = await createTestContext();
  await writePylon(ctx, "hook", MINIMAL);
  await writePylon(ctx, "broken", "name: broken\ntrigger:\n  type: carrier-pigeon\n");
  await Deno.mkdir(ctx.paths.pylonDir("empty-folder"), { recursive: true });
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const results = await loadAllPylons(ctx.paths, global);
  assert.deepEqual(results.map((r) => [r.name, r.ok]), [["broken", false], ["hook", true]]);
});

Deno.test("resolvePylon() takes the pylon first, then config.yaml defaults, then built-ins", async () => {
  await using ctx = await createTestContext({ env: { ANTHROPIC_API_KEY: "sk-test" } });
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    [
      "defaults:",
      "  timezone: Europe/Berlin",
      "  agent:",
      "    type: claude",
      "    claude:",
      "      auth: api_key",
      "docker:",
      "  default_timeout: 20m",
    ].join("\n"),
  );
  await writePylon(ctx, "hook", MINIMAL);
  await writePylon(
    ctx,
    "audit",
    'name: audit\ntrigger:\n  type: cron\n  cron: "0 9 * * 1"\nchannel:\n  approval: true\n' +
      "agent:\n  type: opencode\n  auth: api-key\n  provider: openai\n  api_key: k\n  timeout: 30m\n  prompt: audit\n",
  );
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const ctxR = { env: ctx.env, systemTimezone: "UTC" };
  const hook = resolvePylon(
    (await loadPylon(ctx.paths, "hook", global)).config,
    global.config,
    ctxR,
  );
  assert.equal(hook.agent.type, "claude");
  assert.equal(hook.agent.auth, "api_key");
  assert.equal(hook.agent.apiKey, "sk-test");
  assert.equal(hook.agent.image, "pylon/agent-claude");
  assert.equal(hook.agent.timeoutMs, 20 * 60_000);
  assert.equal(hook.channel.type, "stdout");
  assert.equal(hook.timezone, "Europe/Berlin");
  assert.equal(hook.webhookUrl, "http://localhost:8080/hook");
  const audit = resolvePylon(
    (await loadPylon(ctx.paths, "audit", global)).config,
    global.config,
    ctxR,
  );
  assert.equal(audit.agent.type, "opencode");
  assert.equal(audit.agent.auth, "api_key");
  assert.equal(audit.agent.apiKeyVar, "OPENAI_API_KEY");
  assert.equal(audit.agent.timeoutMs, 30 * 60_000);
  assert.equal(audit.channel.approval, false, "cron pylons never wait for approval");
});

Deno.test("channel.type lists several channels; each needs its settings, from the pylon or config.yaml", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_x" } });
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    "defaults:\n  channel:\n    type: telegram\n    telegram:\n      bot_token: t\n",
  );
  const pylon = (channel: string) =>
    `name: both\ntrigger:\n  type: webhook\n  path: /both\nchannel:\n${channel}agent:\n  prompt: p\n`;
  await writePylon(
    ctx,
    "both",
    pylon('  type: [github, telegram]\n  github:\n    token: "${GITHUB_TOKEN}"\n'),
  );
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  const loaded = await loadPylon(ctx.paths, "both", global);
  const resolved = resolvePylon(loaded.config, global.config, {
    env: ctx.env,
    systemTimezone: "UTC",
  });
  assert.deepEqual(resolved.channel.types, ["github", "telegram"]);
  assert.equal(resolved.channel.type, "github");
  assert.equal(resolved.channel.github?.token, "ghp_x");
  assert.equal(resolved.channel.github?.api_url, "https://api.github.com");
  assert.equal(
    resolved.channel.telegram?.bot_token,
    "t",
    "telegram settings come from config.yaml",
  );

  await writePylon(ctx, "both", pylon("  type: [github, slack]\n"));
  const missing = await loadError(() => loadPylon(ctx.paths, "both", global));
  const text = missing.issues.map((i) => `${i.keyPath}: ${i.message}`).join("\n");
  assert.match(
    text,
    /channel\.github\.token: is required for a github channel, e\.g\. token: "\$\{GITHUB_TOKEN\}"/,
  );
  assert.match(text, /channel\.slack\.bot_token: is required for a slack channel/);

  await writePylon(ctx, "both", pylon("  type: [github, github]\n"));
  const twice = await loadError(() => loadPylon(ctx.paths, "both", global));
  assert.match(twice.message, /channel\.type: names a channel twice/);

  await writePylon(ctx, "both", pylon("  type: [stdout]\n  github:\n    token: x\n"));
  const stray = await loadError(() => loadPylon(ctx.paths, "both", global));
  assert.match(
    stray.message,
    /channel\.github: is set but the channel type is stdout; remove it or add github to type/,
  );
});

Deno.test("a pylon without agent.type takes config.yaml's custom agent: it needs agent.image, and may have a command", async () => {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(ctx.paths.globalConfig, "defaults:\n  agent:\n    type: custom\n");
  const global = await loadGlobalConfig(ctx.paths, ctx.env);
  // What `pylon setup --agent custom` then `pylon construct x --from blank` leave: no image.
  await writePylon(ctx, "hook", MINIMAL);
  const missing = await loadError(() => loadPylon(ctx.paths, "hook", global));
  assert.equal(missing.issues.length, 1, missing.message);
  assert.equal(missing.issues[0]!.keyPath, "agent");
  assert.equal(missing.issues[0]!.line, 6, "at the pylon's agent section");
  assert.match(
    missing.issues[0]!.message,
    /a custom agent needs `image`.*\(agent\.type is custom: config\.yaml defaults\.agent\.type\); set agent\.image/,
  );

  await writePylon(
    ctx,
    "hook",
    `${MINIMAL}  image: pylon-test/busybox\n  command: ["sh", "-c", "echo hi"]\n`,
  );
  const loaded = await loadPylon(ctx.paths, "hook", global);
  const resolved = resolvePylon(loaded.config, global.config, {
    env: ctx.env,
    systemTimezone: "UTC",
  });
  assert.equal(resolved.agent.type, "custom");
  assert.equal(resolved.agent.image, "pylon-test/busybox");
  assert.deepEqual(resolved.agent.command, ["sh", "-c", "echo hi"]);

  // With the built-in default (claude), `command` is still refused, saying where the type is from.
  await Deno.writeTextFile(ctx.paths.globalConfig, "defaults:\n  agent:\n    type: claude\n");
  const claudeGlobal = await loadGlobalConfig(ctx.paths, ctx.env);
  const refused = await loadError(() => loadPylon(ctx.paths, "hook", claudeGlobal));
  assert.match(
    refused.message,
    /agent\.command: only applies to custom agents \(type: custom\) \(agent\.type is claude: config\.yaml defaults\.agent\.type\)/,
  );
});

Deno.test("trigger.supersede_running needs trigger.supersede, and says how to write it", async () => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "pr",
    "name: pr\ntrigger:\n  type: webhook\n  path: /pr\n  supersede_running: true\nagent:\n  prompt: p\n",
  );
  const e = await loadError(async () =>
    loadPylon(ctx.paths, "pr", await loadGlobalConfig(ctx.paths, ctx.env))
  );
  assert.match(
    e.message,
    /pylon\.yaml:5:\d+: trigger\.supersede_running: needs trigger\.supersede/,
  );
});

Deno.test("trigger.secret that resolves empty, or is missing beside signature_header, is an error", async (t) => {
  await using ctx = await createTestContext();
  const cases: [string, string, RegExp][] = [
    [
      "empty",
      '  secret: "${HOOK_SECRET:-}"\n  signature_header: X-Hub-Signature-256\n',
      /pylon\.yaml:5:\d+: trigger\.secret: is empty, so no signature would be checked: set the variable .* or remove secret and signature_header to accept unsigned requests/,
    ],
    [
      "blank",
      '  secret: "  "\n',
      /trigger\.secret: is empty, so no signature would be checked/,
    ],
    [
      "missing",
      "  signature_header: X-Hub-Signature-256\n",
      /trigger\.secret: is required when trigger\.signature_header is set, or no signature is checked/,
    ],
  ];
  for (const [name, lines, message] of cases) {
    await t.step(name, async () => {
      await writePylon(
        ctx,
        "hook",
        `name: hook\ntrigger:\n  type: webhook\n  path: /hook\n${lines}agent:\n  prompt: hi\n`,
      );
      const e = await loadError(async () =>
        loadPylon(ctx.paths, "hook", await loadGlobalConfig(ctx.paths, ctx.env))
      );
      assert.match(e.message, message);
    });
  }
});

Deno.test("trigger.path drops a trailing slash and refuses . and .. segments", async (t) => {
  await using ctx = await createTestContext();
  const load = async (path: string) => {
    await writePylon(
      ctx,
      "hook",
      `name: hook\ntrigger:\n  type: webhook\n  path: ${path}\nagent:\n  prompt: hi\n`,
    );
    return loadPylon(ctx.paths, "hook", await loadGlobalConfig(ctx.paths, ctx.env));
  };
  await t.step("/x/ loads as /x", async () => {
    for (const path of ["/x/", "/x//", "/x"]) {
      assert.equal((await load(path)).config.trigger.path, "/x");
    }
    assert.equal((await load("/")).config.trigger.path, "/");
  });
  await t.step("dot segments cannot be reached", async () => {
    for (const path of ["/a/../b", "/a/./b", "/..", "/a/."]) {
      const e = await loadError(() => load(path));
      assert.match(
        e.message,
        /trigger\.path: ".*" cannot be reached: URLs resolve \. and \.\. segments/,
      );
    }
  });
});
