/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): the real OpenCode agent image, built from the embedded
 * Dockerfile on a plain Debian base with the host's extra CA certificates, then run against the
 * fake Messages API on loopback (`--network host`) as the `anthropic` provider: JSON events →
 * events.ndjson, result.json with the answer and session id, a follow-up continuing the session
 * from the kept state folder, an unknown session failing, and a pylon's `append_system_prompt`
 * and `args` reaching OpenCode (the system prompt and the model the fake receives).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { buildContainerSpec } from "../../src/runner/container_spec.ts";
import { FAKE_ANSWER, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
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
