/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): the real OpenCode agent image, built from the embedded
 * Dockerfile on a plain Debian base with the host's extra CA certificates, then run against the
 * fake Messages API on loopback (`--network host`) as the `anthropic` provider: JSON events →
 * events.ndjson, result.json with the answer and session id, a follow-up continuing the session
 * from the kept state folder, an unknown session failing, a pylon's `append_system_prompt`
 * and `args` reaching OpenCode (the system prompt and the model the fake receives), and its
 * `allowed_tools`, `disallowed_tools` and `mcp_servers` (the tool list the fake receives, a denied
 * `git push` not run, the MCP server asked with the `.env` token that no environment holds), and
 * its `max_turns` and `max_cost_usd` against a model that never stops calling tools (the calls of
 * the allowed turns run, the next turn's are refused unrun, the run fails with the cap's reason).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  globalConfigSchema,
  loadGlobalConfig,
  loadPylon,
  pylonConfigSchema,
  type ResolvedPylon,
  resolvePylon,
} from "../../src/config/mod.ts";
import { buildContainerSpec } from "../../src/runner/container_spec.ts";
import { writeMcpConfig } from "../../src/runner/prompt_file.ts";
import { FAKE_ANSWER, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { startFakeMcpServer } from "../fakes/mcp_server.ts";
import { createTestContext, writePylon } from "../_helpers/cli.ts";
import { openTestDocker } from "./_docker.ts";
import {
  buildOnDebian,
  makeRunDirs,
  printSlowSkipReason,
  runAgent,
  SLOW_IGNORE,
} from "./images_slow.ts";

printSlowSkipReason("OpenCode");

/** A webhook pylon `oc` with an OpenCode `agent` (prompt `p` and the given settings). */
function opencodePylon(agent: Record<string, unknown>): ResolvedPylon {
  return resolvePylon(
    pylonConfigSchema.parse({
      name: "oc",
      trigger: { type: "webhook", path: "/oc" },
      agent: { type: "opencode", prompt: "p", ...agent },
    }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
}

Deno.test({
  name: "opencode agent image: builds on plain Debian and answers via the fake API",
  ignore: SLOW_IGNORE,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "opencode");
    const dirs = await makeRunDirs("pylon-opencode-run-");
    /** What the runner would hand the Engine for `pylon` (settings in the environment). */
    const specFor = (pylon: ResolvedPylon, jobId: string, state: string, mcpConfigFile?: string) =>
      buildContainerSpec({
        jobId,
        pylon,
        image,
        prompt: "hello",
        ...(mcpConfigFile ? { mcpConfigFile } : {}),
        sessionId: null,
        workspace: dirs.workspace,
        workspaceReadOnly: false,
        extraMounts: [],
        outDir: dirs.out,
        stateDir: join(dirs.root, state),
        volumes: [],
        user: "1000:1000",
        home: "test",
        pidsLimit: 512,
      });
    await using api = startFakeAnthropicApi({
      toolUse: {
        name: "bash",
        input: { command: "echo hi > made-by-opencode.txt", description: "write" },
      },
    });
    const env = {
      ANTHROPIC_API_KEY: "sk-ant-fake-key",
      OPENCODE_PROVIDER: "anthropic",
      // Test plumbing only: point the provider at the fake and keep the model list offline.
      OPENCODE_CONFIG_CONTENT: JSON.stringify({
        provider: { anthropic: { options: { baseURL: `${api.url}/v1` } } },
      }),
      OPENCODE_DISABLE_MODELS_FETCH: "1",
    };
    try {
      let sessionId = "";
      await t.step("first run: tool event, workspace change, result.json", async () => {
        const r = await runAgent(docker, image, dirs, { ...env, PROMPT: '--say "hello" twice' });
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.result?.status, "completed", JSON.stringify(r.result));
        assert.equal(r.result?.result, FAKE_ANSWER);
        assert.match(String(r.result?.session_id), /^ses_\w+$/);
        sessionId = String(r.result?.session_id);
        assert.deepEqual(r.events.trim().split("\n").map((l) => JSON.parse(l)), [
          { tool: "bash", summary: "echo hi > made-by-opencode.txt" },
        ]);
        assert.equal(await Deno.readTextFile(join(dirs.workspace, "made-by-opencode.txt")), "hi\n");
        const sent = JSON.stringify(api.messageRequests().map((r) => r.body?.messages));
        assert.ok(
          sent.includes(JSON.stringify('--say "hello" twice').slice(1, -1)),
          "verbatim prompt",
        );
      });
      await t.step("follow-up continues the session from the kept state folder", async () => {
        const r = await runAgent(docker, image, dirs, {
          ...env,
          PROMPT: "and now?",
          SESSION_ID: sessionId,
        });
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.result?.status, "completed");
        assert.equal(r.result?.session_id, sessionId);
      });
      await t.step("agent.append_system_prompt and agent.args reach OpenCode", async () => {
        const pylon = opencodePylon({
          append_system_prompt: "pylon-appended-marker: answer briefly",
          args: ["--model", "anthropic/claude-haiku-4-5"],
        });
        assert.deepEqual(pylon.agent.unsupported, []);
        // What the runner does: the settings in the container's environment.
        const spec = specFor(pylon, "00000000-0000-4000-8000-00000000abce", "settings-state");
        const settingsEnv = Object.fromEntries(
          spec.Env!.filter((e) => e.startsWith("PYLON_A")).map((e) => {
            const at = e.indexOf("=");
            return [e.slice(0, at), e.slice(at + 1)];
          }),
        );
        assert.deepEqual(Object.keys(settingsEnv).sort(), [
          "PYLON_AGENT_ARGS",
          "PYLON_APPEND_SYSTEM_PROMPT",
        ]);
        const before = api.messageRequests().length;
        const r = await runAgent(docker, image, dirs, { ...env, ...settingsEnv, PROMPT: "hello" });
        assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
        assert.equal(r.result?.status, "completed", JSON.stringify(r.result));
        // The agent's requests offer tools (a title request does not).
        const main = api.messageRequests().slice(before).filter((q) =>
          Array.isArray(q.body?.tools) && q.body.tools.length > 0
        );
        assert.ok(main.length > 0, "no request offered tools");
        for (const q of main) {
          assert.match(String(q.body?.model), /^claude-haiku-4-5/, "agent.args' --model");
          assert.ok(
            JSON.stringify(q.body?.system).includes("pylon-appended-marker: answer briefly"),
            "agent.append_system_prompt is in the system prompt",
          );
        }
      });
      await t.step(
        "allowed_tools, disallowed_tools and mcp_servers: the tool list, a denied push, the MCP server",
        async () => {
          await using toolApi = startFakeAnthropicApi({
            toolUse: {
              name: "bash",
              input: {
                command: "touch pushed-by-opencode.txt && git push origin main",
                description: "push",
              },
            },
          });
          await using mcp = startFakeMcpServer({ sentry: ["get_issue"], other: ["other_tool"] });
          const token = "mcp-secret-7f3a9c";
          // The pylon as a user writes it: pylon.yaml, and the token in the pylon's .env.
          await using ctx = await createTestContext();
          await writePylon(
            ctx,
            "oc-tools",
            [
              "name: oc-tools",
              "trigger: { type: webhook, path: /oc-tools }",
              "agent:",
              "  type: opencode",
              "  prompt: p",
              "  allowed_tools: [Read, Grep, Bash, 'mcp__sentry__*']",
              "  disallowed_tools: ['Bash(git push:*)', 'Read(./.env)']",
              "  mcp_servers:",
              "    sentry:",
              `      url: ${mcp.url}/sentry`,
              "      headers: { Authorization: 'Bearer ${SENTRY_TOKEN}' }",
              "    other:",
              `      url: ${mcp.url}/other`,
              "",
            ].join("\n"),
            `SENTRY_TOKEN=${token}\n`,
          );
          const global = await loadGlobalConfig(ctx.paths, ctx.env);
          const loaded = await loadPylon(ctx.paths, "oc-tools", global);
          const pylon = resolvePylon(loaded.config, global.config, {
            env: loaded.env,
            systemTimezone: "UTC",
          });
          // Exactly the rule OpenCode cannot express is named, not the whole setting.
          assert.deepEqual(pylon.agent.unsupported, ["disallowed_tools: Read(./.env)"]);
          // What the runner does: the MCP file (0600) in the job's folder, the rest in the env.
          const jobDir = join(dirs.root, "tools-job");
          const mcpFile = await writeMcpConfig(jobDir, pylon, Deno.uid() === 0 ? 1000 : undefined);
          assert.ok(mcpFile);
          assert.equal((await Deno.stat(mcpFile)).mode! & 0o777, 0o600);
          if (Deno.uid() !== 0) await Deno.chmod(mcpFile, 0o644);
          const spec = specFor(
            pylon,
            "00000000-0000-4000-8000-00000000abcf",
            "tools-state",
            mcpFile,
          );
          assert.ok(!JSON.stringify(spec).includes(token), "the token is in the container spec");
          assert.ok(
            spec.HostConfig?.Mounts?.some((m) =>
              m.Source === mcpFile && m.Target === "/pylon/mcp.json" && m.ReadOnly
            ),
          );
          const permission = spec.Env!.find((e) => e.startsWith("OPENCODE_PERMISSION="))!
            .slice("OPENCODE_PERMISSION=".length);
          const r = await runAgent(docker, image, dirs, {
            ...env,
            OPENCODE_CONFIG_CONTENT: JSON.stringify({
              provider: { anthropic: { options: { baseURL: `${toolApi.url}/v1` } } },
            }),
            OPENCODE_PERMISSION: permission,
            PROMPT: "hello",
          }, [`${mcpFile}:/pylon/mcp.json:ro`]);
          assert.equal(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
          assert.equal(r.result?.status, "completed", JSON.stringify(r.result));
          const main = toolApi.messageRequests().filter((q) =>
            Array.isArray(q.body?.tools) && q.body.tools.length > 0
          );
          assert.ok(main.length > 0, "no request offered tools");
          for (const q of main) {
            const names = (q.body?.tools as { name: string }[]).map((tool) => tool.name).sort();
            assert.deepEqual(names, ["bash", "grep", "read", "sentry_get_issue"]);
          }
          // The denied push did not run, not even the allowed command before it.
          await assert.rejects(
            Deno.stat(join(dirs.workspace, "pushed-by-opencode.txt")),
            Deno.errors.NotFound,
          );
          const results = JSON.stringify(main.at(-1)?.body?.messages);
          assert.match(results, /tool_result/);
          assert.match(results, /git push/);
          // OpenCode read the MCP file: the sentry server was asked for its tools, with the token.
          const listed = mcp.requests.filter((q) => q.method === "tools/list");
          assert.ok(listed.some((q) => q.server === "sentry"), JSON.stringify(mcp.requests));
          const init = mcp.requests.find((q) => q.server === "sentry" && q.method === "initialize");
          assert.equal(init?.headers.get("authorization"), `Bearer ${token}`);
          assert.ok(!`${r.stdout}\n${r.stderr}`.includes(token), "the token is in the logs");
        },
      );
      await t.step(
        "agent.max_turns: tools run in the allowed turns only, then the run fails with the limit",
        async () => {
          // A model that never stops calling tools, each call appending a line.
          await using loopApi = startFakeAnthropicApi({
            toolUse: {
              name: "bash",
              input: { command: "echo turn >> turns.txt", description: "turn" },
            },
            toolCalls: Infinity,
          });
          const pylon = opencodePylon({ max_turns: 2 });
          assert.deepEqual(pylon.agent.unsupported, []);
          const spec = specFor(pylon, "00000000-0000-4000-8000-00000000abd0", "turns-state");
          const maxTurns = spec.Env!.find((e) => e.startsWith("PYLON_MAX_TURNS="));
          assert.equal(maxTurns, "PYLON_MAX_TURNS=2");
          const r = await runAgent(docker, image, dirs, {
            ...env,
            OPENCODE_CONFIG_CONTENT: JSON.stringify({
              provider: { anthropic: { options: { baseURL: `${loopApi.url}/v1` } } },
            }),
            PYLON_MAX_TURNS: "2",
            PROMPT: "loop",
          });
          assert.notEqual(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
          assert.equal(r.result?.status, "failed", JSON.stringify(r.result));
          assert.equal(r.result?.error, "turn limit of 2 reached after 3 turns");
          assert.ok(Number(r.result?.num_turns) >= 3, JSON.stringify(r.result));
          // The two allowed turns ran their call; the third turn's call was refused unrun.
          assert.equal(await Deno.readTextFile(join(dirs.workspace, "turns.txt")), "turn\nturn\n");
          const main = loopApi.messageRequests().filter((q) =>
            Array.isArray(q.body?.tools) && q.body.tools.length > 0
          );
          // OpenCode told the model in the third turn; the helper then stopped the CLI (how
          // many requests it had sent by then is a race: any later turn's calls are refused too).
          assert.ok(main.length >= 3, JSON.stringify(main.length));
          assert.match(JSON.stringify(main[2]!.body?.messages), /MAXIMUM STEPS REACHED/);
          assert.match(r.stdout, /turn limit of 2 \(agent\.max_turns\) is reached/);
          // Read-only while OpenCode ran (no plugin package install), writable again after.
          const config = await Deno.stat(join(dirs.state, "opencode", "config", "opencode"));
          assert.equal(config.mode! & 0o777, 0o755);
        },
      );
      await t.step(
        "agent.max_cost_usd: the run stops once OpenCode's cost reaches the cap",
        async () => {
          // A model that never stops calling tools; each turn costs $0.00011835 at
          // claude-sonnet-4-5's price for the fake's usage.
          await using loopApi = startFakeAnthropicApi({
            toolUse: {
              name: "bash",
              input: { command: "echo paid >> paid.txt", description: "turn" },
            },
            toolCalls: Infinity,
          });
          const pylon = opencodePylon({ max_cost_usd: 0.0002 });
          assert.deepEqual(pylon.agent.unsupported, []);
          const spec = specFor(pylon, "00000000-0000-4000-8000-00000000abd1", "cost-state");
          const cap = spec.Env!.find((e) => e.startsWith("PYLON_MAX_COST_USD="));
          assert.equal(cap, "PYLON_MAX_COST_USD=0.0002");
          const r = await runAgent(docker, image, dirs, {
            ...env,
            OPENCODE_CONFIG_CONTENT: JSON.stringify({
              provider: { anthropic: { options: { baseURL: `${loopApi.url}/v1` } } },
            }),
            PYLON_MAX_COST_USD: "0.0002",
            PROMPT: "spend",
          });
          // Without the cap this run would never end (the fake always asks for a tool).
          assert.notEqual(r.exitCode, 0, `${r.stdout}\n${r.stderr}`);
          assert.equal(r.result?.status, "failed", JSON.stringify(r.result));
          // $0.0001 after one turn, $0.0002367 after the second: the cap is reached there.
          assert.equal(r.result?.error, "budget of $0.0002 reached after 2 turns");
          assert.ok(Number(r.result?.cost_usd) >= 0.0002, JSON.stringify(r.result));
          const paid = await Deno.readTextFile(join(dirs.workspace, "paid.txt"));
          assert.ok(paid.startsWith("paid\npaid\n"), paid);
        },
      );
      await t.step("an unknown session fails with the CLI's message", async () => {
        const r = await runAgent(docker, image, dirs, {
          ...env,
          PROMPT: "hello",
          SESSION_ID: "ses_doesnotexist",
        });
        assert.notEqual(r.exitCode, 0);
        assert.equal(r.result?.status, "failed");
        assert.match(String(r.result?.error), /Session not found/i);
      });
    } finally {
      // Files the agent wrote belong to uid 1000; a non-root test user may not remove them.
      await Deno.remove(dirs.root, { recursive: true }).catch(() => {});
    }
  },
});
