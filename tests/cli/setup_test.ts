import assert from "node:assert/strict";
import { join } from "node:path";
import { setupCommand } from "../../src/cli/commands/setup.ts";
import { parseCommandArgs } from "../../src/cli/main.ts";
import { dotEnvValue, updateConfigYaml, updateDotEnv } from "../../src/cli/setup_write.ts";
import { loadGlobalConfig, parseDotEnv } from "../../src/config/mod.ts";
import { PylonError, UsageError } from "../../src/errors.ts";
import { createTestContext, type TestContext } from "../_helpers/cli.ts";

/** Docker is not what these tests are about: point the check at a socket that does not exist. */
const NO_DOCKER = { DOCKER_HOST: "unix:///nonexistent/docker.sock" };

/** Runs `pylon setup …` in `ctx` the way the CLI maps errors to exit codes. */
async function setup(ctx: TestContext, ...argv: string[]): Promise<number> {
  try {
    return await setupCommand.run(parseCommandArgs(setupCommand, argv), ctx);
  } catch (e) {
    if (!(e instanceof PylonError)) throw e;
    ctx.io.err(`Error: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ""}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

Deno.test("setup --channel stdout writes a config.yaml that loadGlobalConfig accepts", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  assert.equal(await setup(ctx, "--channel", "stdout", "--agent", "claude", "--auth", "oauth"), 0);
  const loaded = await loadGlobalConfig(ctx.paths, ctx.env);
  assert.equal(loaded.exists, true);
  assert.equal(loaded.config.defaults.channel.type, "stdout");
  assert.equal(loaded.config.defaults.agent.type, "claude");
  assert.match(ctx.stdout(), /Docker \.+ NOT REACHABLE/);
  assert.match(ctx.stdout(), /pylon construct my-pylon --from blank/);
  assert.match(ctx.stdout(), /pylon test my-pylon +# send it a sample event/);
  assert.match(ctx.stdout(), /pylon doctor/);
});

Deno.test("setup --channel telegram keeps the token out of config.yaml", async () => {
  const token = "123456:ABC-secret-token";
  await using ctx = await createTestContext({ env: { ...NO_DOCKER, TELEGRAM_BOT_TOKEN: token } });
  await Deno.writeTextFile(ctx.paths.globalEnv, "# mine\nOTHER=1\nTELEGRAM_BOT_TOKEN=old\n");
  assert.equal(await setup(ctx, "--channel", "telegram", "--port", "9090"), 0);
  const config = await Deno.readTextFile(ctx.paths.globalConfig);
  assert.match(config, /bot_token: \$\{TELEGRAM_BOT_TOKEN\}/);
  assert.ok(!config.includes(token));
  const env = await Deno.readTextFile(ctx.paths.globalEnv);
  assert.equal(env, `# mine\nOTHER=1\nTELEGRAM_BOT_TOKEN=${token}\n`);
  assert.equal((await Deno.stat(ctx.paths.globalEnv)).mode! & 0o777, 0o600);
  assert.ok(!ctx.stdout().includes(token));
  const loaded = await loadGlobalConfig(ctx.paths, { HOME: ctx.env.HOME! });
  assert.equal(loaded.config.defaults.channel.telegram?.bot_token, token);
  assert.equal(loaded.config.server.port, 9090);
});

Deno.test("setup --channel telegram without TELEGRAM_BOT_TOKEN exits 2 naming it", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  assert.equal(await setup(ctx, "--channel", "telegram"), 2);
  assert.match(ctx.stderr(), /TELEGRAM_BOT_TOKEN/);
  await assert.rejects(Deno.stat(ctx.paths.globalConfig), Deno.errors.NotFound);
});

Deno.test("setup --auth api_key without the provider key exits 2 naming it", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  const code = await setup(ctx, "--agent", "opencode", "--auth", "api_key", "--provider", "openai");
  assert.equal(code, 2);
  assert.match(ctx.stderr(), /OPENAI_API_KEY/);
});

Deno.test("setup run again keeps comments and hand-made changes in config.yaml", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  assert.equal(await setup(ctx, "--channel", "stdout"), 0);
  const first = await Deno.readTextFile(ctx.paths.globalConfig);
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    `# my own note\n${first}docker:\n  max_concurrent: 7 # busy box\n`,
  );
  const code = await setup(ctx, "--channel", "webhook", "--webhook-url", "https://hooks.test/x");
  assert.equal(code, 0);
  const text = await Deno.readTextFile(ctx.paths.globalConfig);
  assert.match(text, /# my own note/);
  assert.match(text, /max_concurrent: 7 # busy box/);
  const loaded = await loadGlobalConfig(ctx.paths, ctx.env);
  assert.equal(loaded.config.docker.max_concurrent, 7);
  assert.equal(loaded.config.defaults.channel.type, "webhook");
  assert.equal(loaded.config.defaults.channel.webhook?.url, "https://hooks.test/x");
});

Deno.test("setup writes nothing when the result does not validate", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  const broken = "docker:\n  max_concurrent: 0\n";
  await Deno.writeTextFile(ctx.paths.globalConfig, broken);
  assert.equal(await setup(ctx, "--channel", "stdout"), 1);
  assert.match(ctx.stderr(), /Setup wrote nothing: .*config\.yaml/);
  assert.ok(!ctx.stderr().includes(".setup-"));
  assert.equal(await Deno.readTextFile(ctx.paths.globalConfig), broken);
  const left = (await Array.fromAsync(Deno.readDir(ctx.paths.root))).map((e) => e.name);
  assert.deepEqual(left, ["config.yaml"]);
});

