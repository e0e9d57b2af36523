/**
 * The live channel rows of `pylon doctor`: Telegram `getMe` / `getChat` / `getChatMember`,
 * Slack `auth.test` / `apps.connections.open` / `conversations.info` and GitHub `GET /user`,
 * through the channels' own API clients at the configured `api_url` (tests point it at the
 * loopback fakes).
 *
 * Each token, chat and Slack channel is checked once however many pylons share it; a row that
 * fails names the pylons. Tokens never reach a row (the clients redact them from errors).
 *
 * @module
 */

import type { ResolvedPylon } from "../../config/mod.ts";
import { ChannelError } from "../../channel/channel.ts";
import { SlackApi } from "../../channel/slack/mod.ts";
import { TelegramApi } from "../../channel/telegram/mod.ts";
import { GitHubApi } from "../../channel/github/mod.ts";
import { createLogger } from "../../log/mod.ts";
import { type Check, type CheckStatus, type FetchFn, forPylons } from "./checks.ts";

const SECTION = "Channels";

/** Options of {@linkcode channelLiveChecks}. */
export interface ChannelLiveOptions {
  fetch: FetchFn;
  /** Shown in hints: where tokens usually live (`~/.pylon/.env`). */
  envFile: string;
  /** Per call. @default {10000} */
  timeoutMs?: number | undefined;
}

/** What pylon reads of a Telegram user and chat (wire format). */
interface TgUserWire {
  id: number;
  username?: string;
}
interface TgChatWire {
  id: number;
  type: string;
  title?: string;
  // deno-lint-ignore camelcase -- Telegram's wire format
  is_forum?: boolean;
}
interface TgMemberWire {
  status: string;
  // deno-lint-ignore camelcase -- Telegram's wire format
  can_manage_topics?: boolean;
}

interface TelegramBot {
  apiUrl: string;
  token: string;
  pylons: string[];
  /** chat_id (0: not set) → pylons. */
  chats: Map<number, string[]>;
}
interface SlackBot {
  apiUrl: string;
  token: string;
  pylons: string[];
  /** channel_id → pylons. */
  channels: Map<string, string[]>;
}
interface SlackApp {
  apiUrl: string;
  token: string;
  pylons: string[];
}

interface GitHubAccount {
  apiUrl: string;
  token: string;
  pylons: string[];
}

function push<K>(map: Map<K, string[]>, key: K, name: string): void {
  map.set(key, [...(map.get(key) ?? []), name]);
}

/** The rows of every enabled Telegram and Slack pylon whose settings are present. */
export async function channelLiveChecks(
  pylons: readonly ResolvedPylon[],
  opts: ChannelLiveOptions,
): Promise<Check[]> {
  const bots = new Map<string, TelegramBot>();
  const slackBots = new Map<string, SlackBot>();
  const slackApps = new Map<string, SlackApp>();
  const gitHubs = new Map<string, GitHubAccount>();
  for (const p of pylons) {
    if (p.config.disabled) continue;
    const tg = p.channel.types.includes("telegram") ? p.channel.telegram : undefined;
    if (tg?.bot_token) {
      const key = `${tg.api_url}\n${tg.bot_token}`;
      const bot: TelegramBot = bots.get(key) ??
        { apiUrl: tg.api_url, token: tg.bot_token, pylons: [], chats: new Map() };
      bot.pylons.push(p.name);
      push(bot.chats, tg.chat_id ?? 0, p.name);
      bots.set(key, bot);
    }
    const sl = p.channel.types.includes("slack") ? p.channel.slack : undefined;
    if (sl?.bot_token) {
      const key = `${sl.api_url}\n${sl.bot_token}`;
      const bot: SlackBot = slackBots.get(key) ??
        { apiUrl: sl.api_url, token: sl.bot_token, pylons: [], channels: new Map() };
      bot.pylons.push(p.name);
      if (sl.channel_id) push(bot.channels, sl.channel_id, p.name);
      slackBots.set(key, bot);
    }
    const gh = p.channel.types.includes("github") ? p.channel.github : undefined;
    if (gh?.token) {
      const key = `${gh.api_url}\n${gh.token}`;
      const account: GitHubAccount = gitHubs.get(key) ??
        { apiUrl: gh.api_url, token: gh.token, pylons: [] };
      account.pylons.push(p.name);
      gitHubs.set(key, account);
    }
    if (sl?.app_token) {
      const key = `${sl.api_url}\n${sl.app_token}`;
      const app: SlackApp = slackApps.get(key) ??
        { apiUrl: sl.api_url, token: sl.app_token, pylons: [] };
      app.pylons.push(p.name);
      slackApps.set(key, app);
    }
  }
  const out: Check[] = [];
  for (const bot of bots.values()) out.push(...await telegramChecks(bot, opts));
  for (const bot of slackBots.values()) out.push(...await slackBotChecks(bot, opts));
  for (const app of slackApps.values()) out.push(await slackAppCheck(app, opts));
  for (const account of gitHubs.values()) out.push(await gitHubCheck(account, opts));
  return out;
}

