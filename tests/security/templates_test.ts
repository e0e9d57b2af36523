/**
 * Attacks through templates and trigger settings, made the way the probe of issue 12 made them
 * (items 5, 8, 13, 17 and 20), against a real daemon on loopback: a `when` that fails and would
 * echo a resolved secret, payloads that make a prompt or a key render hundreds of megabytes,
 * a regular expression chosen by the sender, an empty webhook secret, a path with a slash at
 * its end.
 */

import assert from "node:assert/strict";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { dockerTest, ensureTestImage } from "../integration/_docker.ts";
import { finished, removeJobContainers, startAttackedDaemon } from "./_attacker.ts";

const TOKEN = "mm-token-9f8e7d6c5b4a";

function webhookYaml(name: string, trigger: string[], extra: string[] = []): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    ...trigger.map((l) => `  ${l}`),
    "agent:",
    "  prompt: hi",
    ...extra,
  ].join("\n") + "\n";
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const started = performance.now();
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body), headers });
  return { status: res.status, text: await res.text(), ms: performance.now() - started };
}

/** A 403 KB body whose 1,000 items each print the whole body: 400 MB unbounded. */
const BLOWUP = { items: Array(1000).fill(0), pad: "x".repeat(400_000) };
const BLOWUP_TEMPLATE = "'{{ range .body.items }}{{ $.body }}{{ end }}'";

