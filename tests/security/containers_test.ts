/**
 * What pylon hands an agent's container, probed by an agent that looks around (issue 12): a
 * prompt larger than one environment string still arrives (item 10), a Claude agent with OAuth
 * sees the credential files and nothing else of the host's `~/.claude` (item 14), and an agent
 * that allocates past its memory limit is reported as killed for memory.
 */

import assert from "node:assert/strict";
import { type DockerClient } from "../../src/docker/mod.ts";
import { PROMPT_ENV_MAX_BYTES } from "../../src/runner/container_spec.ts";
import { ensureAgentImage } from "../../src/runner/images.ts";
import { writeHome } from "../_helpers/daemon.ts";
import { dockerTest, ensureTestImage } from "../integration/_docker.ts";
import {
  finished,
  jobOf,
  removeJobContainers,
  startAttackedDaemon,
  writeAttackerHome,
} from "./_attacker.ts";

/** pylon.yaml lines of an agent running `script`, with a given type and prompt. */
function agentYaml(name: string, image: string, opts: {
  script: string;
  prompt: string;
  type?: string;
  extra?: string[];
}): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "agent:",
    `  type: ${opts.type ?? "custom"}`,
    `  image: ${JSON.stringify(image)}`,
    '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
    `  prompt: ${JSON.stringify(opts.prompt)}`,
    "  env:",
    `    SCRIPT: ${JSON.stringify(opts.script)}`,
    ...(opts.extra ?? []),
  ].join("\n") + "\n";
}

async function postJson(url: string, body: unknown): Promise<string> {
  const res = await fetch(url, { method: "POST", body: JSON.stringify(body) });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()).job_id;
}

async function homeWith(docker: DockerClient, files: Record<string, string>): Promise<string> {
  await ensureTestImage(docker);
  const root = await Deno.makeTempDir({ prefix: "pylon-sec-" });
  await writeHome(root, files);
  return root;
}

/** Reports what it got: PROMPT's length and PROMPT_FILE's size and digest. */
const PROMPT_PROBE = 'f=$(wc -c < "$PROMPT_FILE"); s=$(sha256sum < "$PROMPT_FILE" | cut -c1-16); ' +
  'e=$(printf %s "$PROMPT" | wc -c); ' +
  'ro=$( (echo x >> "$PROMPT_FILE") 2>/dev/null && echo writable || echo read-only); ' +
  'printf \'{"status":"completed","result":"file=%s sha=%s env=%s %s"}\' ' +
  '"$f" "$s" "$e" "$ro" > "$PYLON_OUT/result.json"';

async function sha16(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, 16);
}

