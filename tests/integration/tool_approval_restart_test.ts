/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): tool approval through the real daemon (`pylon start`) and CLI,
 * with the real Claude Code CLI in the image pylon builds and the fake Messages API asking for
 * `git push origin main`. The call waits (the API, `pylon jobs` and `/metrics` say so), the daemon
 * is killed (`kill -9`) in the middle of the wait and started again, the call is found again with
 * its request time, and `pylon allow <job>` lets the push run.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { writeHome } from "../_helpers/daemon.ts";
import { startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { openTestDocker } from "./_docker.ts";
import { delay, freePort, runCli, startDaemon, stopDaemon } from "./_daemon_process.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";

printSlowSkipReason("Claude Code tool approval (daemon restart)");

async function git(dir: string, ...args: string[]): Promise<boolean> {
  const out = await new Deno.Command("git", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  return out.success;
}

/** Polls `fn` until it returns something truthy (at most `ms`). */
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await delay(200);
  }
}

Deno.test({
  name:
    "tool approval survives a daemon restart in the middle of a wait; pylon allow runs the push",
  ignore: SLOW_IGNORE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    const root = await Deno.makeTempDir({ prefix: "pylon-approval-home-" });
    const workspace = await Deno.makeTempDir({ prefix: "pylon-approval-ws-" });
    await git(workspace, "init", "-q", "-b", "main");
    await git(workspace, "init", "-q", "--bare", "origin.git");
    await Deno.writeTextFile(join(workspace, "README"), "hello\n");
    await git(workspace, "add", "README");
    await git(workspace, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "one");
    await git(workspace, "remote", "add", "origin", "/workspace/origin.git");
    await new Deno.Command("chmod", { args: ["-R", "a+rwX", workspace] }).output();
    await using api = startFakeAnthropicApi({
      toolUse: { name: "Bash", input: { command: "git push origin main", description: "push" } },
    });
    const port = freePort();
    await writeHome(root, {
      "config.yaml": `server:\n  host: 127.0.0.1\n  port: ${port}\n`,
      "pylons/gate/pylon.yaml": [
        "name: gate",
        "trigger:",
        "  type: webhook",
        "  path: /gate",
        "workspace:",
        "  type: local",
        `  path: ${JSON.stringify(workspace)}`,
        "agent:",
        "  type: claude",
        `  image: ${JSON.stringify(image)}`,
        "  auth: api_key",
        "  api_key: sk-ant-fake-key",
        "  network: host",
        "  env:",
        `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
        '    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"',
        "  prompt: push the fix",
        '  approve_tools: ["Bash(git push:*)"]',
        "  approve_timeout: 10m",
        "",
      ].join("\n"),
    });
    const env = { PYLON_HOME: root, HOME: root };
    const base = `http://127.0.0.1:${port}`;
    let daemon = await startDaemon(env);
    try {
      const token = (await Deno.readTextFile(join(root, "daemon.token"))).trim();
      const call = (path: string, init: RequestInit = {}) =>
        fetch(base + path, { ...init, headers: { authorization: `Bearer ${token}` } });
      const triggered = await (await call("/api/pylons/gate/trigger", { method: "POST" })).json();
      const jobId = String(triggered.job_id ?? triggered.id);
      const [waiting] = await until("the push to wait", async () => {
        const calls = await (await call(`/api/jobs/${jobId}/tool-calls`)).json();
        return Array.isArray(calls) && calls.length === 1 ? calls : undefined;
      }, 120_000);
      assert.equal(waiting.tool, "Bash");
      assert.equal(waiting.rule, "Bash(git push:*)");
      const job = await (await call(`/api/jobs/${jobId}`)).json();
      assert.equal(job.status, "running");
      assert.equal(job.waiting, "tool approval");
      assert.equal(job.tool_calls_waiting, 1);
      const metrics = await (await fetch(`${base}/metrics`, {
        headers: { authorization: `Bearer ${token}` },
      })).text();
      assert.match(metrics, /pylon_tool_calls_waiting\{pylon="gate"\} 1/);
      const listed = await runCli(["jobs"], env);
      assert.match(listed.stdout, /running \(waiting: tool approval\)/, listed.stdout);

      await stopDaemon(daemon, "SIGKILL");
      assert.equal(
        await git(workspace, "--git-dir", "origin.git", "rev-parse", "-q", "--verify", "main"),
        false,
      );
      daemon = await startDaemon(env);
      const [again] = await until("the call to be found again", async () => {
        const calls = await (await call(`/api/jobs/${jobId}/tool-calls`)).json();
        return Array.isArray(calls) && calls.length === 1 ? calls : undefined;
      }, 30_000);
      assert.equal(again.call_id, waiting.call_id);
      assert.equal(again.requested_at, waiting.requested_at, "the timeout still counts from then");

      const allowed = await runCli(["allow", jobId.slice(0, 8)], env);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, /Allowed: call /);
      const done = await until("the job to finish", async () => {
        const j = await (await call(`/api/jobs/${jobId}`)).json();
        return j.status !== "running" ? j : undefined;
      }, 120_000);
      assert.equal(done.status, "completed", JSON.stringify(done));
      assert.equal(done.waiting, null);
      assert.equal(
        await git(workspace, "--git-dir", "origin.git", "rev-parse", "-q", "--verify", "main"),
        true,
        "the push ran",
      );
    } finally {
      await stopDaemon(daemon, "SIGTERM");
      await Deno.remove(root, { recursive: true }).catch(() => {});
      await Deno.remove(workspace, { recursive: true }).catch(() => {});
    }
  },
});
