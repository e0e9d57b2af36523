/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): issue 14 judged end to end. The real daemon (`pylon start`,
 * a process, so it can be killed with `kill -9` and started again), the real Claude Code CLI in
 * the image pylon builds, the real Docker runner, the fake Messages API and a fake MCP server on
 * loopback, and the real Telegram channel against the fake Bot API, where the presses happen:
 *
 * - settings: a pylon's `model`, `allowed_tools` and MCP servers reach the CLI (the requests the
 *   fake API receives carry the model id and only the allowed tools, the MCP server's among
 *   them; the MCP server got the token from the pylon's `.env`, which stays out of the job);
 * - cost: the job's tokens are what the fake reported, its cost is the CLI's `total_cost_usd`
 *   for the real model id (claude-sonnet-4-5's price);
 * - budget: the pylon's daily budget holds the next job; **Run anyway** pressed in the chat
 *   releases it, it runs, and the job's history says who pressed it where;
 * - `agent.max_cost_usd`: the CLI's `--max-budget-usd` stop ends the job `failed`, "budget of
 *   $0.05 reached after N turns", with its cost;
 * - `agent.disallowed_tools` holds although the job skips permissions (no `allowed_tools`): the
 *   model's `git push` is refused and nothing reaches the remote;
 * - tool approval: `git push` waits for a press in the job's thread; after **Allow** it reaches
 *   the bare remote, after **Deny** and after `approve_timeout` it does not, and the agent is
 *   told why; who decided from where is recorded with the job's tool calls (its `jobs.db`);
 * - the job's deadline keeps running while a call waits: the job ends `timed_out`, the call is
 *   closed (denied, "the job ended") and its chat message says so;
 * - the same after `kill -9` of the daemon in the middle of a wait: the press on the message
 *   posted before the restart lets the push run;
 * - and in Slack (the real channel against the fake Web API and Socket Mode, a pylon's own
 *   channel): **Allow for this job** in the job's thread lets the push run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createPylonPaths } from "../../src/config/mod.ts";
import { writeHome } from "../_helpers/daemon.ts";
import {
  FAKE_USAGE,
  type FakeAnthropicApi,
  startFakeAnthropicApi,
} from "../fakes/anthropic_api.ts";
import { startFakeMcpServer } from "../fakes/mcp_server.ts";
import { startFakeSlack, waitFor as slackWaitFor } from "../fakes/slack_server.ts";
import { type FakeMessage, startFakeTelegram } from "../fakes/telegram_server.ts";
import { openTestDocker, removeHomeContainers } from "./_docker.ts";
import { fakeUsageOf, lastToolResult } from "./_agent.ts";
import { type DaemonProcess, delay, freePort, startDaemon, stopDaemon } from "./_daemon_process.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";

printSlowSkipReason("governance end-to-end (issue 14)");

const CHAT = -100514;
const ADA = 111;
const MODEL = "claude-sonnet-4-5";
/** claude-sonnet-4-5's API price per token: input, output, cache read, cache write. */
const PRICE = { input: 3e-6, output: 15e-6, cacheRead: 0.3e-6, cacheWrite: 3.75e-6 };
const PUSH = { command: "git push origin main", description: "Push the fix" };

async function git(dir: string, ...args: string[]): Promise<boolean> {
  const out = await new Deno.Command("git", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  return out.success;
}

/** A repository with one commit on main and a bare `origin` inside it (as /workspace sees it). */
async function gitWorkspace(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-gov-ws-" });
  await git(dir, "init", "-q", "-b", "main");
  await git(dir, "init", "-q", "--bare", "origin.git");
  await Deno.writeTextFile(join(dir, "README"), "hello\n");
  await git(dir, "add", "README");
  await git(dir, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "one");
  await git(dir, "remote", "add", "origin", "/workspace/origin.git");
  await new Deno.Command("chmod", { args: ["-R", "a+rwX", dir] }).output();
  return dir;
}

function pushed(dir: string): Promise<boolean> {
  return git(dir, "--git-dir", "origin.git", "rev-parse", "-q", "--verify", "refs/heads/main");
}

/** Polls `fn` until it returns something truthy (at most `ms`). */
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await delay(250);
  }
}

