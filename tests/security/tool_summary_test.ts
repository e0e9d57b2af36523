/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): a secret in a tool call's input never leaves as a fragment
 * (issue 12, item 18). The real Claude Code CLI in the image pylon builds runs a Bash command (the
 * fake Messages API on loopback asks for it, as a prompt-injected model would) whose text holds a
 * secret from the pylon's `.env` across the 200th character, where the agent-side hook used to
 * cut summaries before pylon saw them: the part before the cut matched no redaction rule and was
 * shown. The hook now writes the whole summary (bounded only by a generous cap) and the daemon
 * redacts it before cutting it to its display length, so the tool event appears with
 * `[redacted]` and no six characters of the secret in the event stream, the dashboard, the chat
 * channel's progress (stdout), the webhook channel and the daemon's output.
 *
 * @module
 */

import assert from "node:assert/strict";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { FakeChannel } from "../fakes/channel_fake.ts";
import { createScriptedRunner } from "../fakes/runner_fake.ts";
import { openTestDocker } from "../integration/_docker.ts";
import { finishedJob, postJob, startDockerDaemon } from "../integration/_daemon.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "../integration/images_slow.ts";
import { startAgentProxy } from "../integration/no_mounts_helpers.ts";
import { dashboardPage, replayedEvents } from "./_attacker.ts";

printSlowSkipReason("a secret across the old tool summary cut");

const random = () => crypto.randomUUID().replaceAll("-", "").slice(0, 24);
/** Across the cut the hook used to make (199 characters and an ellipsis). */
const SECRET = `ghp_${random()}`;
/** Across the cut chat progress makes ("Bash: " and the summary, 299 characters and "…"). */
const SECOND = `npm_${random()}`;
const OLD_HOOK_CUT = 199;
const CHAT_CUT = 299;
/** A command whose summary (its text, whitespace collapsed) has each secret across its cut. */
const COMMAND = `true ${"-v ".repeat(53)}-H 'Authorization: token ${SECRET}' ${"-v ".repeat(16)}` +
  `-H 'X-Npm: ${SECOND}' https://example.invalid`;

/** Fails naming where a piece of a secret (six characters or more) was found. */
function assertNoFragment(where: string, text: string): void {
  for (const secret of [SECRET, SECOND]) {
    for (let i = 0; i + 6 <= secret.length; i++) {
      const piece = secret.slice(i, i + 6);
      assert.ok(
        !text.includes(piece),
        `a fragment of a secret (${piece}) is in ${where}:\n${text}`,
      );
    }
  }
}

/** Whether `secret` starts at least six characters before `cut` in `text` and ends after it. */
function straddles(text: string, secret: string, cut: number): boolean {
  const at = text.indexOf(secret);
  return at >= 0 && at + 6 <= cut && at + secret.length > cut;
}

