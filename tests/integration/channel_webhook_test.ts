/**
 * The webhook and stdout channels end to end: a real job in Docker, its events POSTed (signed)
 * to a receiver on loopback, and a receiver outage that does not block or lose the job.
 */

import assert from "node:assert/strict";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { dockerTest, ensureTestImage } from "./_docker.ts";
import { dockerRunnerFor } from "./_agent.ts";

async function hmac(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return "sha256=" + [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

dockerTest(
  "the webhook channel POSTs signed job events, and an outage only delays them",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const events: { event: string; job: { status: string; result: string | null } }[] = [];
    let down = true;
    const signatures: boolean[] = [];
    await using receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        const body = await req.text();
        if (down) return new Response("maintenance", { status: 503 });
        signatures.push(req.headers.get("x-pylon-signature") === await hmac("hush", body));
        events.push(JSON.parse(body));
        return new Response(null, { status: 204 });
      },
    );
    const root = await Deno.makeTempDir({ prefix: "pylon-chan-" });
    await writeHome(root, {
      "pylons/hook/pylon.yaml": [
        "name: hook",
        "trigger:",
        "  type: webhook",
        "  path: /hook",
        "channel:",
        "  type: webhook",
        "  webhook:",
        `    url: http://127.0.0.1:${receiver.addr.port}/events`,
        '    secret: "hush"',
        '  message: "Issue {{ .body.issue }}"',
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        '  command: ["sh", "-c", "eval \\"$PROMPT\\""]',
        `  prompt: ${
          JSON.stringify(
            'echo \'{"status":"completed","result":"done {{ .body.issue }}"}\' > "$PYLON_OUT/result.json"',
          )
        }`,
      ].join("\n") + "\n",
    });
    const d = await startTestDaemon(root, {
      createRunner: dockerRunnerFor(root),
      notifyRetryMs: [100, 200, 300],
    });
    try {
      const res = await fetch(`${d.url}/hook`, {
        method: "POST",
        body: JSON.stringify({ issue: 42 }),
      });
      const { job_id } = await res.json();
      // The receiver is down: the job still runs to completion.
      await eventually(async () =>
        (await (await d.api(`/api/jobs/${job_id}`)).json()).status === "completed"
      );
      await d.waitForLog(/event=channel\.post_failed/);
      down = false;
      await eventually(
        () => Promise.resolve(events.some((e) => e.event === "job.completed")),
        10_000,
      );
      const completed = events.find((e) => e.event === "job.completed")!;
      assert.equal(completed.job.result, "done 42");
      assert.ok(signatures.every(Boolean), "every event carries a valid X-Pylon-Signature");
    } finally {
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "a job whose agent never started is reported failed, never started (stdout and job.started)",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const events: { event: string; pylon: string }[] = [];
    await using receiver = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        events.push(JSON.parse(await req.text()));
        return new Response(null, { status: 204 });
      },
    );
    const pylon = (name: string, agentImage: string) =>
      [
        `name: ${name}`,
        "trigger:",
        "  type: webhook",
        `  path: /${name}`,
        "channel:",
        "  type: [stdout, webhook]",
        "  webhook:",
        `    url: http://127.0.0.1:${receiver.addr.port}/events`,
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(agentImage)}`,
        '  command: ["sh", "-c", "eval \\"$PROMPT\\""]',
        `  prompt: ${
          JSON.stringify('echo \'{"status":"completed","result":"ok"}\' > "$PYLON_OUT/result.json"')
        }`,
      ].join("\n") + "\n";
    const root = await Deno.makeTempDir({ prefix: "pylon-chan-" });
    await writeHome(root, {
      // No such image: the container cannot be created, so no agent ever runs.
      "pylons/absent/pylon.yaml": pylon("absent", "pylon-test/no-such-image:never"),
      "pylons/present/pylon.yaml": pylon("present", image),
    });
    const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
    try {
      const ids: Record<string, string> = {};
      for (const name of ["absent", "present"]) {
        const res = await fetch(`${d.url}/${name}`, { method: "POST", body: "{}" });
        assert.equal(res.status, 202);
        ids[name] = (await res.json()).job_id;
      }
      const linesOf = (name: string) => {
        const prefix = `[${name} ${ids[name]!.slice(0, 8)}] `;
        return d.out.join("").split("\n").filter((l) => l.startsWith(prefix))
          .map((l) => l.slice(prefix.length));
      };
      const eventsOf = (name: string) => events.filter((e) => e.pylon === name).map((e) => e.event);
      await eventually(() =>
        Promise.resolve(
          linesOf("absent").some((l) => l.startsWith("❌ Failed")) &&
            linesOf("present").some((l) => l.startsWith("✅ Completed")) &&
            eventsOf("absent").includes("job.failed") &&
            eventsOf("present").includes("job.completed"),
        ), 60_000);
      const absent = linesOf("absent");
      assert.equal(absent.length, 2, absent.join("\n"));
      assert.equal(absent[0], "▶ New webhook job");
      assert.match(absent[1]!, /^❌ Failed in \d+s: .*no-such-image/);
      assert.deepEqual(eventsOf("absent"), ["job.queued", "job.failed"]);
      // The same daemon says "started" once an agent's container did start.
      const present = linesOf("present");
      assert.equal(present[0], "▶ New webhook job");
      assert.equal(present[1], "⚙ Agent started.");
      assert.match(present[2]!, /^✅ Completed/, present.join("\n"));
      assert.deepEqual(eventsOf("present"), ["job.queued", "job.started", "job.completed"]);
    } finally {
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
);