function fetchOf(fn: FetchFn): typeof fetch {
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    fn(input instanceof Request ? input.url : String(input), init)) as typeof fetch;
}

function row(label: string, status: CheckStatus, detail: string, hint?: string): Check {
  return { section: SECTION, label, status, detail, ...(hint ? { hint } : {}) };
}

function networkHint(what: string, apiUrl: string): string {
  return `check this host's network and proxy, and ${what} (${apiUrl})`;
}

async function telegramChecks(bot: TelegramBot, opts: ChannelLiveOptions): Promise<Check[]> {
  const names = bot.pylons;
  const api = new TelegramApi({
    token: bot.token,
    apiUrl: bot.apiUrl,
    fetch: fetchOf(opts.fetch),
    timeoutMs: opts.timeoutMs ?? 10_000,
    maxRetries: 1,
    maxRetryAfterSec: 5,
  });
  let me: TgUserWire;
  try {
    me = await api.call<TgUserWire>("getMe");
  } catch (e) {
    if (!(e instanceof ChannelError)) throw e;
    const tokenHint = "get the bot's token from @BotFather (/mybots → API Token) and set it " +
      `as channel.telegram.bot_token (usually TELEGRAM_BOT_TOKEN in ${opts.envFile})`;
    const out = [
      e.status === 401 || e.status === 404
        ? row(
          "Telegram bot",
          "FAIL",
          `${e.status} ${e.status === 401 ? "Unauthorized" : "Not Found"}: the bot token is ` +
            `wrong or revoked${forPylons(names)}`,
          tokenHint,
        )
        : row(
          "Telegram bot",
          "FAIL",
          `${e.message}${forPylons(names)}`,
          e.status === undefined
            ? networkHint("telegram.api_url", bot.apiUrl)
            : (e.hint ?? tokenHint),
        ),
    ];
    for (const chat of bot.chats.keys()) {
      if (chat !== 0) {
        out.push(row("Telegram chat", "--", `chat ${chat} not checked: the bot token failed`));
      }
    }
    return out;
  }
  const at = me.username ? `@${me.username}` : `bot ${me.id}`;
  const out = [row("Telegram bot", "ok", `connected (${at})`)];
  for (const [chat, pylons] of bot.chats) {
    out.push(await telegramChatCheck(api, me, at, chat, pylons));
  }
  return out;
}

