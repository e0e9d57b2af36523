/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): issue 19 judged end to end, the model API gateway and the
 * egress allowlist together. The real Claude Code CLI in the image pylon builds, a real daemon and
 * Docker runner, the fake Messages API on loopback as the upstream (`agent.env.ANTHROPIC_BASE_URL`,
 * which stays with the daemon), and a pylon with an `agent.egress` list, so the job runs on the
 * internal job network whose only exits are the daemon's gateway and its egress proxy:
 *
 * - the job completes; the fake received the real key, the agent never did: a Bash step the fake
 *   asks for greps every file of the container, every process's `environ` and `env` for it, and
 *   the tool result the fake receives next says nothing was found;
 * - in the same step, `git ls-remote` (libcurl, honouring `https_proxy` as curl does; the image
 *   has no curl) to a host not on the list fails, and the refusal is in `pylon logs <job>`; a
 *   direct connection around the proxy fails; a request through the proxy to a host on the list
 *   works;
 * - the job's cost is exactly the fake's usage at the model's price;
 * - a budget exhausted mid-run stops the agent with the reason.
 *
 * The daemon listens as a user's does when containers must reach it (beyond loopback), here on
 * the job network's gateway address only, with no `server.agent_url`: the default URL the job
 * gets is the one under test. The allowed host is this machine's own name (resolved by the
 * proxy with the system resolver, `/etc/hosts`), listed in `agent.egress_private` since it is a
 * loopback address; a fake HTTP server answers there.
 *
 * @module
 */

import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { engineJobNetworks } from "../../src/egress/mod.ts";
import { LABELS } from "../../src/runner/mod.ts";
import { writeHome } from "../_helpers/daemon.ts";
import { freePort, runPylon } from "../_helpers/process.ts";
import { FAKE_ANSWER, FAKE_USAGE, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { openTestDocker, removeHomeContainers } from "./_docker.ts";
import { assertCostIsFakeUsage, keyHuntLines, lastToolResult } from "./_agent.ts";
import { finishedJob, jobOf, postJob, startDockerDaemon } from "./_daemon.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";

printSlowSkipReason("containment end to end (gateway + egress) with Claude Code");

/** The real key, in two halves: the agent's command joins them, so no transcript holds it whole. */
const KEY_A = "sk-ant-api03-REALKEY";
const KEY_B = `-${crypto.randomUUID().replaceAll("-", "")}`;
const REAL_KEY = KEY_A + KEY_B;
const ALLOWED_BODY = "allowed-host-answered";

/**
 * The proxied request to the allowed host, in node (the CLI's own runtime): a plain-HTTP
 * request in absolute form to the proxy `http_proxy` names, with its credential.
 */
const ALLOWED_JS = `
const http = require("http");
const p = new URL(process.env.http_proxy);
const auth = Buffer.from(decodeURIComponent(p.username) + ":" + decodeURIComponent(p.password));
const target = new URL(process.argv[2]);
const q = http.request({
  host: p.hostname, port: p.port, path: target.href,
  headers: { host: target.host, "proxy-authorization": "Basic " + auth.toString("base64") },
}, (res) => {
  let body = "";
  res.on("data", (d) => body += d);
  res.on("end", () => console.log("allowed: " + res.statusCode + " " + body.trim()));
});
q.on("error", (e) => console.log("allowed: error " + e.code));
q.setTimeout(8000, () => q.destroy(new Error("timeout")));
q.end();
`;

/** The step the fake asks for: looks for the key everywhere, then tries the network. */
function huntScript(allowedUrl: string): string {
  return [
    ...keyHuntLines(KEY_A, KEY_B),
    'echo "no-proxy: $NO_PROXY"',
    // A host not on the list, the way an agent's tools reach it: through https_proxy.
    "git ls-remote https://evil.example/x.git >/dev/null 2>/tmp/denied; echo \"denied: $? $(tr '\\n' ' ' </tmp/denied)\"",
    // Around the proxy: no route out of the job network.
    'node -e \'const s=require("net").connect(443,"1.1.1.1");s.setTimeout(4000);' +
    's.on("connect",()=>{console.log("direct: connected");s.destroy()});' +
    's.on("error",(e)=>console.log("direct: error "+e.code));' +
    's.on("timeout",()=>{console.log("direct: timeout");s.destroy()})\'',
    `echo ${btoa(ALLOWED_JS)} | base64 -d > /tmp/allowed.js; node /tmp/allowed.js ${allowedUrl}`,
  ].join("; ");
}

/** The daemon's event stream (`pylon logs -f`): each log line with when it arrived here. */
function watchLogLines(url: string, token: string): {
  lines: { line: string; at: number }[];
  close(): void;
} {
  const lines: { line: string; at: number }[] = [];
  const abort = new AbortController();
  (async () => {
    const res = await fetch(`${url}/api/events?kinds=log`, {
      headers: { authorization: `Bearer ${token}` },
      signal: abort.signal,
    });
    let buffer = "";
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const data = buffer.slice(0, end).split("\n").find((l) => l.startsWith("data: "));
        buffer = buffer.slice(end + 2);
        if (data) lines.push({ line: JSON.parse(data.slice(6)).line ?? "", at: Date.now() });
      }
    }
  })().catch(() => {});
  return { lines, close: () => abort.abort() };
}

/** This machine's name when the system resolver maps it to a loopback address, else null. */
async function loopbackHostname(): Promise<string | null> {
  const name = Deno.hostname().toLowerCase();
  const found = await lookup(name, { all: true }).catch(() => []);
  return found.some((a) => a.address.startsWith("127.")) ? name : null;
}