Deno.test({
  name: "a secret across the old 200-character tool summary cut leaves no fragment anywhere",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(straddles(COMMAND, SECRET, OLD_HOOK_CUT), "a secret straddles the hook's old cut");
    assert.ok(straddles(`Bash: ${COMMAND}`, SECOND, CHAT_CUT), "a secret straddles chat's cut");
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    await using api = startFakeAnthropicApi({
      toolUse: { name: "Bash", input: { command: COMMAND, description: "call the API" } },
    });
    const hooks: string[] = [];
    await using receiver = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      async (req) => {
        hooks.push(await req.text());
        return new Response("ok");
      },
    );
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-sec-summary-" });
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\n`,
      "pylons/tool/.env": [
        "ANTHROPIC_API_KEY=sk-ant-api03-fake",
        `GH_TOKEN=${SECRET}`,
        `NPM_TOKEN=${SECOND}`,
      ].join("\n") + "\n",
      "pylons/tool/pylon.yaml": [
        "name: tool",
        "trigger:",
        "  type: webhook",
        "  path: /tool",
        "channel:",
        "  type: [stdout, webhook]",
        "  webhook:",
        `    url: http://127.0.0.1:${receiver.addr.port}/hook`,
        "agent:",
        "  type: claude",
        `  image: ${JSON.stringify(image)}`,
        "  auth: api_key",
        "  network: host",
        '  prompt: "call the API"',
        "  env:",
        `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
        '    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"',
        '    GITHUB_TOKEN: "${GH_TOKEN}"',
        '    NPM_TOKEN: "${NPM_TOKEN}"',
      ].join("\n") + "\n",
    });
    const output: string[] = [];
    const d = await startDockerDaemon(root, { proxy, output });
    try {
      const id = await postJob(d, "/tool");
      const job = await finishedJob(d, id, 240_000);
      const log = await Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
      assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
      // The hook wrote the whole command: the secret is whole in the agent's own file, where the
      // daemon's redactor can recognise it.
      const written = await Deno.readTextFile(`${root}/jobs/${id}/out/events.ndjson`);
      assert.ok(written.includes(SECRET) && written.includes(SECOND), written);
      await eventually(
        () => Promise.resolve(hooks.some((h) => /"event":"job\.completed"/.test(h))),
        10_000,
      );

      const stream = await replayedEvents(d, id);
      assert.match(
        stream,
        /"tool":"Bash","summary":"true -v [^"]*token \[redacted\]' [^"]*X-Npm: \[redacted\]/,
      );
      assertNoFragment("GET /api/events", stream);
      const page = await dashboardPage(d, id);
      assert.match(page, /Authorization: token \[redacted\]&#39; [^<]*X-Npm: \[redacted\]/);
      assertNoFragment("the dashboard's job page", page);
      const posted = d.out.join("\n");
      assert.match(posted, /• Bash: true -v .*token \[redacted\]' .*X-Npm: \[redacted\]/);
      assertNoFragment("the stdout channel", posted);
      assertNoFragment("the webhook channel", hooks.join("\n"));
      assertNoFragment("the daemon's output lines", output.join("\n") + d.logs.join("\n"));
      assertNoFragment("GET /api/jobs/<id>", JSON.stringify(job));
    } finally {
      await d.stop();
      await proxy.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("chat progress redacts a tool event before cutting it to the length shown", async () => {
  // A summary as the built-in hooks now write it (whole): the second secret straddles the cut chat
  // progress makes; cut first and redacted after, its first characters stayed in the message.
  const summary = COMMAND;
  assert.ok(straddles(`Bash: ${summary}`, SECOND, CHAT_CUT));
  const root = await Deno.makeTempDir({ prefix: "pylon-sec-chat-" });
  await writeHome(root, {
    "pylons/chat/.env": `NPM_TOKEN=${SECOND}\nGH_TOKEN=${SECRET}\n`,
    "pylons/chat/pylon.yaml": [
      "name: chat",
      "trigger:",
      "  type: webhook",
      "  path: /chat",
      "channel:",
      "  type: telegram",
      "  telegram:",
      "    bot_token: t",
      "agent:",
      "  prompt: work",
      "  env:",
      '    NPM_TOKEN: "${NPM_TOKEN}"',
      '    GITHUB_TOKEN: "${GH_TOKEN}"',
    ].join("\n") + "\n",
  });
  const channel = new FakeChannel();
  const runner = createScriptedRunner();
  runner.hold();
  const d = await startTestDaemon(root, { runner, channelFactories: { telegram: () => channel } });
  try {
    const res = await fetch(`${d.url}/chat`, { method: "POST", body: "{}" });
    const { job_id: id } = await res.json();
    const started = await eventually(() =>
      Promise.resolve(channel.messages.find((m) => m.text.startsWith("⚙️")))
    );
    // The agent's tool event, as the hook appends it while the job runs.
    await Deno.mkdir(`${d.paths.jobsDir}/${id}/out`, { recursive: true });
    await Deno.writeTextFile(
      `${d.paths.jobsDir}/${id}/out/events.ndjson`,
      JSON.stringify({ tool: "Bash", summary }) + "\n",
    );
    // The started message is edited into the progress message (every 3 s).
    await eventually(() => Promise.resolve(started.text.includes("• Bash:")), 15_000);
    assert.match(started.text, /token \[redacted\]' .*X-Npm: \[redacted\]/);
    assertNoFragment("the chat's progress message", started.text);
    runner.release();
  } finally {
    runner.release();
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
