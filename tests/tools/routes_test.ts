import assert from "node:assert/strict";
import { Hono } from "hono";
import { createToolCallRoutes, sourceOf } from "../../src/daemon/routes/tool_calls.ts";
import { approvalHome, denyReason, runHook, tickUntil } from "./_helpers.ts";

Deno.test("GET /jobs/<id>/tool-calls lists waiting calls; allow, deny, 404 and 409 answer as documented", async () => {
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const routes = createToolCallRoutes({ stores: home.stores, approvals: service });
  const push = runHook(home.folders, "Bash", { command: "git push origin main" });
  const rm = runHook(home.folders, "Bash", { command: "rm -rf dist" });
  await tickUntil(service, () => service.pending().length === 2, "both calls to wait");

  const listed = await routes.request(`/jobs/${home.job.id.slice(0, 8)}/tool-calls`);
  assert.equal(listed.status, 200);
  const calls = await listed.json() as Record<string, unknown>[];
  assert.equal(calls.length, 2);
  for (const c of calls) {
    assert.deepEqual(Object.keys(c).sort(), [
      "call_id",
      "digest",
      "expires_at",
      "input",
      "requested_at",
      "rule",
      "summary",
      "tool",
    ]);
  }
  const pushId = String(calls.find((c) => c.rule === "Bash(git push:*)")!.call_id);
  const rmId = String(calls.find((c) => c.rule === "Bash(rm:*)")!.call_id);

  assert.equal((await routes.request("/jobs/no-such-job/tool-calls")).status, 404);
  const unknownCall = await routes.request(`/jobs/${home.job.id}/tool-calls/zzz/allow`, {
    method: "POST",
  });
  assert.equal(unknownCall.status, 404);

  const allowed = await routes.request(`/jobs/${home.job.id}/tool-calls/${pushId}/allow`, {
    method: "POST",
    body: JSON.stringify({ "for_job": true }),
  });
  assert.equal(allowed.status, 200);
  assert.deepEqual(await allowed.json(), {
    "call_id": pushId,
    decision: "allow_for_job",
    by: "api",
    via: "api",
  });
  const denied = await routes.request(`/jobs/${home.job.id}/tool-calls/${rmId}/deny`, {
    method: "POST",
  });
  assert.equal(denied.status, 200);
  assert.equal((await denied.json()).decision, "deny");
  assert.equal(denyReason((await push.output).stdout), null);
  assert.equal(denyReason((await rm.output).stdout), "denied by api");

  const again = await routes.request(`/jobs/${home.job.id}/tool-calls/${rmId}/allow`, {
    method: "POST",
  });
  assert.equal(again.status, 409);
  const body = await again.json();
  assert.equal(body.decision, "deny");
  assert.equal(body.by, "api");
  assert.match(body.error, /decided already/);

  // Decided calls leave the default list; `?all=1` keeps them, with who decided from where.
  assert.deepEqual(await (await routes.request(`/jobs/${home.job.id}/tool-calls`)).json(), []);
  const all = await (await routes.request(`/jobs/${home.job.id}/tool-calls?all=1`)).json();
  assert.deepEqual(
    all.map((c: Record<string, unknown>) => [c.rule, c.decision, c.by, c.via]).sort(),
    [["Bash(git push:*)", "allow_for_job", "api", "api"], ["Bash(rm:*)", "deny", "api", "api"]],
  );
});

Deno.test("only a cookie-authenticated request may say it comes from the dashboard", async () => {
  assert.deepEqual(sourceOf("dashboard", "cookie"), { by: "dashboard", via: "dashboard" });
  assert.deepEqual(sourceOf("dashboard", "bearer"), { by: "api", via: "api" });
  assert.deepEqual(sourceOf("dashboard", undefined), { by: "api", via: "api" });
  assert.deepEqual(sourceOf("cli", "bearer"), { by: "cli", via: "cli" });
  assert.deepEqual(sourceOf(undefined, "bearer"), { by: "api", via: "api" });

  // Through the app: the variable the auth middleware sets.
  await using home = await approvalHome();
  const service = home.service();
  service.watch(home.job, home.folders);
  const hook = runHook(home.folders, "Bash", { command: "git push" });
  await tickUntil(service, () => service.pending().length === 1, "the call to wait");
  const app = new Hono<{ Variables: { authVia: string } }>();
  app.use(async (c, next) => {
    c.set("authVia", "cookie");
    await next();
  });
  app.route("/", createToolCallRoutes({ stores: home.stores, approvals: service }));
  const res = await app.request(
    `/jobs/${home.job.id}/tool-calls/${service.pending()[0]!.callId}/deny`,
    { method: "POST", headers: { "x-pylon-via": "dashboard" } },
  );
  assert.deepEqual((await res.json()).via, "dashboard");
  await hook.output;
});
