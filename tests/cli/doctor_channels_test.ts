/**
 * `pylon doctor`'s live chat checks against the loopback Telegram and Slack fakes: what the
 * user sees (the report lines and the exit code), and that each token is asked once.
 */

import assert from "node:assert/strict";
import { runDoctor } from "../../src/cli/commands/doctor.ts";
import { createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";
import { startFakeSlack } from "../fakes/slack_server.ts";
import { startFakeTelegram } from "../fakes/telegram_server.ts";
import { startFakeGitHub } from "../fakes/github_server.ts";
import { fakeDocker, freePort } from "./_doctor.ts";

const TOKEN = "123456:AAfake-token";

async function home(dotEnv: string): Promise<TestContext> {
  const ctx = await createTestContext();
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    `server:\n  host: 127.0.0.1\n  port: ${freePort()}\n` +
      `defaults:\n  agent:\n    claude:\n      oauth_path: ${ctx.paths.root}\n`,
  );
  await Deno.writeTextFile(ctx.paths.globalEnv, dotEnv, { mode: 0o600 });
  await Deno.chmod(ctx.paths.globalEnv, 0o600);
  return ctx;
}

function telegramPylon(name: string, apiUrl: string, chatId?: number): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nagent:\n  prompt: hi\n` +
    `channel:\n  type: telegram\n  telegram:\n    bot_token: "\${TELEGRAM_BOT_TOKEN}"\n` +
    `    api_url: ${apiUrl}\n${chatId === undefined ? "" : `    chat_id: ${chatId}\n`}`;
}

function slackPylon(name: string, apiUrl: string, channelId: string): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nagent:\n  prompt: hi\n` +
    `channel:\n  type: slack\n  slack:\n    bot_token: "\${SLACK_BOT_TOKEN}"\n` +
    `    app_token: "\${SLACK_APP_TOKEN}"\n    channel_id: ${channelId}\n    api_url: ${apiUrl}\n`;
}

async function doctor(ctx: TestContext, offline = false): Promise<{ code: number; out: string }> {
  const code = await runDoctor(ctx, { offline, deps: { docker: fakeDocker, fetch } });
  return { code, out: ctx.stdout() };
}

/** The report line of `label` (and its fix line, when there is one). */
function line(out: string, label: string): string {
  const m = new RegExp(`\\n {2}${label} \\.+ [^\\n]*(\\n {6}fix: [^\\n]*)?`).exec(out);
  assert.ok(m, `no line "${label}" in:\n${out}`);
  return m[0].trim();
}

Deno.test("doctor shows the Telegram bot and a forum it can create topics in, asking once", async () => {
  await using tg = startFakeTelegram({
    token: TOKEN,
    chats: [{ id: -1001234, isForum: true, title: "Ops" }],
  });
  await using ctx = await home(`TELEGRAM_BOT_TOKEN=${TOKEN}\n`);
  await writePylon(ctx, "alpha", telegramPylon("alpha", tg.url, -1001234));
  await writePylon(ctx, "beta", telegramPylon("beta", tg.url, -1001234));
  const { code, out } = await doctor(ctx);
  assert.equal(code, 0, out);
  assert.match(out, /\nChannels\n {2}Telegram bot \.+ ok {4}connected \(@pylon_test_bot\)\n/);
  assert.equal(
    line(out, "Telegram chat"),
    'Telegram chat ......... ok    chat -1001234 accessible (forum "Ops"; @pylon_test_bot ' +
      "creates topics)",
  );
  assert.equal(tg.calls("getMe").length, 1);
  assert.equal(tg.calls("getChat").length, 1);
  assert.equal(out.match(/Telegram bot/g)?.length, 1);
  assert.doesNotMatch(out, /AAfake-token/);
});

Deno.test("doctor fails a wrong Telegram token with where to get and put a new one", async () => {
  await using tg = startFakeTelegram({ token: TOKEN, chats: [{ id: -100777 }] });
  await using ctx = await home("TELEGRAM_BOT_TOKEN=999:wrong-token\n");
  await writePylon(ctx, "alpha", telegramPylon("alpha", tg.url, -100777));
  const { code, out } = await doctor(ctx);
  assert.equal(code, 1);
  const bot = line(out, "Telegram bot");
  assert.match(
    bot,
    /FAIL {2}401 Unauthorized: the bot token is wrong or revoked \(pylon alpha\)\n {6}fix: get the bot's token from @BotFather .*TELEGRAM_BOT_TOKEN in .*\/\.env\)$/,
  );
  assert.match(line(out, "Telegram chat"), /-- {4}chat -100777 not checked: the bot token failed/);
  assert.doesNotMatch(out, /wrong-token/);
});