async function telegramChatCheck(
  api: TelegramApi,
  me: TgUserWire,
  at: string,
  chatId: number,
  names: string[],
): Promise<Check> {
  const label = "Telegram chat";
  if (chatId === 0) {
    return row(
      label,
      "--",
      `no chat_id yet${forPylons(names)}: the first chat that messages ${at} is used`,
    );
  }
  let chat: TgChatWire;
  try {
    chat = await api.call<TgChatWire>("getChat", { chat_id: chatId });
  } catch (e) {
    if (!(e instanceof ChannelError)) throw e;
    if (e.status === 400 && /chat not found/i.test(e.message)) {
      return row(
        label,
        "FAIL",
        `chat ${chatId} not found${forPylons(names)}: ${at} is not in it, or chat_id is wrong`,
        `add ${at} to the chat and send a message there, or fix channel.telegram.chat_id ` +
          "(`pylon edit <pylon>`)",
      );
    }
    if (e.status === 403) {
      return row(
        label,
        "FAIL",
        `${at} cannot reach chat ${chatId}${forPylons(names)}: ${e.message.replace(/^.*?: /, "")}`,
        `add ${at} to the chat again (it was removed or blocked)`,
      );
    }
    return row(
      label,
      "FAIL",
      `chat ${chatId}: ${e.message}${forPylons(names)}`,
      e.hint ?? "check channel.telegram.chat_id",
    );
  }
  const title = chat.title ? ` "${chat.title}"` : "";
  if (chat.type === "private") return row(label, "ok", `chat ${chatId} accessible (private chat)`);
  if (chat.type === "channel") {
    return row(
      label,
      "WARN",
      `chat ${chatId} is a channel${title}: nobody can reply to a job there${forPylons(names)}`,
      "use a group, ideally a supergroup with topics, so each job gets its own thread",
    );
  }
  if (chat.type !== "supergroup" || !chat.is_forum) {
    return row(
      label,
      "ok",
      `chat ${chatId} accessible (${chat.type}${title}; no topics: jobs are reply threads)`,
    );
  }
  let member: TgMemberWire;
  try {
    member = await api.call<TgMemberWire>("getChatMember", { chat_id: chatId, user_id: me.id });
  } catch (e) {
    if (!(e instanceof ChannelError)) throw e;
    return row(
      label,
      "WARN",
      `forum${title} accessible, but ${at}'s rights are unknown: ${e.message}`,
      `make ${at} an administrator with the "Manage Topics" right`,
    );
  }
  if (
    member.status === "creator" ||
    (member.status === "administrator" && member.can_manage_topics === true)
  ) {
    return row(label, "ok", `chat ${chatId} accessible (forum${title}; ${at} creates topics)`);
  }
  return row(
    label,
    "WARN",
    `forum${title}, but ${at} cannot create topics (${
      member.status === "administrator" ? "admin without Manage Topics" : member.status
    })${forPylons(names)}: jobs become reply threads`,
    `make ${at} an administrator of the group with the "Manage Topics" right`,
  );
}

