/**
 * `trigger.when` filters events before they become jobs (GitHub pull_request actions and an
 * issue_comment mention), with the Sprig helpers templates gained for it.
 */

import assert from "node:assert/strict";
import { evaluateWhen, truthy } from "../../src/daemon/when.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const PR_WHEN = '{{ and (eq (index .headers "x-github-event") "pull_request") ' +
  '(or (eq .body.action "opened") (eq .body.action "synchronize")) (not .body.pull_request.draft) }}';

Deno.test("truthy() follows the documented rule", () => {
  for (const t of ["true", "yes", " 1 ", "x"]) assert.equal(truthy(t), true, t);
  for (const t of ["", " ", "false", "FALSE", "0", "<no value>"]) assert.equal(truthy(t), false, t);
});

Deno.test("evaluateWhen() filters GitHub events and mentions with Sprig helpers", () => {
  const pr = (action: string, draft = false) =>
    evaluateWhen(PR_WHEN, {
      body: { action, pull_request: { draft } },
      headers: { "x-github-event": "pull_request" },
    }).run;
  assert.equal(pr("opened"), true);
  assert.equal(pr("synchronize"), true);
  assert.equal(pr("labeled"), false);
  assert.equal(pr("opened", true), false);
  const mention = '{{ and (eq (index .headers "x-github-event") "issue_comment") ' +
    '(.body.comment.body | lower | contains "@pylon") }}';
  const comment = (text: string) =>
    evaluateWhen(mention, {
      body: { comment: { body: text } },
      headers: { "x-github-event": "issue_comment" },
    }).run;
  assert.equal(comment("Hey @Pylon, look at this"), true);
  assert.equal(comment("just a comment"), false);
  const bad = evaluateWhen("{{ index .body.list 3 }}", { body: { list: [1] }, headers: {} });
  assert.ok(!bad.run && "error" in bad && /index out of range/.test(bad.error));
});

Deno.test("the daemon answers 200 ignored for filtered events and 422 when `when` fails", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-when-" });
  await writeHome(root, {
    "pylons/pr/pylon.yaml":
      `name: pr\ntrigger:\n  type: webhook\n  path: /pr\n  when: ${JSON.stringify(PR_WHEN)}\n` +
      "agent:\n  prompt: review\n",
    "pylons/odd/pylon.yaml":
      'name: odd\ntrigger:\n  type: webhook\n  path: /odd\n  when: "{{ index .body.list 3 }}"\n' +
      "agent:\n  prompt: p\n",
  });
  const d = await startTestDaemon(root);
  try {
    const send = (action: string, draft = false) =>
      fetch(`${d.url}/pr`, {
        method: "POST",
        headers: { "x-github-event": "pull_request" },
        body: JSON.stringify({ action, pull_request: { draft } }),
      });
    const opened = await send("opened");
    assert.equal(opened.status, 202);
    await opened.body?.cancel();
    for (
      const [action, draft] of [["labeled", false], ["closed", false], ["opened", true]] as const
    ) {
      const res = await send(action, draft);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        status: "ignored",
        reason: "trigger.when is false for this event",
      });
    }
    const jobs = await (await d.api("/api/jobs?pylon=pr")).json();
    assert.equal(jobs.length, 1, "only the opened PR became a job");
    const odd = await fetch(`${d.url}/odd`, { method: "POST", body: '{"list":[1]}' });
    assert.equal(odd.status, 422);
    // Generic: the error quotes the template, whose ${VAR}s are resolved; the log has it.
    assert.equal(
      (await odd.json()).error,
      "trigger.when cannot be evaluated for this event; the daemon log has the reason",
    );
    assert.ok(d.logs.some((l) => /status=422 .*index out of range/.test(l)));
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
