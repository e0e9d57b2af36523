/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): the real OpenCode agent image, built from the embedded
 * Dockerfile on a plain Debian base with the host's extra CA certificates, then run against the
 * fake Messages API on loopback (`--network host`) as the `anthropic` provider: JSON events →
 * events.ndjson, result.json with the answer and session id, a follow-up continuing the session
 * from the kept state folder, an unknown session failing, a pylon's `append_system_prompt`
 * and `args` reaching OpenCode (the system prompt and the model the fake receives), and its
 * `allowed_tools`, `disallowed_tools` and `mcp_servers` (the tool list the fake receives, a denied
 * `git push` not run, the MCP server asked with the `.env` token that no environment holds).
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

Deno.test({
  name: "opencode agent image: builds on plain Debian and answers via the fake API",
  ignore: SLOW_IGNORE,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "opencode");
    const dirs = await makeRunDirs("pylon-opencode-run-");
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
        const pylon = resolvePylon(
          pylonConfigSchema.parse({
            name: "oc",
            trigger: { type: "webhook", path: "/oc" },
            agent: {
              type: "opencode",
              prompt: "p",
              append_system_prompt: "pylon-appended-marker: answer briefly",
              args: ["--model", "anthropic/claude-haiku-4-5"],
            },
          }),
          globalConfigSchema.parse({}),
          { env: {}, systemTimezone: "UTC" },
        );
        assert.deepEqual(pylon.agent.unsupported, []);
        // What the runner does: the settings in the container's environment.
        const spec = buildContainerSpec({
          jobId: "00000000-0000-4000-8000-00000000abce",
          pylon,
          image,
          prompt: "hello",
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
          const spec = buildContainerSpec({
            jobId: "00000000-0000-4000-8000-00000000abcf",
            pylon,
            image,
            prompt: "hello",
            mcpConfigFile: mcpFile,
            sessionId: null,
            workspace: dirs.workspace,
            workspaceReadOnly: false,
            extraMounts: [],
            outDir: dirs.out,
            stateDir: join(dirs.root, "tools-state"),
            volumes: [],
            user: "1000:1000",
            home: "test",
            pidsLimit: 512,
          });
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