Deno.test("doctor reports the chat problems a user can fix", async (t) => {
  await using tg = startFakeTelegram({
    token: TOKEN,
    chats: [
      { id: -1002, isForum: true, title: "Forum", botStatus: "member" },
      { id: -1003, title: "Gone", botStatus: "kicked" },
      { id: -1004, title: "Plain", type: "group" },
      { id: 42, type: "private" },
    ],
  });
  await using ctx = await home(`TELEGRAM_BOT_TOKEN=${TOKEN}\n`);
  const check = async (chatId: number) => {
    await Deno.remove(ctx.paths.pylonsDir, { recursive: true }).catch(() => {});
    await writePylon(ctx, "alpha", telegramPylon("alpha", tg.url, chatId));
    const before = ctx.stdout().length;
    const code = await runDoctor(ctx, { deps: { docker: fakeDocker, fetch } });
    return { code, chat: line(ctx.stdout().slice(before), "Telegram chat") };
  };
  await t.step("a forum where the bot is no admin is a WARN", async () => {
    const { code, chat } = await check(-1002);
    assert.equal(code, 0);
    assert.match(
      chat,
      /WARN {2}forum "Forum", but @pylon_test_bot cannot create topics \(member\) \(pylon alpha\): jobs become reply threads\n {6}fix: make @pylon_test_bot an administrator of the group with the "Manage Topics" right/,
    );
  });
  await t.step("a chat the bot was removed from fails", async () => {
    const { code, chat } = await check(-1003);
    assert.equal(code, 1);
    assert.match(chat, /FAIL {2}@pylon_test_bot cannot reach chat -1003 \(pylon alpha\): .*kicked/);
    assert.match(chat, /fix: add @pylon_test_bot to the chat again/);
  });
  await t.step("an unknown chat fails with both likely causes", async () => {
    const { code, chat } = await check(-1009);
    assert.equal(code, 1);
    assert.match(
      chat,
      /FAIL {2}chat -1009 not found \(pylon alpha\): @pylon_test_bot is not in it/,
    );
  });
  await t.step("a group and a private chat are fine", async () => {
    assert.match(
      (await check(-1004)).chat,
      /ok {4}chat -1004 accessible \(group "Plain"; no topics: jobs are reply threads\)/,
    );
    assert.match((await check(42)).chat, /ok {4}chat 42 accessible \(private chat\)/);
  });
  await t.step("no chat_id yet is not a problem", async () => {
    const { code, chat } = await check(0);
    assert.equal(code, 0);
    assert.match(chat, /-- {4}no chat_id yet \(pylon alpha\): the first chat that messages/);
  });
});

Deno.test("doctor fails when the Telegram API cannot be reached, naming api_url", async () => {
  await using ctx = await home(`TELEGRAM_BOT_TOKEN=${TOKEN}\n`);
  const url = `http://127.0.0.1:${freePort()}`;
  await writePylon(ctx, "alpha", telegramPylon("alpha", url, -1));
  const { code, out } = await doctor(ctx);
  assert.equal(code, 1);
  const bot = line(out, "Telegram bot");
  assert.match(bot, /FAIL {2}Cannot call Telegram getMe: .*\(pylon alpha\)/);
  assert.ok(
    bot.includes(`fix: check this host's network and proxy, and telegram.api_url (${url})`),
  );
  assert.doesNotMatch(out, /AAfake-token/);
});