Deno.test({
  name: "containment: Claude Code behind the gateway and the egress list, judged end to end",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    const allowedName = await loopbackHostname();
    assert.ok(allowedName, `${Deno.hostname()} must resolve to 127.x (/etc/hosts) for this test`);
    await using allowed = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(`${ALLOWED_BODY}\n`),
    );
    const allowedPort = allowed.addr.port;
    const allowedUrl = `http://${allowedName}:${allowedPort}/`;
    await using api = startFakeAnthropicApi({
      toolUse: {
        name: "Bash",
        input: { command: huntScript(allowedUrl), description: "look around", timeout: 300_000 },
      },
    });
    // The daemon listens where jobs on the egress network reach it: that network's gateway.
    const networks = engineJobNetworks(docker);
    assert.ok(networks, "the Docker client has no network calls");
    const { gateway } = await networks.ensureInternal("pylon-egress", { [LABELS.managed]: "1" });
    const port = freePort();
    const root = await Deno.makeTempDir({ prefix: "pylon-containment-" });
    await writeHome(root, {
      "pylons/fenced/.env": `ANTHROPIC_API_KEY=${REAL_KEY}\n`,
      "pylons/fenced/pylon.yaml": [
        "name: fenced",
        "trigger:",
        "  type: webhook",
        "  path: /fenced",
        "budget:",
        "  daily_usd: 0.05",
        "  timezone: UTC",
        "agent:",
        "  type: claude",
        `  image: ${JSON.stringify(image)}`,
        "  auth: api_key",
        "  model: claude-sonnet-4-5",
        '  prompt: "look around"',
        `  egress: [api.github.com, "${allowedName}:${allowedPort}"]`,
        `  egress_private: [${allowedName}]`,
        "  env:",
        `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
        '    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1"',
      ].join("\n") + "\n",
    });
    const d = await startDockerDaemon(root, { host: gateway, port });
    const live = watchLogLines(d.url, d.token);
    try {
      let first = "";
      let found = "";
      await t.step(
        "the job completes; the agent finds no key in env, environ or files",
        async () => {
          first = await postJob(d, "/fenced");
          const job = await finishedJob(d, first, 240_000);
          const log = await Deno.readTextFile(`${root}/jobs/${first}.log`).catch(() => "");
          assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
          assert.equal(job.result, FAKE_ANSWER);
          found = lastToolResult(api);
          assert.match(found, /files: 0\b/, found);
          assert.match(found, /environ: 0\b/, found);
          assert.match(found, /env: 0\b/, found);
          // The default URL: the daemon at the job network's gateway, not proxied.
          assert.match(
            found,
            new RegExp(`base: http://host.docker.internal:${port}/agent/v1/jobs/${first}/model`),
            found,
          );
          assert.match(found, /no-proxy: [^"]*host\.docker\.internal/, found);
          assert.match(found, /key-length: 4\d\b/, found); // the job token, not the key
          assert.ok(api.messageRequests().length >= 2);
          for (const q of api.messageRequests()) {
            assert.equal(q.headers.get("x-api-key"), REAL_KEY);
            assert.equal(q.headers.get("authorization"), null);
          }
          assert.ok(!log.includes(REAL_KEY), "the key is in the job's log");
          assert.ok(!d.logs.join("\n").includes(REAL_KEY), "the key is in the daemon's log");
          await assert.rejects(Deno.stat(`${root}/jobs/${first}/channel/access.json`));
        },
      );

      await t.step("a host not on the list is refused and shown by `pylon logs`", async () => {
        assert.match(found, /denied: [1-9]\d* [^"]*403/, found);
        assert.match(found, /direct: (error|timeout)/, found);
        const shown = await runPylon(["logs", first], { PYLON_HOME: root, HOME: root });
        assert.equal(shown.code, 0, shown.stderr);
        assert.match(
          shown.stdout,
          /egress refused: evil\.example:443 \(not on the job's agent\.egress list\)/,
          shown.stdout,
        );
        // Live: the daemon's stream (`pylon logs -f`) had it before the job ended.
        const job = await jobOf(d, first);
        const seen = live.lines.find((l) => l.line.includes("egress refused: evil.example:443"));
        assert.ok(seen, live.lines.map((l) => l.line).join("\n"));
        assert.ok(seen.at < Date.parse(job.finished_at), `${seen.at} vs ${job.finished_at}`);
      });

      await t.step("a host on the list answers through the proxy", () => {
        assert.match(found, new RegExp(`allowed: 200 ${ALLOWED_BODY}`), found);
      });

      await t.step("the job's tokens and cost are exactly the fake's usage", async () => {
        const job = await jobOf(d, first);
        assertCostIsFakeUsage(job, api);
      });

      await t.step("a budget exhausted mid-run stops the agent with the reason", async () => {
        // Each answer now costs $0.06 at Sonnet's $3/M input: the first crosses the $0.05.
        api.setUsage({ ...FAKE_USAGE, "input_tokens": 20_000 });
        const before = api.messageRequests().length;
        const id = await postJob(d, "/fenced");
        const job = await finishedJob(d, id, 240_000);
        const log = await Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
        assert.notEqual(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
        assert.match(job.error ?? "", /daily budget of \$0\.05 reached/, JSON.stringify(job));
        assert.equal(api.messageRequests().length - before, 1);
      });
    } finally {
      live.close();
      await d.stop();
      await removeHomeContainers(docker, root);
      await Deno.remove(root, { recursive: true });
    }
  },
});
