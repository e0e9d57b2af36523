import assert from "node:assert/strict";
import { join } from "node:path";
import { decisionText } from "../../src/notify/tool_messages.ts";
import { jobToJson } from "../../src/store/mod.ts";
import { sha256Hex } from "../../src/tools/request_file.ts";
import { approvalHome, denyReason, runHook, tickUntil } from "./_helpers.ts";

const PUSH = { command: "git push origin main", description: "push" };

Deno.test("a matching call waits; Allow lets the hook pass it on, and who allowed is recorded", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const hook = runHook(home.folders, "Bash", PUSH);
  await tickUntil(service, () => service.pending().length === 1, "the call to wait");
  const [call] = service.pending(home.job.id);
  assert.equal(call!.tool, "Bash");
  assert.equal(call!.rule, "Bash(git push:*)");
  assert.deepEqual(call!.input, PUSH);
  assert.equal(call!.digest, sha256Hex(JSON.stringify(PUSH)));
  assert.match(call!.summary, /git push origin main/);
  assert.equal(call!.expiresAt.getTime() - call!.requestedAt.getTime(), 60_000);
  assert.equal(home.requested.length, 1, "the listener (chat) is told once");
  // The job stays running and says what it waits for (pylon jobs, the API).
  const job = await home.stores.get("alpha")!.get(home.job.id);
  assert.equal(job!.status, "running");
  assert.equal(jobToJson(job!).waiting, "tool approval");
  assert.equal(jobToJson(job!).tool_calls_waiting, 1);

  const answer = await service.decide(home.job.id, call!.callId, "allow", {
    by: "cli",
    via: "cli",
  });
  assert.equal(answer.ok, true);
  const out = await hook.output;
  assert.equal(out.code, 0, out.stderr);
  assert.equal(denyReason(out.stdout), null, "allowed: passed on to Claude Code's own rules");
  const [row] = await home.stores.get("alpha")!.toolCalls(home.job.id);
  assert.equal(row!.decision, "allow");
  assert.equal(row!.decidedBy, "cli");
  assert.equal(row!.decidedVia, "cli");
  assert.equal(jobToJson((await home.stores.get("alpha")!.get(home.job.id))!).waiting, null);
  assert.equal(home.decided.length, 1);
  // The event stream got the job when the call started and when it stopped waiting.
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(home.changed.map((j) => jobToJson(j).tool_calls_waiting), [1, 0]);

  const again = await service.decide(home.job.id, call!.callId, "deny", { by: "api", via: "api" });
  assert.equal(again.ok, false);
  assert.equal(!again.ok && again.code, "already_decided");
});

Deno.test("Deny: the agent is told who denied it", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const hook = runHook(home.folders, "Bash", { command: "rm -rf /workspace" });
  await tickUntil(service, () => service.pending().length === 1, "the call to wait");
  const call = service.pending()[0]!;
  assert.equal(call.rule, "Bash(rm:*)");
  await service.decide(home.job.id, call.callId, "deny", { by: "@ada", via: "telegram" });
  assert.equal(denyReason((await hook.output).stdout), "denied by @ada");
});

Deno.test("a call that matches no rule does not wait", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const out = await runHook(home.folders, "Bash", { command: "git status" }).output;
  assert.equal(denyReason(out.stdout), null);
  await service.tick();
  assert.equal(service.pending().length, 0);
  assert.equal(
    (await Deno.readDir(home.folders.requests)[Symbol.asyncIterator]().next()).done,
    true,
  );
});

