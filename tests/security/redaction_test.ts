/**
 * Secrets do not leave the daemon (issue 12, item 18). An agent prints every secret it was given
 * (the API key, `agent.env` values taken from the global `.env` and written literally, and the
 * pylon `.env` value a `${VAR}` put into its prompt) to stdout, stderr, a tool event, its result
 * and its error. None of them may appear in what pylon shows or posts: the API's JSON, `pylon
 * jobs --json`, the job's log file, the daemon's output lines, the stdout channel (thread title,
 * progress, result) and the webhook channel's events. A value shorter than six characters is
 * left alone.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import type { CommandContext } from "../../src/cli/command.ts";
import { runCli } from "../../src/cli/main.ts";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { dockerTest, ensureTestImage } from "../integration/_docker.ts";
import {
  dashboardPage,
  finished,
  removeJobContainers,
  replayedEvents,
  startAttackedDaemon,
} from "./_attacker.ts";

const SECRETS = {
  /** Global `.env`, given to the agent as `GITHUB_TOKEN: ${GH_TOKEN}`. */
  global: "ghp_globalSecret0001",
  /** The pylon's `.env`, rendered into the prompt and the thread title through `${MM_TOKEN}`. */
  pylon: "mmPylonSecret0002",
  /** `agent.api_key`. */
  apiKey: "sk-ant-apikeySecret0003",
  /** A literal `agent.env` value. */
  literal: "literalEnvSecret0004",
};
const SHORT = "abc12";

/** Prints everything it knows everywhere it can; fails with it when the prompt says FAIL. */
const SCRIPT = [
  'all="$GITHUB_TOKEN $LITERAL $ANTHROPIC_API_KEY $SHORT $PROMPT"',
  'echo "stdout: $all"',
  'echo "stderr: $all" >&2',
  // Split over two writes: the log stream must still catch it.
  'printf "half: %s" "$(echo "$LITERAL" | cut -c1-8)"; sleep 0.3; ' +
  'echo "$LITERAL" | cut -c9-',
  'printf \'{"tool":"Bash","summary":"curl -H %s"}\\n\' "$GITHUB_TOKEN" >> "$PYLON_OUT/events.ndjson"',
  'if echo "$PROMPT" | grep -q FAIL; then',
  '  printf \'{"status":"failed","error":"cannot push with %s"}\' "$all" > "$PYLON_OUT/result.json"',
  "  exit 3",
  "fi",
  "sleep 4", // the progress message (tool events) is posted every 3 s
  'printf \'{"status":"completed","result":"%s"}\' "$all" > "$PYLON_OUT/result.json"',
].join("\n");

function pylonYaml(image: string, hookUrl: string): string {
  return [
    "name: leak",
    "trigger:",
    "  type: webhook",
    "  path: /leak",
    "channel:",
    "  type: [stdout, webhook]",
    '  topic: "leak {{ .body.n }} ${MM_TOKEN}"',
    "  webhook:",
    `    url: ${hookUrl}`,
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
    "  auth: api_key",
    `  api_key: ${SECRETS.apiKey}`,
    '  prompt: "Post with ${MM_TOKEN}. {{ .body.n }}"',
    "  env:",
    '    GITHUB_TOKEN: "${GH_TOKEN}"',
    `    LITERAL: ${SECRETS.literal}`,
    `    SHORT: ${SHORT}`,
    `    SCRIPT: ${JSON.stringify(SCRIPT)}`,
  ].join("\n") + "\n";
}

/** Fails naming where a secret was found. */
function assertClean(where: string, text: string): void {
  for (const [name, value] of Object.entries(SECRETS)) {
    assert.ok(!text.includes(value), `the ${name} secret leaked into ${where}:\n${text}`);
  }
}

function cliContext(root: string): CommandContext & { stdout(): string } {
  let out = "";
  return {
    paths: createPylonPaths(root),
    env: { HOME: root, PYLON_HOME: root, TZ: "UTC" },
    io: {
      out: (t) => void (out += t),
      err: () => {},
      readLine: () => Promise.resolve(null),
      isTty: false,
    },
    clock: { now: () => new Date() },
    spawnInteractive: () => Promise.resolve(0),
    stdout: () => out,
  };
}

