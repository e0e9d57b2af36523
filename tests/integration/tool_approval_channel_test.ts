/**
 * Tool approval without host mounts (issue 18), through the daemon and the real Docker Engine,
 * on the Engine backend (`docker.mounts: none`) and on a single-node Swarm
 * (`docker.backend: swarm`). The job's container gets the hook, its config and Claude Code's
 * managed settings as root's read-only files (the archive API; Swarm secrets), the hook sends its
 * requests over the job's channel, and a person decides through the control API as
 * `pylon allow|deny` does:
 *
 * - the mock entrypoint on the Claude Code image runs the hook the managed settings name for two
 *   Bash calls (allowed, then denied) and checks the agent cannot change those files;
 * - the real Claude Code CLI, against the fake Messages API: allowed, the command runs and the
 *   model gets its output; denied (the next job), the model is told who denied it.
 *
 * Slow tier (`PYLON_SLOW_TESTS=1`), like the other no-mounts tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { eventually, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { FAKE_ANSWER, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { openTestDocker } from "./_docker.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { mockOnClaudeImage, startAgentProxy } from "./no_mounts_helpers.ts";
import { requireSwarm, SWARM_IGNORE } from "./swarm_helpers.ts";

printSlowSkipReason("tool approval without host mounts");

type Backend = "engine" | "swarm";

/** Runs the hook twice (a push, then an rm), checks the files are the daemon's, reports. */
const HOOK_SCRIPT = [
  'hook=$(node -e \'const s=require("/etc/claude-code/managed-settings.json");' +
  "console.log(s.hooks.PreToolUse[0].hooks[0].command)')",
  `A=$(printf '%s' '{"tool_name":"Bash","tool_input":{"command":"git push origin main"}}' | $hook)`,
  `B=$(printf '%s' '{"tool_name":"Bash","tool_input":{"command":"rm -rf build"}}' | $hook)`,
  "W=readonly",
  "{ echo '{}' >> /etc/claude-code/managed-settings.json; } 2>/dev/null && W=settings",
  `{ echo '{"rules":[]}' > /pylon/approval/config.json; } 2>/dev/null && W=config`,
  "mv /pylon/approval /pylon/mine 2>/dev/null && W=moved",
  'O="$(stat -c %u:%a /etc/claude-code/managed-settings.json) $(stat -c %u:%a /pylon/approval/pylon-approve.mjs)"',
  "export A B W O",
  `node -e 'const e=process.env; require("fs").writeFileSync(e.PYLON_OUT+"/result.json",` +
  ` JSON.stringify({status:"completed",result:JSON.stringify({a:e.A,b:e.B,w:e.W,o:e.O})}))'`,
].join("\n");

/** The call the fake Messages API asks the real CLI for: its output proves it ran. */
const CALL = { command: "echo approved-$((6*7))", description: "Say the answer" };

/**
 * Runs `fn` against a daemon of `backend` with the pylon `ask` (a claude agent on `image` with
 * `approve_tools`, plus `agent` lines), reached through a loopback proxy (`server.agent_url`).
 */
async function withDaemon(
  backend: Backend,
  o: { image: string; rules: string; agent: string[]; files?: Record<string, string> },
  fn: (d: TestDaemon, root: string, restart: () => Promise<TestDaemon>) => Promise<void>,
): Promise<void> {
  const proxy = startAgentProxy();
  const root = await Deno.makeTempDir({ prefix: `pylon-approve-${backend}-` });
  await writeHome(root, {
    "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n` +
      (backend === "swarm" ? "  backend: swarm\n" : "  mounts: none\n"),
    ...o.files,
    "pylons/ask/pylon.yaml": [
      "name: ask",
      "trigger:",
      "  type: webhook",
      "  path: /ask",
      "workspace:",
      "  type: none",
      "agent:",
      "  type: claude",
      `  image: ${JSON.stringify(o.image)}`,
      "  auth: api_key",
      "  network: host",
      // The registry test joins a worker (another Engine) for a while: stay on this one.
      ...(backend === "swarm" ? ['  placement: ["node.role==manager"]'] : []),
      `  approve_tools: ${o.rules}`,
      "  approve_timeout: 5m",
      ...o.agent,
    ].join("\n") + "\n",
  });
  let d = await startDockerDaemon(root, { proxy });
  try {
    await fn(d, root, async () => (d = await d.restart()));
  } finally {
    await d.stop();
    await proxy.close();
    await Deno.remove(root, { recursive: true });
  }
}