Deno.test("setup on a terminal asks, prints the Slack manifest and offers completion", async () => {
  const home = await Deno.makeTempDir({ prefix: "pylon-home-" });
  try {
    await using ctx = await createTestContext({
      isTty: true,
      env: { ...NO_DOCKER, HOME: home, SHELL: "/bin/bash", SLACK_APP_TOKEN: "xapp-env" },
      // channel, bot token, channel id, agent, auth, public url, port, completion
      input: ["slack", "xoxb-typed", "C0123", "", "", "https://pylon.test/", "", "yes"],
    });
    assert.equal(await setup(ctx), 0);
    const out = ctx.stdout();
    assert.match(out, /socket_mode_enabled: true/);
    assert.match(out, /chat:write/);
    assert.match(out, /Using SLACK_APP_TOKEN from the environment/);
    const loaded = await loadGlobalConfig(ctx.paths, { HOME: home });
    assert.equal(loaded.config.defaults.channel.type, "slack");
    assert.equal(loaded.config.defaults.channel.slack?.bot_token, "xoxb-typed");
    assert.equal(loaded.config.defaults.channel.slack?.channel_id, "C0123");
    assert.equal(loaded.config.server.public_url, "https://pylon.test");
    const env = parseDotEnv(await Deno.readTextFile(ctx.paths.globalEnv)).vars;
    assert.deepEqual(env, { SLACK_BOT_TOKEN: "xoxb-typed", SLACK_APP_TOKEN: "xapp-env" });
    const rc = await Deno.readTextFile(join(home, ".bashrc"));
    assert.match(rc, /eval "\$\(pylon completion bash\)"/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("setup without a terminal and without flags exits 2 pointing at the flags", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  assert.equal(await setup(ctx), 2);
  assert.match(ctx.stderr(), /--channel stdout\|webhook\|telegram\|slack/);
});

Deno.test("updateDotEnv() updates keys in place and keeps comments", () => {
  const text = "# top\nexport A=1\nB=2 # note\n";
  assert.equal(
    updateDotEnv(text, { A: "x y", C: "3" }),
    '# top\nexport A="x y"\nB=2 # note\nC=3\n',
  );
  assert.equal(updateDotEnv("", {}), "");
  const tricky = 'a "b" \\ #c';
  assert.equal(parseDotEnv(`K=${dotEnvValue(tricky)}`).vars.K, tricky);
});

Deno.test("updateConfigYaml() fills a null section and keeps comments", () => {
  const out = updateConfigYaml("# keep\ndefaults:\nserver:\n  port: 1 # p\n", [
    [["defaults", "channel", "type"], "stdout"],
  ]);
  assert.match(out, /# keep/);
  assert.match(out, /port: 1 # p/);
  assert.match(out, /defaults:\n {2}channel:\n {4}type: stdout/);
});

Deno.test("setup checks its flags before Docker", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  assert.equal(await setup(ctx, "--channel", "telegarm"), 2);
  assert.match(ctx.stderr(), /Invalid --channel "telegarm"; did you mean "telegram"\?/);
  assert.match(ctx.stderr(), /use one of: stdout, webhook, telegram, slack/);
  assert.doesNotMatch(ctx.stdout(), /Docker/);
});

Deno.test("setup --agent custom writes defaults.agent.type custom and no auth", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  assert.equal(await setup(ctx, "--agent", "custom"), 0);
  const loaded = await loadGlobalConfig(ctx.paths, ctx.env);
  assert.equal(loaded.config.defaults.agent.type, "custom");
  assert.doesNotMatch(await Deno.readTextFile(ctx.paths.globalConfig), /auth/);
  assert.match(ctx.stdout(), /agent custom\)/);
  assert.match(ctx.stdout(), /set agent\.image/);
  assert.doesNotMatch(ctx.stdout(), /rebuild-images/);
});

Deno.test("setup --agent custom --auth api_key exits 2", async () => {
  await using ctx = await createTestContext({ env: NO_DOCKER });
  assert.equal(await setup(ctx, "--agent", "custom", "--auth", "api_key"), 2);
  assert.match(ctx.stderr(), /does not apply to --agent custom/);
});

Deno.test("setup on a terminal offers custom and reads a typed token without echo", async () => {
  const home = await Deno.makeTempDir({ prefix: "pylon-home-" });
  try {
    await using ctx = await createTestContext({
      isTty: true,
      env: { ...NO_DOCKER, HOME: home, SHELL: "/bin/sh" },
      // channel, chat id, agent, public url, port (the token comes from readSecret)
      input: ["telegram", "", "custom", "", ""],
    });
    const secrets = ["", "123456:TYPED-SECRET"];
    let secretReads = 0;
    // As the terminal's reader does: the prompt, then the line read without echo.
    ctx.io.readSecret = (prompt) => {
      ctx.io.out(prompt);
      secretReads++;
      return Promise.resolve(secrets.shift() ?? null);
    };
    assert.equal(await setup(ctx), 0);
    const out = ctx.stdout();
    assert.equal(secretReads, 2, "an empty answer is asked again, through readSecret");
    assert.match(out, /Default agent \(claude, opencode, custom\)/);
    assert.match(out, /Bot token \(not shown while you type\): +required\n/);
    assert.doesNotMatch(out, /TYPED-SECRET/);
    assert.doesNotMatch(out, /Claude auth|OpenCode auth/);
    const env = parseDotEnv(await Deno.readTextFile(ctx.paths.globalEnv)).vars;
    assert.equal(env.TELEGRAM_BOT_TOKEN, "123456:TYPED-SECRET");
    const loaded = await loadGlobalConfig(ctx.paths, { HOME: home });
    assert.equal(loaded.config.defaults.agent.type, "custom");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