Deno.test("a request file the agent rewrote cannot get the held input allowed", async () => {
  await using home = await approvalHome();
  const service = home.service();
  const hook = runHook(home.folders, "Bash", PUSH);
  // The agent rewrites the hook's request (same call id) before the daemon reads it: it shows a
  // harmless-looking push, with a digest that is right for what it shows.
  let name = "";
  const until = Date.now() + 10_000;
  while (!name && Date.now() < until) {
    for await (const e of Deno.readDir(home.folders.requests)) {
      if (e.name.endsWith(".json")) name = e.name;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const shown = JSON.stringify({ command: "git push --dry-run" });
  await Deno.writeTextFile(
    join(home.folders.requests, name),
    JSON.stringify({
      "call_id": name.replace(".json", ""),
      tool: "Bash",
      "input_json": shown,
      digest: sha256Hex(shown),
      rule: "Bash(git push:*)",
    }),
  );
  service.watch(home.job, home.folders);
  await tickUntil(service, () => service.pending().length === 1, "the call to wait");
  const call = service.pending()[0]!;
  assert.deepEqual(call.input, { command: "git push --dry-run" }, "the daemon shows what it read");
  await service.decide(home.job.id, call.callId, "allow", { by: "@ada", via: "slack" });
  // The decision names the digest of what was shown, not of what the hook holds: denied.
  assert.match(denyReason((await hook.output).stdout) ?? "", /another call; denied/);
});

Deno.test("no answer in time means deny, and the agent is told why", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const hook = runHook(home.folders, "Bash", PUSH);
  await tickUntil(service, () => service.pending().length === 1, "the call to wait");
  home.clock.advance(59_000);
  await service.tick();
  assert.equal(service.pending().length, 1, "not before its time");
  home.clock.advance(1_000);
  await service.tick();
  assert.equal(service.pending().length, 0);
  assert.equal(denyReason((await hook.output).stdout), "no answer within 1m");
  const [row] = await home.stores.get("alpha")!.toolCalls(home.job.id);
  assert.equal(row!.decidedVia, "timeout");
  assert.equal(home.decided.at(-1)?.source.via, "timeout");
  assert.match(decisionText(home.decided.at(-1)!), /Timed out.*no one answered in time/);
});

Deno.test("after a restart, a waiting call is found again and its timeout counts from its request", async () => {
  await using home = await approvalHome();
  const first = home.service();
  first.watch(home.job, home.folders);
  const hook = runHook(home.folders, "Bash", PUSH);
  await tickUntil(first, () => first.pending().length === 1, "the call to wait");
  const before = first.pending()[0]!;
  first.close(); // the daemon stops; the container (and the hook) go on waiting
  home.clock.advance(40_000);

  const second = home.service();
  second.watch(home.job, home.folders);
  await second.tick();
  const after = second.pending()[0];
  assert.equal(after?.callId, before.callId);
  assert.equal(after?.requestedAt.getTime(), before.requestedAt.getTime());
  home.clock.advance(20_000);
  await second.tick();
  assert.equal(second.pending().length, 0, "1m after the request, not after the restart");
  assert.equal(denyReason((await hook.output).stdout), "no answer within 1m");
});

Deno.test("Allow for this job allows later calls of the same rule only, also after a restart", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const first = runHook(home.folders, "Bash", PUSH);
  await tickUntil(service, () => service.pending().length === 1, "the call to wait");
  await service.decide(home.job.id, service.pending()[0]!.callId, "allow_for_job", {
    by: "@ada",
    via: "telegram",
  });
  assert.equal(denyReason((await first.output).stdout), null);
  service.close();

  const next = home.service();
  next.watch(home.job, home.folders);
  const second = runHook(home.folders, "Bash", { command: "git push origin feature" });
  const rm = runHook(home.folders, "Bash", { command: "rm -rf build" });
  // Both requests read (the hooks start in either order): the push allowed under the grant, the
  // rm waiting. Waiting for the rm alone let the push's file be read only by the 60 s interval.
  await tickUntil(
    next,
    () => next.pending().length === 1 && home.decided.length === 2,
    "the push to be allowed and the rm call to wait",
  );
  assert.equal(denyReason((await second.output).stdout), null, "same rule: allowed without asking");
  assert.equal(next.pending()[0]!.rule, "Bash(rm:*)", "another rule still asks");
  const rows = await home.stores.get("alpha")!.toolCalls(home.job.id);
  const granted = rows.find((r) => r.input.includes("feature"))!;
  assert.equal(granted.decision, "allow");
  assert.equal(granted.decidedBy, "@ada");
  assert.match(granted.reason ?? "", /allowed for this job by @ada \(rule Bash\(git push:\*\)\)/);
  await next.decide(home.job.id, next.pending()[0]!.callId, "deny", { by: "cli", via: "cli" });
  await rm.output;
});

Deno.test("when the job ends, its waiting calls are closed", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const hook = runHook(home.folders, "Bash", PUSH);
  await tickUntil(service, () => service.pending().length === 1, "the call to wait");
  service.unwatch(home.job.id);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(service.pending().length, 0);
  const [row] = await home.stores.get("alpha")!.toolCalls(home.job.id);
  assert.equal(row!.decision, "deny");
  assert.equal(row!.reason, "the job ended");
  // The chat message says so, not that nobody answered in time (the job's deadline, a kill).
  const closed = home.decided.at(-1)!;
  assert.equal(closed.reason, "the job ended");
  assert.match(decisionText(closed), /the job ended before anyone answered/);
  assert.doesNotMatch(decisionText(closed), /Timed out/);
  await hook.output;
});

Deno.test("an agent that floods requests gets at most 20 waiting calls; the rest are denied", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  for (let i = 0; i < 25; i++) {
    const input = JSON.stringify({ command: `git push origin b${i}` });
    await Deno.writeTextFile(
      join(home.folders.requests, `flood${i}.json`),
      JSON.stringify({
        "call_id": `flood${i}`,
        tool: "Bash",
        "input_json": input,
        digest: sha256Hex(input),
      }),
    );
  }
  await tickUntil(service, () => home.decided.length >= 5, "the extra calls to be denied");
  assert.equal(service.pending().length, 20);
  assert.equal(home.requested.length, 20);
  assert.match(home.decided[0]!.request.summary, /git push origin b/);
  const rows = await home.stores.get("alpha")!.toolCalls(home.job.id);
  assert.equal(rows.filter((r) => r.reason?.includes("calls wait already")).length, 5);
});
