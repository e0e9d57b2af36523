/**
 * The real approval hook (`node pylon-approve.mjs`) in channel mode (no host mounts), against the
 * agent channel's routes served on loopback HTTP and the real tool-approval service: allowed and
 * denied calls, a wrong token, and a daemon restart while the hook waits.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { issueJobToken } from "../../src/agent_channel/mod.ts";
import { createAgentChannelRoutes } from "../../src/daemon/routes/agent_channel.ts";
import { createLogger } from "../../src/log/mod.ts";
import { writeApprovalFiles } from "../../src/runner/mod.ts";
import { approvalHome, denyReason, runHook, tickUntil } from "./_helpers.ts";

type Home = Awaited<ReturnType<typeof approvalHome>>;

/** Serves the channel of `home` on `port` (0: any), as the daemon mounts it. */
function serveChannel(home: Home, port = 0) {
  const stopping = new AbortController();
  const app = new Hono().route(
    "/agent/v1",
    createAgentChannelRoutes({
      jobsDir: home.jobsDir,
      clock: { now: () => new Date() },
      log: createLogger({ level: "error", write: () => {} }),
      stopping: stopping.signal,
    }),
  );
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, app.fetch);
  return {
    port: server.addr.port,
    /** As the daemon stops: long polls answer, then the listener closes. */
    async stop() {
      stopping.abort();
      await server.shutdown();
    },
  };
}

/** The hook for one call, as Claude Code runs it in a channel-mode container. */
function runChannelHook(home: Home, token: string, input: Record<string, unknown>) {
  return runHook(home.folders, "Bash", input, { PYLON_AGENT_TOKEN: token }).output;
}

async function channelHome() {
  const home = await approvalHome(["Bash(git push:*)", "Bash(rm:*)"], { timeout: "1m" });
  const token = await issueJobToken(home.jobsDir, home.job.id, {
    expiresAt: Date.now() + 3600_000,
    stateJob: home.job.id,
  });
  return { home, token };
}

Deno.test("approval hook over the channel: allowed runs, denied is told who denied it", async () => {
  const { home, token } = await channelHome();
  await using _home = home;
  const server = serveChannel(home);
  const port = server.port;
  try {
    await writeApprovalFiles(home.jobsDir, home.job.id, home.pylon, {
      channel: { url: `http://127.0.0.1:${port}/`, job: home.job.id },
    });
    const service = home.service();
    service.watch(home.job, home.folders);

    const push = runChannelHook(home, token, { command: "git push origin main" });
    await tickUntil(service, () => service.pending().length === 1, "the push to wait");
    const [call] = service.pending();
    assert.deepEqual(call?.input, { command: "git push origin main" });
    await service.decide(home.job.id, call!.callId, "allow", { by: "cli", via: "cli" });
    const allowed = await push;
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(denyReason(allowed.stdout), null, "passed on to Claude Code");

    const rm = runChannelHook(home, token, { command: "rm -rf /workspace" });
    await tickUntil(service, () => service.pending().length === 1, "the rm to wait");
    await service.decide(home.job.id, service.pending()[0]!.callId, "deny", {
      by: "@ada",
      via: "telegram",
    });
    assert.equal(denyReason((await rm).stdout), "denied by @ada");

    // A call no rule holds is not sent at all.
    const ls = await runChannelHook(home, token, { command: "ls" });
    assert.equal(denyReason(ls.stdout), null);
    assert.equal((await home.stores.get("alpha")!.toolCalls(home.job.id)).length, 2);

    // A token the agent swapped is refused: the call is denied, not passed on.
    const forged = await runChannelHook(home, "x".repeat(43), { command: "git push" });
    assert.match(denyReason(forged.stdout) ?? "", /HTTP 401/);
  } finally {
    await server.stop();
  }
});

Deno.test("approval hook over the channel: a daemon restart while it waits", async () => {
  const { home, token } = await channelHome();
  await using _home = home;
  let server = serveChannel(home);
  const port = server.port;
  try {
    await writeApprovalFiles(home.jobsDir, home.job.id, home.pylon, {
      channel: { url: `http://127.0.0.1:${port}`, job: home.job.id },
    });
    const first = home.service();
    first.watch(home.job, home.folders);
    const push = runChannelHook(home, token, { command: "git push --force" });
    await tickUntil(first, () => first.pending().length === 1, "the push to wait");
    // The daemon goes away (its long poll is cut) and comes back on the same port.
    first.close();
    const stopped = performance.now();
    await server.stop();
    assert.ok(performance.now() - stopped < 2000, "an open long poll does not hold the drain");
    await new Promise((r) => setTimeout(r, 1500));
    server = serveChannel(home, port);
    const second = home.service();
    second.watch(home.job, home.folders);
    await tickUntil(second, () => second.pending().length === 1, "the call found again");
    await second.decide(home.job.id, second.pending()[0]!.callId, "deny", {
      by: "@bob",
      via: "slack",
    });
    const out = await push;
    assert.equal(denyReason(out.stdout), "denied by @bob", out.stderr);
  } finally {
    await server.stop();
  }
});
