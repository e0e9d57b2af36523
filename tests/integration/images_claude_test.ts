/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): the real Claude Code agent image, built from the embedded
 * Dockerfile on a plain Debian base (so it installs Debian's nodejs/npm) with the host's extra CA
 * certificates, then run against the fake Messages API on loopback (`--network host`): a tool
 * call (PostToolUse hook → events.ndjson), result.json with the fake's answer and a session id,
 * a follow-up that resumes the session from the kept state folder, a failed resume, a prompt over
 * 128 KiB read from `PROMPT_FILE`, and OAuth credentials copied from the read-only credential
 * files.
 *
 * The agent image is cached by its digest tag like in production, so a rerun without changes to
 * `agents/claude` skips the build.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FAKE_ANSWER, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
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
    } finally {
      // Files the agent wrote belong to uid 1000; a non-root test user may not remove them.
      await Deno.remove(dirs.root, { recursive: true }).catch(() => {});
    }
  },
});