Deno.test("trigger templates and settings resist hostile senders", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "pylon-tmpl-" });
  await writeHome(root, {
    "pylons/mm/pylon.yaml": webhookYaml("mm", [
      "path: /mm",
      `when: '{{ eq .body.token "\${MM_TOKEN}" }}'`,
    ]),
    "pylons/mm/.env": `MM_TOKEN=${TOKEN}\n`,
    "pylons/re/pylon.yaml": webhookYaml("re", [
      "path: /re",
      "when: '{{ regexMatch .body.re .body.s }}'",
    ]),
    "pylons/bigwhen/pylon.yaml": webhookYaml("bigwhen", [
      "path: /bigwhen",
      `when: ${BLOWUP_TEMPLATE}`,
    ]),
    "pylons/bigkey/pylon.yaml": webhookYaml("bigkey", [
      "path: /bigkey",
      `dedupe: ${BLOWUP_TEMPLATE}`,
    ]),
    "pylons/bigsup/pylon.yaml": webhookYaml("bigsup", [
      "path: /bigsup",
      `supersede: ${BLOWUP_TEMPLATE}`,
    ]),
    "pylons/unsigned/pylon.yaml": webhookYaml("unsigned", [
      "path: /unsigned",
      'secret: "${UNSET_SECRET:-}"',
      "signature_header: X-Hub-Signature-256",
    ]),
    "pylons/slash/pylon.yaml": webhookYaml("slash", ["path: /slash/"]),
  });
  const d = await startTestDaemon(root);
  try {
    await t.step(
      "5: a `when` that fails answers generically; the log has it, redacted",
      async () => {
        // A map where the template compares with a string: eq fails, quoting its node.
        const res = await post(`${d.url}/mm`, { token: { a: 1 } });
        assert.equal(res.status, 422);
        assert.equal(
          JSON.parse(res.text).error,
          "trigger.when cannot be evaluated for this event; the daemon log has the reason",
        );
        assert.doesNotMatch(res.text, new RegExp(TOKEN));
        const line = await d.waitForLog(/event=webhook\.rejected pylon=mm status=422/);
        assert.match(line, /\[redacted\]/);
        assert.doesNotMatch(line, new RegExp(TOKEN));
        assert.ok(!d.logs.some((l) => l.includes(TOKEN)), "the token is in the daemon log");
        assert.equal((await post(`${d.url}/mm`, { token: TOKEN })).status, 202);
      },
    );
    await t.step("20: a sender's regular expression cannot hold the request path", async () => {
      for (const s of ["a".repeat(28) + "!", "a".repeat(200_000) + "!"]) {
        const res = await post(`${d.url}/re`, { re: "^(a+)+$", s });
        assert.equal(res.status, 200, res.text);
        assert.ok(res.ms < 2000, `answered after ${res.ms} ms`);
      }
      const bad = await post(`${d.url}/re`, { re: "(a)\\1", s: "aa" });
      assert.equal(bad.status, 422);
    });
    await t.step("8: a `when` or key that would render 400 MB is refused at once", async () => {
      for (const name of ["bigwhen", "bigkey", "bigsup"]) {
        const res = await post(`${d.url}/${name}`, BLOWUP);
        assert.equal(res.status, 422, `${name}: ${res.text}`);
        assert.match(JSON.parse(res.text).error, /^trigger\.(when|dedupe|supersede) cannot be/);
        assert.ok(res.ms < 3000, `${name} answered after ${res.ms} ms`);
      }
      assert.ok(
        d.logs.some((l) => /pylon=bigkey .*rendering stopped: the output is longer/.test(l)),
      );
      const jobs = await (await d.api("/api/jobs?pylon=bigkey")).json();
      assert.equal(jobs.length, 0);
    });
    await t.step(
      "13: an empty secret with a signature header does not serve unsigned",
      async () => {
        const res = await post(`${d.url}/unsigned`, { a: 1 });
        assert.equal(res.status, 503, res.text);
        assert.ok(
          d.logs.some((l) =>
            /pylon=unsigned .*trigger\.secret: is empty, so no signature would be checked/.test(l)
          ),
        );
      },
    );
    await t.step("17: `path: /slash/` serves /slash and /slash/", async () => {
      for (const path of ["/slash", "/slash/"]) {
        const res = await post(`${d.url}${path}`, {});
        assert.equal(res.status, 202, `${path}: ${res.text}`);
      }
    });
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("17: a path that cannot be reached is refused at load", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-tmpl-" });
  await writeHome(root, {
    "pylons/dots/pylon.yaml": webhookYaml("dots", ["path: /dots/../x"]),
  });
  const d = await startTestDaemon(root);
  try {
    const line = await d.waitForLog(/event=pylon\.invalid pylon=dots/);
    assert.match(line, /trigger\.path: \\"\/dots\/\.\.\/x\\" cannot be reached/);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

dockerTest(
  "8: a prompt that would render 400 MB fails its job, naming the field and cap",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const root = await Deno.makeTempDir({ prefix: "pylon-tmpl-" });
    await writeHome(root, {
      "pylons/big/pylon.yaml": [
        "name: big",
        "trigger:",
        "  type: webhook",
        "  path: /big",
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        '  command: ["sh", "-c", "echo should-not-run"]',
        `  prompt: ${BLOWUP_TEMPLATE}`,
      ].join("\n") + "\n",
    });
    const d = await startAttackedDaemon(root);
    let id = "";
    try {
      const res = await post(`${d.url}/big`, BLOWUP);
      assert.equal(res.status, 202, res.text);
      id = JSON.parse(res.text).job_id;
      const job = await finished(d, id, 20_000);
      assert.equal(job.status, "failed", JSON.stringify(job).slice(0, 500));
      assert.match(
        String(job.error),
        /agent\.prompt.*rendering stopped: the output is longer than the cap of agent\.prompt, 2097152 characters/,
      );
      const db = await Deno.stat(`${root}/data/big/jobs.db`);
      const wal = await Deno.stat(`${root}/data/big/jobs.db-wal`).catch(() => ({ size: 0 }));
      assert.ok(
        db.size + wal.size < 20 * 1024 * 1024,
        `jobs.db grew to ${db.size + wal.size} bytes`,
      );
    } finally {
      await d.stop();
      if (id) await removeJobContainers(docker, [id]);
      await Deno.remove(root, { recursive: true });
    }
  },
);