dockerTest(
  "a prompt over 128 KiB reaches the agent as PROMPT_FILE; a small one also as PROMPT",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const mock = await ensureAgentImage({ type: "mock", docker, baseImage: image });
    const root = await homeWith(docker, {
      "pylons/big/pylon.yaml": agentYaml("big", image, {
        script: PROMPT_PROBE,
        prompt: "{{ .body.text }}",
      }),
      // The mock agent's own entrypoint: it runs its prompt, read from PROMPT_FILE when large.
      "pylons/mock/pylon.yaml": [
        "name: mock",
        "trigger:",
        "  type: webhook",
        "  path: /mock",
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(mock)}`,
        "  prompt: |",
        "    : '{{ .body.text }}'",
        '    printf \'{"status":"completed","result":"ran %s"}\' "$(wc -c < "$PROMPT_FILE")" \\',
        '      > "$PYLON_OUT/result.json"',
      ].join("\n") + "\n",
    });
    const d = await startAttackedDaemon(root);
    const ids: string[] = [];
    try {
      const big = "x".repeat(200 * 1024);
      const small = "check the build ✓";
      // The longest prompt that still fits in PROMPT, in two-byte characters.
      const edge = "é".repeat(PROMPT_ENV_MAX_BYTES / 2);
      const bigId = await postJson(`${d.url}/big`, { text: big });
      const smallId = await postJson(`${d.url}/big`, { text: small });
      const edgeId = await postJson(`${d.url}/big`, { text: edge });
      const mockId = await postJson(`${d.url}/mock`, { text: big });
      ids.push(bigId, smallId, edgeId, mockId);
      const bigJob = await finished(d, bigId, 30_000);
      assert.equal(bigJob.status, "completed", String(bigJob.error));
      assert.equal(bigJob.result, `file=${big.length} sha=${await sha16(big)} env=0 read-only`);
      const smallJob = await finished(d, smallId, 30_000);
      const bytes = new TextEncoder().encode(small).length;
      assert.equal(
        smallJob.result,
        `file=${bytes} sha=${await sha16(small)} env=${bytes} read-only`,
      );
      const edgeJob = await finished(d, edgeId, 30_000);
      assert.equal(edgeJob.status, "completed", String(edgeJob.error));
      assert.equal(
        edgeJob.result,
        `file=${PROMPT_ENV_MAX_BYTES} sha=${await sha16(
          edge,
        )} env=${PROMPT_ENV_MAX_BYTES} read-only`,
      );
      const mockJob = await finished(d, mockId, 30_000);
      assert.equal(mockJob.status, "completed", String(mockJob.error));
      assert.match(String(mockJob.result), /^ran 2049\d\d$/);
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "a Claude agent with OAuth sees only the credential files, read-only, not other projects",
  async (docker) => {
    // The mock agent image runs its prompt as a shell script: what an agent persuaded to look
    // for other projects' transcripts would do.
    const image = await ensureAgentImage({
      type: "mock",
      docker,
      baseImage: await ensureTestImage(docker),
    });
    // (The word is split: the prompt itself is in /pylon/prompt.)
    const script = 'w=OTHER-PROJECT; hits=$(grep -rl "$w-TRANSCRIPT" /pylon /workspace /home ' +
      "/tmp 2>/dev/null | wc -l); " +
      "list=$(ls -A /pylon/oauth | tr '\\n' ' '); " +
      "c=$(cat /pylon/oauth/.credentials.json); j=$(cat /pylon/oauth.json); " +
      "ro=$( (echo x >> /pylon/oauth/.credentials.json) 2>/dev/null && echo writable || " +
      "echo read-only); " +
      'printf \'{"status":"completed","result":"hits=%s list=%s creds=%s json=%s %s"}\' ' +
      '"$hits" "$list" "$c" "$j" "$ro" > "$PYLON_OUT/result.json"';
    const root = await homeWith(docker, {
      "pylons/snoop/pylon.yaml": [
        "name: snoop",
        "trigger:",
        "  type: webhook",
        "  path: /snoop",
        "agent:",
        "  type: claude",
        "  auth: oauth",
        // The login as mounted without the model gateway (with it, the default even for a
        // daemon on loopback, the session stays with the daemon: containment_e2e_test.ts).
        "  gateway: false",
        `  image: ${JSON.stringify(image)}`,
        `  prompt: ${JSON.stringify(script)}`,
      ].join("\n") + "\n",
      // The host's Claude Code login (HOME is the test home), and another project's transcript
      // and the prompt history, which the agent must not see.
      ".claude/.credentials.json": "CREDS-OK",
      ".claude/projects/-home-me-other/session.jsonl": "OTHER-PROJECT-TRANSCRIPT\n",
      ".claude/history.jsonl": "OTHER-PROJECT-TRANSCRIPT\n",
      ".claude.json": "JSON-OK",
    });
    const d = await startAttackedDaemon(root);
    const ids: string[] = [];
    try {
      const id = await postJson(`${d.url}/snoop`, {});
      ids.push(id);
      const job = await finished(d, id, 30_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      assert.equal(
        job.result,
        "hits=0 list=.credentials.json  creds=CREDS-OK json=JSON-OK read-only",
      );
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "an agent that allocates past its memory limit is reported as out of memory",
  async (docker) => {
    const root = await writeAttackerHome(docker, {
      // dd reads /dev/zero into one 256 MiB buffer: every page is touched.
      hog: {
        script: "exec dd if=/dev/zero of=/dev/null bs=256M count=1",
        extra: ["  memory: 32m"],
      },
      fits: {
        script: "dd if=/dev/zero of=/dev/null bs=4M count=1 2>/dev/null; echo fine",
        extra: ["  memory: 32m"],
      },
    });
    const d = await startAttackedDaemon(root);
    const ids: string[] = [];
    try {
      const hog = await postJson(`${d.url}/hog`, {});
      const fits = await postJson(`${d.url}/fits`, {});
      ids.push(hog, fits);
      const hogJob = await finished(d, hog, 30_000);
      assert.equal(hogJob.status, "failed", JSON.stringify(hogJob));
      assert.equal(hogJob.exit_code, 137);
      assert.equal(hogJob.error, "killed: out of memory (limit 32m)");
      const fitsJob = await jobOf(d, fits).then(() => finished(d, fits, 30_000));
      assert.equal(fitsJob.status, "completed", JSON.stringify(fitsJob));
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);