dockerTest(
  "secrets an agent prints reach no API answer, log, output line or channel post",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const hooks: string[] = [];
    await using receiver = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen() {} },
      async (req) => {
        hooks.push(await req.text());
        return new Response("ok");
      },
    );
    const root = await Deno.makeTempDir({ prefix: "pylon-sec-" });
    await writeHome(root, {
      ".env": `GH_TOKEN=${SECRETS.global}\n`,
      "pylons/leak/.env": `MM_TOKEN=${SECRETS.pylon}\n`,
      "pylons/leak/pylon.yaml": pylonYaml(image, `http://127.0.0.1:${receiver.addr.port}/hook`),
    });
    const agentLines: string[] = [];
    const d = await startAttackedDaemon(root, agentLines);
    const ids: string[] = [];
    try {
      const post = async (n: string) => {
        const res = await fetch(`${d.url}/leak`, {
          method: "POST",
          body: JSON.stringify({ n }),
        });
        assert.equal(res.status, 202, await res.clone().text());
        return (await res.json()).job_id as string;
      };
      const ok = await post("OK");
      const bad = await post("FAIL");
      ids.push(ok, bad);
      const okJob = await finished(d, ok, 30_000);
      const badJob = await finished(d, bad, 30_000);
      assert.equal(okJob.status, "completed", JSON.stringify(okJob));
      assert.equal(badJob.status, "failed", JSON.stringify(badJob));
      // Both jobs' final posts have gone out.
      await eventually(() =>
        Promise.resolve(
          hooks.filter((h) => /"event":"job\.(completed|failed)"/.test(h)).length === 2,
        ), 10_000);

      const redactedAll = `[redacted] [redacted] [redacted] ${SHORT} Post with [redacted]. `;
      assert.equal(okJob.result, `${redactedAll}OK`);
      assert.equal(badJob.error, `cannot push with ${redactedAll}FAIL`);
      // What the job store keeps (the prompt as rendered, the result) is redacted too.
      for await (const entry of Deno.readDir(`${root}/data/leak`)) {
        const bytes = await Deno.readFile(`${root}/data/leak/${entry.name}`);
        assertClean(`data/leak/${entry.name}`, new TextDecoder("latin1").decode(bytes));
      }

      assertClean("GET /api/jobs/<id>", JSON.stringify(okJob) + JSON.stringify(badJob));
      assertClean("GET /api/jobs", await (await d.api("/api/jobs")).text());
      const ctx = cliContext(root);
      assert.equal(await runCli(["jobs", "--json"], ctx), 0);
      assert.match(ctx.stdout(), /\[redacted\]/);
      assertClean("pylon jobs --json", ctx.stdout());
      for (const id of ids) {
        const log = await Deno.readTextFile(`${root}/jobs/${id}.log`);
        assert.match(log, /stdout: \[redacted\]/);
        assert.match(log, /half: \[redacted\]/);
        assertClean(`jobs/${id}.log`, log);
      }
      assert.ok(agentLines.some((l) => l.includes("stderr: [redacted]")), agentLines.join("\n"));
      assertClean("the daemon's output lines", agentLines.join("\n"));
      const posted = d.out.join("\n");
      assert.match(posted, /• Bash: curl -H \[redacted\]/);
      assert.match(posted, /leak OK \[redacted\]/);
      assertClean("the stdout channel", posted);
      assertClean("the webhook channel", hooks.join("\n"));
      assert.ok(posted.includes(SHORT), "a short value is left alone");
      // The event stream and the dashboard show the agent's tool events (and its log) too.
      for (const id of ids) {
        const stream = await replayedEvents(d, id);
        assert.match(stream, /stdout: \[redacted\]/);
        assertClean("GET /api/events", stream);
      }
      const streamed = await replayedEvents(d, ok);
      assert.match(streamed, /curl -H \[redacted\]/);
      const page = await dashboardPage(d, ok);
      assert.match(page, /curl -H \[redacted\]/);
      assertClean("the dashboard's job page", page);
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);