Deno.test("doctor checks the Slack bot, app token and channel membership", async (t) => {
  const slack = startFakeSlack();
  try {
    slack.addChannel("C0OPS", { name: "ops" });
    slack.addChannel("C0NOPE", { name: "secret", isMember: false });
    const env = `SLACK_BOT_TOKEN=${slack.botToken}\nSLACK_APP_TOKEN=${slack.appToken}\n`;
    await t.step("all good: one line each", async () => {
      await using ctx = await home(env);
      await writePylon(ctx, "alpha", slackPylon("alpha", slack.apiUrl, "C0OPS"));
      await writePylon(ctx, "beta", slackPylon("beta", slack.apiUrl, "C0OPS"));
      const { code, out } = await doctor(ctx);
      assert.equal(code, 0, out);
      assert.match(line(out, "Slack bot"), /ok {4}connected as @pylon in Fake$/);
      assert.match(line(out, "Slack channel"), /ok {4}#ops \(C0OPS\): @pylon is a member$/);
      assert.match(line(out, "Slack app"), /ok {4}Socket Mode connections allowed$/);
      assert.equal(slack.callsOf("auth.test").length, 1);
      assert.equal(slack.callsOf("apps.connections.open").length, 1);
      assert.equal(slack.openSockets, 0);
    });
    await t.step("a channel the bot is not in fails with the /invite to type", async () => {
      await using ctx = await home(env);
      await writePylon(ctx, "alpha", slackPylon("alpha", slack.apiUrl, "C0NOPE"));
      const { code, out } = await doctor(ctx);
      assert.equal(code, 1);
      assert.match(
        line(out, "Slack channel"),
        /FAIL {2}@pylon is not a member of #secret \(C0NOPE\) \(pylon alpha\)\n {6}fix: invite it: type `\/invite @pylon` in #secret/,
      );
    });
    await t.step("swapped tokens fail with what each one must be", async () => {
      const swapped = `SLACK_BOT_TOKEN=${slack.appToken}\nSLACK_APP_TOKEN=${slack.botToken}\n`;
      await using ctx = await home(swapped);
      await writePylon(ctx, "alpha", slackPylon("alpha", slack.apiUrl, "C0OPS"));
      const { code, out } = await doctor(ctx);
      assert.equal(code, 1);
      assert.match(
        line(out, "Slack bot"),
        /FAIL {2}Cannot call Slack auth\.test: not_allowed_token_type/,
      );
      assert.match(line(out, "Slack bot"), /fix: copy the Bot User OAuth Token \(xoxb-…\)/);
      assert.match(line(out, "Slack channel"), /-- {4}C0OPS not checked: the bot token failed/);
      assert.match(line(out, "Slack app"), /FAIL {2}Cannot call Slack apps\.connections\.open/);
      assert.match(
        line(out, "Slack app"),
        /fix: create an app-level token \(xapp-…\) with the connections:write scope/,
      );
      assert.doesNotMatch(out, /xoxb-fake|xapp-1/);
    });
    await t.step("--offline asks nothing", async () => {
      const calls = slack.calls.length;
      await using ctx = await home(env);
      await writePylon(ctx, "alpha", slackPylon("alpha", slack.apiUrl, "C0OPS"));
      const { code, out } = await doctor(ctx, true);
      assert.equal(code, 0);
      assert.match(out, /\n {2}Channel APIs \.+ -- {4}--offline\n/);
      assert.equal(slack.calls.length, calls);
    });
  } finally {
    await slack.close();
  }
});

function githubPylon(name: string, apiUrl: string): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nagent:\n  prompt: hi\n` +
    `channel:\n  type: [github, stdout]\n  github:\n    token: "\${GITHUB_TOKEN}"\n` +
    `    api_url: ${apiUrl}\n`;
}

Deno.test("doctor shows the GitHub token's account once, and says what a wrong or narrow token needs", async () => {
  await using gh = startFakeGitHub({ token: "ghp_good", login: "review-bot" });
  await using ctx = await home("GITHUB_TOKEN=ghp_good\n");
  await writePylon(ctx, "review", githubPylon("review", gh.url));
  await writePylon(ctx, "triage", githubPylon("triage", gh.url));
  const ok = await doctor(ctx);
  assert.equal(ok.code, 0, ok.out);
  assert.equal(
    line(ok.out, "GitHub token"),
    `GitHub token .......... ok    @review-bot at ${gh.url}, scopes: repo`,
  );
  assert.match(line(ok.out, "review channel"), /ok {4}github at .* \+ stdout/);
  assert.equal(gh.requests.filter((r) => r.path === "/user").length, 1, "one call per token");

  await using narrow = startFakeGitHub({ token: "ghp_good", scopes: ["read:user"] });
  await using ctx2 = await home("GITHUB_TOKEN=ghp_good\n");
  await writePylon(ctx2, "review", githubPylon("review", narrow.url));
  const warned = await doctor(ctx2);
  assert.match(
    line(warned.out, "GitHub token"),
    /WARN .*scopes: read:user.*\n {6}fix: .*repo scope/,
  );

  await using ctx3 = await home("GITHUB_TOKEN=ghp_wrong\n");
  await writePylon(ctx3, "review", githubPylon("review", gh.url));
  const failed = await doctor(ctx3);
  assert.equal(failed.code, 1);
  assert.match(
    line(failed.out, "GitHub token"),
    /FAIL {2}401 Bad credentials at .* \(pylon review\)\n {6}fix: create a token .* channel\.github\.token/,
  );
  assert.doesNotMatch(failed.out, /ghp_wrong/);
});
