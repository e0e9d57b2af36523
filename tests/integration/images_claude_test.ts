/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): the real Claude Code agent image, built from the embedded
 * Dockerfile on a plain Debian base (so it installs Debian's nodejs/npm) with the host's extra CA
 * certificates, then run against the fake Messages API on loopback (`--network host`): a tool
 * call (PostToolUse hook → events.ndjson), result.json with the fake's answer and a session id,
 * a follow-up that resumes the session from the kept state folder, a failed resume, a prompt over
 * 128 KiB read from `PROMPT_FILE`, OAuth credentials copied from the read-only credential
 * files, and a pylon's agent settings (`model`, `allowed_tools`, an http MCP server on loopback)
 * reaching the requests the fake receives.
 *
 * The agent image is cached by its digest tag like in production, so a rerun without changes to
 * `agents/claude` skips the build.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { claudeArgs } from "../../src/runner/agent_args.ts";
import { buildContainerSpec } from "../../src/runner/container_spec.ts";
import { writeMcpConfig } from "../../src/runner/prompt_file.ts";
import { usageOf } from "../../src/runner/result.ts";
import { FAKE_ANSWER, FAKE_USAGE, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { startFakeMcpServer } from "../fakes/mcp_server.ts";
import { openTestDocker } from "./_docker.ts";
import {
  buildOnDebian,
  makeRunDirs,
  printSlowSkipReason,
  runAgent,
  SLOW_IGNORE,
} from "./images_slow.ts";

printSlowSkipReason("Claude Code");

Deno.test({
  name: "claude agent image: builds on plain Debian with host CAs and answers via the fake API",
  ignore: SLOW_IGNORE,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    const dirs = await makeRunDirs("pylon-claude-run-");
    await using api = startFakeAnthropicApi({
      toolUse: {
        name: "Bash",
        input: { command: "echo from-the-agent > made-by-claude.txt", description: "write a file" },
      },
    });
    const env = {
      ANTHROPIC_API_KEY: "sk-ant-fake-key",
      ANTHROPIC_BASE_URL: api.url,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    };
    try {
      let sessionId = "";
      await t.step("first run: tool event, workspace change, result.json", async () => {
        const r = await runAgent(docker, image, dirs, { ...env, PROMPT: "--say hello" });
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.result?.status, "completed", JSON.stringify(r.result));
        assert.equal(r.result?.result, FAKE_ANSWER);
        assert.match(String(r.result?.session_id), /^[0-9a-f-]{36}$/);
        sessionId = String(r.result?.session_id);
        assert.deepEqual(r.events.trim().split("\n").map((l) => JSON.parse(l)), [
          { tool: "Bash", summary: "echo from-the-agent > made-by-claude.txt" },
        ]);
        assert.equal(
          await Deno.readTextFile(join(dirs.workspace, "made-by-claude.txt")),
          "from-the-agent\n",
        );
        const first = JSON.stringify(api.messageRequests()[0]?.body?.messages ?? []);
        assert.ok(first.includes("--say hello"), "the prompt reaches the API verbatim");
      });
      await t.step("usage: the fake's tokens summed, the CLI's total_cost_usd", async () => {
        const before = api.messageRequests().length;
        const r = await runAgent(docker, image, dirs, { ...env, PROMPT: "count tokens" });
        assert.equal(r.result?.status, "completed", JSON.stringify(r.result));
        const calls = api.messageRequests().length - before;
        assert.ok(calls >= 1);
        assert.deepEqual(r.result?.usage, {
          input_tokens: FAKE_USAGE.input_tokens * calls,
          output_tokens: FAKE_USAGE.output_tokens * calls,
          cache_read_input_tokens: FAKE_USAGE.cache_read_input_tokens * calls,
          cache_creation_input_tokens: FAKE_USAGE.cache_creation_input_tokens * calls,
        });
        const cli = r.stdout.trim().split("\n").map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return null;
          }
        }).findLast((v) => v?.type === "result");
        assert.equal(typeof cli?.total_cost_usd, "number", r.stdout);
        assert.equal(r.result?.cost_usd, cli.total_cost_usd);
        assert.equal(r.result?.num_turns, cli.num_turns);
        assert.ok(Array.isArray(r.result?.models) && r.result.models.length >= 1);
        // What the runner stores from it.
        const usage = usageOf(r.result!);
        assert.equal(usage?.inputTokens, FAKE_USAGE.input_tokens * calls);
        assert.equal(usage?.costUsd, Math.round(cli.total_cost_usd * 1e6) / 1e6);
      });
      await t.step("follow-up resumes the session from the kept state folder", async () => {
        const before = api.messageRequests().length;
        const r = await runAgent(docker, image, dirs, {
          ...env,
          PROMPT: "and now?",
          SESSION_ID: sessionId,
        });
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.result?.status, "completed");
        assert.equal(r.result?.session_id, sessionId);
        const resumed = api.messageRequests()[before]?.body?.messages;
        assert.ok(Array.isArray(resumed) && resumed.length > 2, "history was sent again");
      });
      await t.step("an unknown session fails with the CLI's message", async () => {
        const r = await runAgent(docker, image, dirs, {
          ...env,
          PROMPT: "hello",
          SESSION_ID: "00000000-0000-4000-8000-000000000000",
        });
        assert.notEqual(r.exitCode, 0);
        assert.equal(r.result?.status, "failed");
        assert.match(String(r.result?.error), /No conversation found/);
      });
      await t.step("a prompt over 128 KiB arrives through PROMPT_FILE alone", async () => {
        const file = join(dirs.root, "prompt");
        const prompt = `long-prompt-marker ${"y".repeat(200 * 1024)}`;
        await Deno.writeTextFile(file, prompt);
        await Deno.chmod(file, 0o644);
        const before = api.messageRequests().length;
        const r = await runAgent(docker, image, dirs, {
          ...env,
          PROMPT_FILE: "/pylon/prompt",
        }, [`${file}:/pylon/prompt:ro`]);
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.result?.status, "completed", JSON.stringify(r.result));
        const sent = JSON.stringify(api.messageRequests()[before]?.body?.messages ?? []);
        assert.ok(sent.includes("long-prompt-marker"), "the file's prompt reaches the API");
        assert.ok(sent.length > 200 * 1024, `only ${sent.length} characters were sent`);
      });
      await t.step("OAuth: only the credential files, mounted read-only, are used", async () => {
        const host = join(dirs.root, "host-claude");
        await Deno.mkdir(host);
        const credentials = {
          claudeAiOauth: {
            accessToken: "sk-ant-oat01-fake-token",
            refreshToken: "sk-ant-ort01-fake-refresh",
            expiresAt: Date.parse("2100-01-01T00:00:00Z"),
            scopes: ["user:inference", "user:profile"],
            subscriptionType: "max",
          },
        };
        await Deno.writeTextFile(join(host, ".credentials.json"), JSON.stringify(credentials));
        await Deno.writeTextFile(
          join(dirs.root, "host-claude.json"),
          JSON.stringify({ hasCompletedOnboarding: true }),
        );
        await Deno.chmod(join(host, ".credentials.json"), 0o644);
        const oauthState = join(dirs.root, "oauth-state");
        await Deno.mkdir(oauthState);
        await Deno.chmod(oauthState, 0o777);
        const before = api.messageRequests().length;
        const r = await runAgent(
          docker,
          image,
          { ...dirs, state: oauthState },
          { ANTHROPIC_BASE_URL: api.url, PROMPT: "hello" },
          // As the runner mounts them: the two files, never the folder.
          [
            `${host}/.credentials.json:/pylon/oauth/.credentials.json:ro`,
            `${dirs.root}/host-claude.json:/pylon/oauth.json:ro`,
          ],
        );
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.result?.status, "completed");
        assert.match(r.stderr, /using OAuth session/);
        const auth = api.messageRequests()[before]?.headers.get("authorization");
        assert.equal(auth, "Bearer sk-ant-oat01-fake-token");
        const copied = JSON.parse(
          await Deno.readTextFile(join(oauthState, "claude", ".credentials.json")),
        );
        assert.equal(copied.claudeAiOauth.accessToken, "sk-ant-oat01-fake-token");
      });
      await t.step(
        "agent settings: the model, only the allowed tools, the MCP server's tools",
        async () => {
          await using settingsApi = startFakeAnthropicApi();
          await using mcp = startFakeMcpServer({
            sentry: ["get_issue"],
            other: ["other_tool"],
          });
          const pylon = resolvePylon(
            pylonConfigSchema.parse({
              name: "sentry",
              trigger: { type: "webhook", path: "/sentry" },
              agent: {
                prompt: "p",
                model: "claude-sonnet-4-5",
                fallback_model: "claude-haiku-4-5",
                max_turns: 5,
                allowed_tools: ["Read", "Grep", "mcp__sentry__*"],
                disallowed_tools: ["Bash(git push:*)"],
                append_system_prompt: "pylon-appended-marker",
                mcp_servers: {
                  sentry: {
                    url: `${mcp.url}/sentry`,
                    headers: { Authorization: "Bearer mcp-tok" },
                  },
                  other: { url: `${mcp.url}/other` },
                },
              },
            }),
            globalConfigSchema.parse({}),
            { env: {}, systemTimezone: "UTC" },
          );
          // What the runner does: the MCP file in the job's folder, the arguments in the env.
          const jobDir = join(dirs.root, "job");
          const mcpFile = await writeMcpConfig(jobDir, pylon, Deno.uid() === 0 ? 1000 : undefined);
          assert.ok(mcpFile);
          if (Deno.uid() !== 0) await Deno.chmod(mcpFile, 0o644);
          const spec = buildContainerSpec({
            jobId: "00000000-0000-4000-8000-00000000abcd",
            pylon,
            image,
            prompt: "hello",
            mcpConfigFile: mcpFile,
            sessionId: null,
            workspace: dirs.workspace,
            workspaceReadOnly: false,
            extraMounts: [],
            outDir: dirs.out,
            stateDir: join(dirs.root, "settings-state"),
            volumes: [],
            user: "1000:1000",
            home: "test",
            pidsLimit: 512,
          });
          const agentArgs = spec.Env!.find((e) => e.startsWith("PYLON_AGENT_ARGS="))!.slice(17);
          const r = await runAgent(docker, image, dirs, {
            ...env,
            ANTHROPIC_BASE_URL: settingsApi.url,
            PROMPT: "hello",
            PYLON_AGENT_ARGS: agentArgs,
          }, [`${mcpFile}:/pylon/mcp.json:ro`]);
          assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
          assert.equal(r.result?.status, "completed", JSON.stringify(r.result));
          const main = settingsApi.messageRequests().filter((q) =>
            Array.isArray(q.body?.tools) && q.body.tools.length > 0
          );
          assert.ok(main.length > 0, "no request offered tools");
          for (const q of main) {
            assert.equal(q.body?.model, "claude-sonnet-4-5");
            const names = (q.body?.tools as { name: string }[]).map((tool) => tool.name).sort();
            assert.deepEqual(names, ["Grep", "Read", "mcp__sentry__get_issue"]);
            assert.ok(JSON.stringify(q.body?.system).includes("pylon-appended-marker"));
          }
          // The CLI read the file: the sentry server was asked for its tools, with the token.
          const listed = mcp.requests.filter((q) => q.method === "tools/list");
          assert.ok(listed.some((q) => q.server === "sentry"), JSON.stringify(mcp.requests));
          const init = mcp.requests.find((q) => q.server === "sentry" && q.method === "initialize");
          assert.equal(init?.headers.get("authorization"), "Bearer mcp-tok");
        },
      );
      await t.step("allowed_tools with a rule: a call no rule allows is refused", async () => {
        await using ruleApi = startFakeAnthropicApi({
          toolUse: { name: "Bash", input: { command: "touch pushed.txt", description: "push" } },
        });
        const pylon = resolvePylon(
          pylonConfigSchema.parse({
            name: "review",
            trigger: { type: "webhook", path: "/review" },
            agent: { prompt: "p", allowed_tools: ["Read", "Bash(git log:*)"] },
          }),
          globalConfigSchema.parse({}),
          { env: {}, systemTimezone: "UTC" },
        );
        const r = await runAgent(docker, image, dirs, {
          ...env,
          ANTHROPIC_BASE_URL: ruleApi.url,
          PROMPT: "hello",
          PYLON_AGENT_ARGS: JSON.stringify(claudeArgs(pylon.agent.settings)),
        });
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        const names = (ruleApi.messageRequests()[0]?.body?.tools as { name: string }[])
          .map((tool) => tool.name).filter((n) => n !== "DeferredToolPlaceholder").sort();
        // (Outside bypass mode the CLI adds a placeholder of its own, which runs nothing.)
        assert.deepEqual(names, ["Bash", "Read"]);
        await assert.rejects(Deno.stat(join(dirs.workspace, "pushed.txt")), Deno.errors.NotFound);
        const answered = JSON.stringify(ruleApi.messageRequests().at(-1)?.body?.messages);
        assert.match(answered, /"is_error":true/);
      });
    } finally {
      // Files the agent wrote belong to uid 1000; a non-root test user may not remove them.
      await Deno.remove(dirs.root, { recursive: true }).catch(() => {});
    }
  },
});