async function finished(d: TestDaemon, root: string, job: string) {
  const done = await finishedJob(d, job, 120_000);
  const log = await Deno.readTextFile(`${root}/jobs/${job}.log`).catch(() => "");
  assert.equal(done.status, "completed", `${JSON.stringify(done)}\n${log}`);
  return done;
}

interface WaitingCall {
  "call_id": string;
  tool: string;
  input: Record<string, unknown>;
}

/** The job's waiting call of `command`, once it waits (fails when the job ends first). */
async function waitingCall(d: TestDaemon, job: string, command: string): Promise<WaitingCall> {
  return await eventually(async () => {
    const res = await d.api(`/api/jobs/${job}/tool-calls`);
    if (!res.ok) return void await res.body?.cancel();
    const { status } = await (await d.api(`/api/jobs/${job}`)).json();
    if (!["queued", "running"].includes(status)) {
      throw new Error(`the job ended (${status}) before its call waited`);
    }
    return ((await res.json()) as WaitingCall[]).find((c) => c.input.command === command);
  }, 120_000);
}

async function decide(d: TestDaemon, job: string, call: string, action: "allow" | "deny") {
  const res = await d.api(`/api/jobs/${job}/tool-calls/${call}/${action}`, {
    method: "POST",
    headers: { "x-pylon-via": "cli" },
  });
  assert.equal(res.status, 200, await res.clone().text());
  return await res.json();
}

async function hookAsks(t: Deno.TestContext, backend: Backend) {
  using docker = openTestDocker();
  const image = await mockOnClaudeImage(docker);
  const rules = '["Bash(git push:*)", "Bash(rm:*)"]';
  const agent = ["  api_key: sk-ant-fake", `  prompt: ${JSON.stringify(HOOK_SCRIPT)}`];
  await withDaemon(backend, { image, rules, agent }, async (d, root) => {
    const job = await postJob(d, "/ask");
    await t.step("the push waits; allowed through the API", async () => {
      const push = await waitingCall(d, job, "git push origin main");
      assert.equal(push.tool, "Bash");
      assert.deepEqual(await decide(d, job, push.call_id, "allow"), {
        "call_id": push.call_id,
        decision: "allow",
        by: "cli",
        via: "cli",
      });
    });
    await t.step("the rm waits; denied through the API", async () => {
      const rm = await waitingCall(d, job, "rm -rf build");
      assert.equal((await decide(d, job, rm.call_id, "deny")).decision, "deny");
    });
    await t.step("the hook passed the push on, denied the rm, and its files held", async () => {
      const out = JSON.parse((await finished(d, root, job)).result);
      assert.equal(out.a, "", "allowed: nothing printed, Claude Code's own rules decide");
      const denied = JSON.parse(out.b).hookSpecificOutput;
      assert.equal(denied.permissionDecision, "deny");
      assert.equal(denied.permissionDecisionReason, "denied by cli");
      assert.equal(out.w, "readonly");
      // Copied in as root's 0644 files (Engine), or root's 0444 Swarm secrets.
      const mode = backend === "swarm" ? "0:444" : "0:644";
      assert.equal(out.o, `${mode} ${mode}`);
      const calls = await (await d.api(`/api/jobs/${job}/tool-calls?all=1`)).json();
      assert.deepEqual(
        calls.map((c: { decision: string; by: string }) => [c.decision, c.by]),
        [["allow", "cli"], ["deny", "cli"]],
      );
    });
  });
}