/** The agent lines of a Claude pylon talking to `api`. */
function claudeAgent(image: string, api: FakeAnthropicApi, extra: string[]): string[] {
  return [
    "agent:",
    "  type: claude",
    `  image: ${JSON.stringify(image)}`,
    "  auth: api_key",
    "  api_key: sk-ant-fake-key",
    "  network: host",
    "  env:",
    `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
    '    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"',
    ...extra,
  ];
}

/** A pylon that pushes in `workspace` after asking, with `approve_timeout` `timeout`. */
function gatePylon(
  name: string,
  image: string,
  api: FakeAnthropicApi,
  workspace: string,
  timeout: string,
) {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "workspace:",
    "  type: local",
    `  path: ${JSON.stringify(workspace)}`,
    ...claudeAgent(image, api, [
      "  prompt: push the fix",
      '  approve_tools: ["Bash(git push:*)"]',
      `  approve_timeout: ${timeout}`,
    ]),
    "",
  ].join("\n");
}

type Keyboard = { "inline_keyboard"?: { text: string; "callback_data": string }[][] };
const buttonsOf = (m: FakeMessage) =>
  (m.replyMarkup as Keyboard | undefined)?.inline_keyboard?.flat() ?? [];

/** The job's decided tool calls, read from its pylon's `jobs.db` (read-only, beside the daemon). */
function decidedCalls(root: string, pylon: string, jobId: string) {
  const db = new DatabaseSync(createPylonPaths(root).pylonDb(pylon), { readOnly: true });
  try {
    return db.prepare(
      "SELECT tool, rule, decision, decided_by, decided_via, reason FROM tool_calls WHERE job_id = ?",
    ).all(jobId) as {
      tool: string;
      rule: string;
      decision: string | null;
      "decided_by": string | null;
      "decided_via": string | null;
      reason: string | null;
    }[];
  } finally {
    db.close();
  }
}

Deno.test({
  name:
    "issue 14 end to end: settings, cost, budget + Run anyway, max_cost_usd, tool approval in " +
    "Telegram (Allow, Deny, timeout, across a kill -9 of the daemon) and Slack",
  ignore: SLOW_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    const root = await Deno.makeTempDir({ prefix: "pylon-gov-home-" });
    const workspaces = {
      allow: await gitWorkspace(),
      deny: await gitWorkspace(),
      late: await gitWorkspace(),
      deadline: await gitWorkspace(),
      guarded: await gitWorkspace(),
      restart: await gitWorkspace(),
      slack: await gitWorkspace(),
    };
    const slack = startFakeSlack({ botToken: "xoxb-gov", appToken: "xapp-gov" });
    await using tg = startFakeTelegram({
      token: "77:gov",
      chats: [{ id: CHAT, type: "group", title: "ops" }],
    });
    await using settingsApi = startFakeAnthropicApi();
    await using mcp = startFakeMcpServer({ sentry: ["get_issue"], other: ["other_tool"] });
    await using cappedApi = startFakeAnthropicApi({
      toolUse: { name: "Bash", input: { command: "echo one more turn", description: "go on" } },
      // $0.30 of input per answer at claude-sonnet-4-5's price: over a $0.05 cap at once.
      usage: { ...FAKE_USAGE, "input_tokens": 100_000 },
    });
    await using gateApi = startFakeAnthropicApi({ toolUse: { name: "Bash", input: PUSH } });
    await using guardedApi = startFakeAnthropicApi({ toolUse: { name: "Bash", input: PUSH } });
    const port = freePort();
    await writeHome(root, {
      "config.yaml": [
        "server:",
        "  host: 127.0.0.1",
        `  port: ${port}`,
        "defaults:",
        "  channel:",
        "    type: telegram",
        "    telegram:",
        "      bot_token: 77:gov",
        `      chat_id: ${CHAT}`,
        `      allowed_users: [${ADA}]`,
        `      api_url: ${tg.url}`,
        "",
      ].join("\n"),
      "pylons/sentry/.env": "SENTRY_TOKEN=mcp-secret-token\n",
      "pylons/sentry/pylon.yaml": [
        "name: sentry",
        "trigger:",
        "  type: webhook",
        "  path: /sentry",
        "budget:",
        "  daily_usd: 0.0001",
        "  timezone: UTC",
        ...claudeAgent(image, settingsApi, [
          "  prompt: look at the issue",
          `  model: ${MODEL}`,
          '  allowed_tools: ["Read", "Grep", "mcp__sentry__*"]',
          "  mcp_servers:",
          "    sentry:",
          `      url: ${mcp.url}/sentry`,
          "      headers:",
          '        Authorization: "Bearer ${SENTRY_TOKEN}"',
          "    other:",
          `      url: ${mcp.url}/other`,
        ]),
        "",
      ].join("\n"),
      "pylons/capped/pylon.yaml": [
        "name: capped",
        "trigger:",
        "  type: webhook",
        "  path: /capped",
        ...claudeAgent(image, cappedApi, [
          "  prompt: spend",
          `  model: ${MODEL}`,
          "  max_cost_usd: 0.05",
        ]),
        "",
      ].join("\n"),
      "pylons/guarded/pylon.yaml": [
        "name: guarded",
        "trigger:",
        "  type: webhook",
        "  path: /guarded",
        "workspace:",
        "  type: local",
        `  path: ${JSON.stringify(workspaces.guarded)}`,
        ...claudeAgent(image, guardedApi, [
          "  prompt: push the fix",
          '  disallowed_tools: ["Bash(git push:*)"]',
        ]),
        "",
      ].join("\n"),
      "pylons/gate/pylon.yaml": gatePylon("gate", image, gateApi, workspaces.allow, "10m"),
      "pylons/gate-deny/pylon.yaml": gatePylon("gate-deny", image, gateApi, workspaces.deny, "10m"),
      "pylons/gate-late/pylon.yaml": gatePylon("gate-late", image, gateApi, workspaces.late, "3s"),
      "pylons/gate-deadline/pylon.yaml": gatePylon(
        "gate-deadline",
        image,
        gateApi,
        workspaces.deadline,
        "10m",
      ).replace("  approve_timeout: 10m", "  approve_timeout: 10m\n  timeout: 30s"),
      "pylons/gate-restart/pylon.yaml": gatePylon(
        "gate-restart",
        image,
        gateApi,
        workspaces.restart,
        "10m",
      ),
      "pylons/gate-slack/pylon.yaml": gatePylon(
        "gate-slack",
        image,
        gateApi,
        workspaces.slack,
        "10m",
      )
        .replace(
          "trigger:",
          [
            "channel:",
            "  type: slack",
            "  slack:",
            "    bot_token: xoxb-gov",
            "    app_token: xapp-gov",
            "    channel_id: C0GOV",
            "    allowed_users: [U0ADA]",
            `    api_url: ${slack.apiUrl}`,
            "trigger:",
          ].join("\n"),
        ),
    });
    const env = { PYLON_HOME: root, HOME: root };
    const base = `http://127.0.0.1:${port}`;
    let daemon: DaemonProcess = await startDaemon(env);
    const token = (await Deno.readTextFile(join(root, "daemon.token"))).trim();
    const api = (path: string, init: RequestInit = {}) =>
      fetch(base + path, { ...init, headers: { authorization: `Bearer ${token}` } });
    // deno-lint-ignore no-explicit-any
    const job = async (id: string): Promise<any> => await (await api(`/api/jobs/${id}`)).json();
    const trigger = async (pylon: string): Promise<string> => {
      const res = await api(`/api/pylons/${pylon}/trigger`, { method: "POST" });
      const body = await res.json();
      assert.ok(res.status < 300, JSON.stringify(body));
      return String(body.job_id ?? body.id);
    };
    const finished = (id: string, ms = 180_000) =>
      until(`job ${id.slice(0, 8)} to end`, async () => {
        const j = await job(id);
        return ["queued", "running", "held", "awaiting_approval"].includes(j.status)
          ? undefined
          : j;
      }, ms);
    const log = async (id: string) => await (await api(`/api/jobs/${id}/log`)).text();
    /** The one message in the chat that still offers Allow / Deny / Allow for this job. */
    const approvalMessage = () =>
      tg.waitFor(() => tg.messages(CHAT).some((m) => buttonsOf(m).length === 3), 180_000)
        .then(() => tg.messages(CHAT).filter((m) => buttonsOf(m).length === 3))
        .then((found) => {
          assert.equal(found.length, 1, "one call waits at a time here");
          return found[0]!;
        });
    const press = (m: FakeMessage, text: string) =>
      tg.pressButton({
        chatId: CHAT,
        fromId: ADA,
        messageId: m.messageId,
        data: buttonsOf(m).find((b) => b.text === text)!.callback_data,
      });

    try {
      let firstId = "";
      await t.step("settings: model, allowed tools and MCP servers reach the CLI", async () => {
        firstId = await trigger("sentry");
        const done = await finished(firstId);
        assert.equal(done.status, "completed", JSON.stringify(done));
        const offered = settingsApi.messageRequests().filter((q) =>
          Array.isArray(q.body?.tools) && q.body.tools.length > 0
        );
        assert.ok(offered.length > 0, "no request offered tools");
        for (const q of offered) {
          assert.equal(q.body?.model, MODEL);
          const names = (q.body?.tools as { name: string }[]).map((x) => x.name).sort();
          assert.deepEqual(names, ["Grep", "Read", "mcp__sentry__get_issue"]);
        }
        const init = mcp.requests.find((q) => q.server === "sentry" && q.method === "initialize");
        assert.equal(init?.headers.get("authorization"), "Bearer mcp-secret-token");
        const text = JSON.stringify(done) + await log(firstId);
        assert.ok(!text.includes("mcp-secret-token"), "the MCP secret is not in the job or log");
      });

      await t.step(
        "cost: the fake's tokens, the CLI's total_cost_usd at the model's price",
        async () => {
          const calls = settingsApi.messageRequests().length;
          const done = await job(firstId);
          assert.deepEqual(done.usage, fakeUsageOf(calls));
          const cli = /\\?"total_cost_usd\\?":\s*([0-9.eE+-]+)/.exec(await log(firstId));
          assert.ok(cli, "the CLI's result is in the job's log");
          assert.equal(done.cost_usd, Math.round(Number(cli[1]) * 1e6) / 1e6);
          assert.equal(done.cost_basis, "api");
          const price = calls * (FAKE_USAGE.input_tokens * PRICE.input +
            FAKE_USAGE.output_tokens * PRICE.output +
            FAKE_USAGE.cache_read_input_tokens * PRICE.cacheRead +
            FAKE_USAGE.cache_creation_input_tokens * PRICE.cacheWrite);
          assert.ok(Math.abs(done.cost_usd - price) < 2e-6, `${done.cost_usd} vs ${price}`);
          assert.ok(done.models.includes(MODEL), JSON.stringify(done.models));
        },
      );

      await t.step("budget: the next job is held; Run anyway in the chat releases it", async () => {
        const held = await trigger("sentry");
        await until("the job to be held", async () => (await job(held)).status === "held", 30_000);
        assert.match((await job(held)).error ?? "", /daily budget of \$[\d.]+ reached/);
        await tg.waitFor(
          () =>
            tg.messages(CHAT).some((m) =>
              buttonsOf(m).some((b) => b.callback_data === `run:${held}`)
            ),
          30_000,
        );
        const message = tg.messages(CHAT).find((m) =>
          buttonsOf(m).some((b) => b.callback_data === `run:${held}`)
        )!;
        press(message, "Run anyway");
        const done = await finished(held);
        assert.equal(done.status, "completed", JSON.stringify(done));
        assert.ok(
          (done.history as { reason: string | null }[]).some((h) =>
            /by User 111 via telegram/.test(h.reason ?? "")
          ),
          JSON.stringify(done.history),
        );
        await tg.waitFor(() => message.plain.includes("Released by User 111"), 10_000);
      });

      await t.step(
        "max_cost_usd: the CLI's --max-budget-usd stop fails the job with the reason",
        async () => {
          const id = await trigger("capped");
          const done = await finished(id);
          assert.equal(done.status, "failed", JSON.stringify(done));
          assert.match(done.error ?? "", /^budget of \$0\.05 reached after \d+ turns?$/);
          assert.ok(done.cost_usd >= 0.05, `cost ${done.cost_usd}`);
          assert.ok(done.num_turns >= 1);
        },
      );

      await t.step(
        "disallowed_tools: a denied push does not run, with permissions skipped",
        async () => {
          const id = await trigger("guarded");
          const done = await finished(id);
          assert.equal(done.status, "completed", JSON.stringify(done));
          const result = lastToolResult(guardedApi);
          assert.ok(result !== "", "the model got a tool result for the push");
          assert.equal(await pushed(workspaces.guarded), false, `pushed anyway: ${result}`);
          assert.match(result, /denied|permission|not allowed/i, result);
        },
      );

      await t.step("Allow pressed in the job's thread: the push runs", async () => {
        const id = await trigger("gate");
        const message = await approvalMessage();
        assert.match(message.plain, /git push origin main/);
        assert.equal(await pushed(workspaces.allow), false, "nothing is pushed while it waits");
        const waiting = await job(id);
        assert.equal(waiting.status, "running");
        assert.equal(waiting.waiting, "tool approval");
        press(message, "Allow");
        const done = await finished(id);
        assert.equal(done.status, "completed", JSON.stringify(done));
        assert.equal(await pushed(workspaces.allow), true, "the push reached the remote");
        await tg.waitFor(() => message.plain.includes("Allowed by User 111"), 10_000);
        assert.deepEqual(
          decidedCalls(root, "gate", id).map((c) => [c.decision, c.decided_by, c.decided_via]),
          [["allow", "User 111", "telegram"]],
        );
      });

      await t.step(
        "Deny pressed: nothing is pushed and the agent is told who denied it",
        async () => {
          const id = await trigger("gate-deny");
          const message = await approvalMessage();
          press(message, "Deny");
          const done = await finished(id);
          assert.equal(done.status, "completed", JSON.stringify(done));
          assert.equal(await pushed(workspaces.deny), false);
          assert.match(lastToolResult(gateApi), /denied by User 111/);
          assert.deepEqual(
            decidedCalls(root, "gate-deny", id).map((c) => [c.decision, c.decided_via]),
            [["deny", "telegram"]],
          );
        },
      );

      await t.step("no press within approve_timeout: denied, the agent is told why", async () => {
        const id = await trigger("gate-late");
        const message = await approvalMessage();
        const done = await finished(id);
        assert.equal(done.status, "completed", JSON.stringify(done));
        assert.equal(await pushed(workspaces.late), false);
        assert.match(lastToolResult(gateApi), /no answer within 3s/);
        await tg.waitFor(() => message.plain.includes("Timed out"), 10_000);
        assert.deepEqual(
          decidedCalls(root, "gate-late", id).map((c) => [c.decision, c.decided_via]),
          [["deny", "timeout"]],
        );
      });

      await t.step(
        "the deadline keeps running while a call waits: timed out, the call closed",
        async () => {
          const id = await trigger("gate-deadline");
          const message = await approvalMessage();
          assert.equal((await job(id)).waiting, "tool approval");
          const done = await finished(id, 120_000);
          assert.equal(done.status, "timed_out", JSON.stringify(done));
          assert.equal(await pushed(workspaces.deadline), false);
          await tg.waitFor(
            () => message.plain.includes("the job ended before anyone answered"),
            10_000,
          );
          assert.equal(buttonsOf(message).length, 0, "the buttons are gone");
          assert.deepEqual(
            decidedCalls(root, "gate-deadline", id).map((c) => [
              c.decision,
              c.decided_via,
              c.reason,
            ]),
            [["deny", "timeout", "the job ended"]],
          );
        },
      );

      await t.step(
        "kill -9 of the daemon mid-wait; the press after the restart runs the push",
        async () => {
          const id = await trigger("gate-restart");
          const message = await approvalMessage();
          await stopDaemon(daemon, "SIGKILL");
          daemon = await startDaemon(env);
          await until("the call to wait again", async () => {
            const calls = await (await api(`/api/jobs/${id}/tool-calls`)).json();
            return Array.isArray(calls) && calls.length === 1 ? true : undefined;
          }, 60_000);
          assert.equal(await pushed(workspaces.restart), false);
          press(message, "Allow");
          const done = await finished(id, 60_000).catch((e) => {
            const lines = daemon.log.filter((l) => /tool|telegram|callback|press|error/.test(l));
            const calls = JSON.stringify(decidedCalls(root, "gate-restart", id));
            throw new Error(
              `${e.message}; calls: ${calls}; the daemon's log:\n${lines.slice(-40).join("\n")}`,
            );
          });
          assert.equal(done.status, "completed", JSON.stringify(done));
          assert.equal(await pushed(workspaces.restart), true, "the push ran after the restart");
          assert.deepEqual(
            decidedCalls(root, "gate-restart", id).map((c) => [c.decision, c.decided_via]),
            [["allow", "telegram"]],
          );
        },
      );

      await t.step(
        "Slack: Allow for this job pressed in the job's thread runs the push",
        async () => {
          const id = await trigger("gate-slack");
          const actionId = (m: { blocks?: unknown }) =>
            JSON.stringify(m.blocks ?? []).match(/tool_allow_job:[0-9a-f-]{36}:[a-z0-9]+/)?.[0];
          await slackWaitFor(
            () => slack.messages.some((m) => actionId(m)?.includes(id)),
            "the call's message in Slack",
            180_000,
          );
          const message = slack.messages.find((m) => actionId(m)?.includes(id))!;
          assert.equal(await pushed(workspaces.slack), false);
          slack.clickButton({
            userId: "U0ADA",
            channelId: "C0GOV",
            messageTs: message.ts,
            actionId: actionId(message)!,
          });
          const done = await finished(id);
          assert.equal(done.status, "completed", JSON.stringify(done));
          assert.equal(await pushed(workspaces.slack), true, "the push reached the remote");
          assert.deepEqual(
            decidedCalls(root, "gate-slack", id).map((c) => [c.decision, c.decided_via]),
            [["allow_for_job", "slack"]],
          );
          await slackWaitFor(() => !actionId(message), "the buttons to go");
        },
      );
    } finally {
      await stopDaemon(daemon, "SIGTERM");
      // The stopped daemon leaves its running containers for the next one: none comes.
      {
        using docker = openTestDocker();
        await removeHomeContainers(docker, root);
      }
      await slack.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
      for (const dir of Object.values(workspaces)) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
  },
});