function slackApi(apiUrl: string, opts: ChannelLiveOptions): SlackApi {
  return new SlackApi({
    apiUrl,
    fetch: fetchOf(opts.fetch),
    log: createLogger({ write: () => {} }),
    maxRetries: 1,
    maxRetryWait: 5,
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
}

/** The Slack error code inside a `ChannelError` message (`Cannot call Slack m: code (...)`). */
function slackCode(e: ChannelError): string {
  return /^Cannot call Slack [^:]+: ([a-z_]+)/.exec(e.message)?.[1] ?? "";
}

async function slackBotChecks(bot: SlackBot, opts: ChannelLiveOptions): Promise<Check[]> {
  const names = bot.pylons;
  const api = slackApi(bot.apiUrl, opts);
  let auth: Record<string, unknown>;
  try {
    auth = await api.call("auth.test", bot.token);
  } catch (e) {
    if (!(e instanceof ChannelError)) throw e;
    const code = slackCode(e);
    const hint = code === ""
      ? networkHint("slack.api_url", bot.apiUrl)
      : code === "missing_scope"
      ? "add the scope to the app (OAuth & Permissions), reinstall it, and copy the new token"
      : "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page into " +
        `slack.bot_token (usually SLACK_BOT_TOKEN in ${opts.envFile})`;
    const out = [row("Slack bot", "FAIL", `${e.message}${forPylons(names)}`, hint)];
    for (const channel of bot.channels.keys()) {
      out.push(row("Slack channel", "--", `${channel} not checked: the bot token failed`));
    }
    return out;
  }
  const user = typeof auth.user === "string" ? `@${auth.user}` : "the bot";
  const team = typeof auth.team === "string" ? ` in ${auth.team}` : "";
  const out = [row("Slack bot", "ok", `connected as ${user}${team}`)];
  for (const [channel, pylons] of bot.channels) {
    out.push(await slackChannelCheck(api, bot.token, user, channel, pylons));
  }
  return out;
}

async function slackChannelCheck(
  api: SlackApi,
  token: string,
  user: string,
  channel: string,
  names: string[],
): Promise<Check> {
  const label = "Slack channel";
  let info: Record<string, unknown>;
  try {
    info = await api.call("conversations.info", token, { channel });
  } catch (e) {
    if (!(e instanceof ChannelError)) throw e;
    const code = slackCode(e);
    const hint = code === "channel_not_found"
      ? "set slack.channel_id to the channel's ID (channel details → bottom, like C0123ABCD); " +
        `for a private channel, invite ${user} first`
      : code === "missing_scope"
      ? "add the scope to the app (OAuth & Permissions), reinstall it, and copy the new token"
      : code === ""
      ? "check this host's network and slack.api_url"
      : "check slack.channel_id and the app's scopes";
    return row(label, "FAIL", `${e.message}${forPylons(names)}`, hint);
  }
  const ch = (info.channel ?? {}) as { name?: unknown; is_member?: unknown; is_im?: unknown };
  const name = typeof ch.name === "string" ? `#${ch.name}` : channel;
  if (ch.is_member === false) {
    return row(
      label,
      "FAIL",
      `${user} is not a member of ${name} (${channel})${forPylons(names)}`,
      `invite it: type \`/invite ${user}\` in ${name}`,
    );
  }
  return row(label, "ok", `${name} (${channel}): ${user} is a member`);
}

async function slackAppCheck(app: SlackApp, opts: ChannelLiveOptions): Promise<Check> {
  const names = app.pylons;
  try {
    // Only asks for a Socket Mode URL; the socket is never opened.
    await slackApi(app.apiUrl, opts).call("apps.connections.open", app.token);
    return row("Slack app", "ok", "Socket Mode connections allowed");
  } catch (e) {
    if (!(e instanceof ChannelError)) throw e;
    const code = slackCode(e);
    const hint = code === ""
      ? networkHint("slack.api_url", app.apiUrl)
      : "create an app-level token (xapp-…) with the connections:write scope (Basic " +
        "Information → App-Level Tokens), turn on Socket Mode, and set it as slack.app_token " +
        `(usually SLACK_APP_TOKEN in ${opts.envFile})`;
    return row("Slack app", "FAIL", `${e.message}${forPylons(names)}`, hint);
  }
}

/** The GitHub token: who it is and, for a classic token, whether its scopes can post results. */
async function gitHubCheck(account: GitHubAccount, opts: ChannelLiveOptions): Promise<Check> {
  const api = new GitHubApi({
    token: account.token,
    apiUrl: account.apiUrl,
    fetch: fetchOf(opts.fetch),
    timeoutMs: opts.timeoutMs ?? 10_000,
  });
  const where = account.apiUrl.replace(/\/+$/, "") === "https://api.github.com"
    ? ""
    : ` at ${account.apiUrl}`;
  try {
    const me = await api.viewer();
    // Classic tokens list their scopes; fine-grained tokens and app tokens send none.
    if (me.scopes && !me.scopes.some((s) => s === "repo" || s === "public_repo")) {
      return row(
        "GitHub token",
        "WARN",
        `@${me.login}${where}, scopes: ${me.scopes.join(", ") || "none"}${
          forPylons(account.pylons)
        }`,
        "comments and commit statuses need the repo scope (public_repo for public repositories only)",
      );
    }
    return row(
      "GitHub token",
      "ok",
      `@${me.login}${where}${me.scopes ? `, scopes: ${me.scopes.join(", ")}` : ""}`,
    );
  } catch (e) {
    const status = e instanceof ChannelError ? e.status : undefined;
    const detail = e instanceof Error ? e.message : String(e);
    return row(
      "GitHub token",
      "FAIL",
      (status === 401 ? `401 Bad credentials${where}` : detail) + forPylons(account.pylons),
      status === 401
        ? `create a token that may write pull requests, issues and commit statuses and set it as channel.github.token (usually GITHUB_TOKEN in ${opts.envFile})`
        : networkHint("that GitHub answers", account.apiUrl),
    );
  }
}