/** One hook call, answered after a daemon restart. */
async function survivesRestart(t: Deno.TestContext, backend: Backend) {
  using docker = openTestDocker();
  const image = await mockOnClaudeImage(docker);
  const script = HOOK_SCRIPT.split("\n").filter((l) => !l.startsWith("B=")).join("\n");
  const agent = ["  api_key: sk-ant-fake", `  prompt: ${JSON.stringify(script)}`];
  const rules = '["Bash(git push:*)"]';
  await withDaemon(backend, { image, rules, agent }, async (first, root, restart) => {
    const job = await postJob(first, "/ask");
    const before = await waitingCall(first, job, "git push origin main");
    const d = await restart();
    await t.step(
      "the re-attached job's call still waits; allowed, the hook passes it on",
      async () => {
        const after = await waitingCall(d, job, "git push origin main");
        assert.equal(after.call_id, before.call_id);
        await decide(d, job, after.call_id, "allow");
        const out = JSON.parse((await finished(d, root, job)).result);
        assert.equal(out.a, "", JSON.stringify(out));
      },
    );
  });
}

/** The text of the tool_result the CLI sent back in the fake's requests since `from`. */
function toolResultSince(api: ReturnType<typeof startFakeAnthropicApi>, from: number): string {
  for (const req of api.messageRequests().slice(from).reverse()) {
    const messages = req.body?.messages as { content?: unknown }[] | undefined;
    const content = messages?.at(-1)?.content;
    const result = Array.isArray(content)
      ? content.find((c) => (c as { type?: string }).type === "tool_result")
      : undefined;
    if (result) return JSON.stringify((result as { content?: unknown }).content ?? null);
  }
  return "(no tool_result)";
}

async function claudeAsks(t: Deno.TestContext, backend: Backend) {
  using docker = openTestDocker();
  const image = await buildOnDebian(docker, "claude");
  await using api = startFakeAnthropicApi({ toolUse: { name: "Bash", input: CALL } });
  const agent = [
    '  prompt: "say the answer"',
    "  env:",
    `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
  ];
  const files = { "pylons/ask/.env": "ANTHROPIC_API_KEY=sk-ant-fake-key\n" };
  await withDaemon(backend, { image, rules: '["Bash(echo:*)"]', agent, files }, async (d, root) => {
    const once = async (action: "allow" | "deny") => {
      const before = api.messageRequests().length;
      const job = await postJob(d, "/ask");
      const call = await waitingCall(d, job, CALL.command);
      assert.deepEqual(call.input, CALL);
      await decide(d, job, call.call_id, action);
      assert.equal((await finished(d, root, job)).result, FAKE_ANSWER);
      return toolResultSince(api, before);
    };
    await t.step("allowed through the API, the command runs", async () => {
      assert.match(await once("allow"), /approved-42/);
    });
    await t.step("denied, the model is told who denied it", async () => {
      const result = await once("deny");
      assert.match(result, /denied by cli/, result);
      assert.doesNotMatch(result, /approved-42/, result);
    });
  });
}

for (const backend of ["engine", "swarm"] as const) {
  const mode = backend === "swarm" ? "docker.backend: swarm" : "docker.mounts: none";
  for (
    const [name, fn] of [
      [`tool approval with ${mode}: the hook asks over the channel`, hookAsks],
      [`tool approval with ${mode}: Claude Code asks over the channel`, claudeAsks],
      [`tool approval with ${mode}: a call waits across a daemon restart`, survivesRestart],
    ] as const
  ) {
    Deno.test({
      name,
      ignore: SLOW_IGNORE || (backend === "swarm" && SWARM_IGNORE),
      sanitizeResources: false,
      sanitizeOps: false,
      async fn(t) {
        if (backend === "swarm") requireSwarm();
        await fn(t, backend);
      },
    });
  }
}
