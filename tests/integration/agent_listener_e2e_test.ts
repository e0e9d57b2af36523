/**
 * A daemon listening on 127.0.0.1 still serves its agents (issue 19): with the real Engine it
 * also listens on the default bridge's gateway address for the agent routes only, so a Claude
 * pylon with an API key gets the model gateway by default, as with `0.0.0.0`.
 *
 * The agent is a Claude pylon whose image is the busybox test image with a script for its
 * entrypoint (the runner's Claude arguments are ignored): from a container on the default bridge
 * it calls the Messages API at `$ANTHROPIC_BASE_URL` (the daemon relays to the fake upstream on
 * loopback, with the real key), then asks the same address for the control API and a webhook,
 * and counts the real key in its environment; its result.json says what it saw.
 *
 * @module
 */

import assert from "node:assert/strict";
import { tarBytes } from "../../src/docker/tar.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { finishedJob, postJob } from "./_daemon.ts";
import { FAKE_ANSWER, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { dockerRunnerFor } from "./_agent.ts";
import type { DockerClient } from "../../src/docker/mod.ts";
import { dockerTest, ensureTestImage, removeHomeContainers, TEST_LABELS } from "./_docker.ts";

/** The real key; `REALKEY` marks it (the script greps `REALKE[Y]`, so it never holds it). */
const REAL_KEY = `sk-ant-api03-REALKEY-${crypto.randomUUID().replaceAll("-", "")}`;

/** What a status line of busybox wget's error looks like, reduced to the code. */
const STATUS = "grep -o 'HTTP/1.1 [0-9]*' | tr -d 'HTTP/1. ' | head -n 1";

const ENTRY = [
  // Direct: the daemon is not behind the egress proxy (NO_PROXY), and busybox ignores NO_PROXY.
  'WGET="wget -Y off"',
  'b="$ANTHROPIC_BASE_URL"',
  'root="${b%%/agent/v1/*}"',
  'body=\'{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}\'',
  'msg=$($WGET -q -O - --header "x-api-key: $ANTHROPIC_API_KEY" ' +
  '--header "anthropic-version: 2023-06-01" --header "content-type: application/json" ' +
  `--post-data "$body" "$b/v1/messages" 2>&1 | tr -dc 'A-Za-z0-9 _-' | head -c 400)`,
  `api=$($WGET -O /dev/null "$root/api/jobs" 2>&1 | ${STATUS})`,
  `status=$($WGET -O /dev/null "$root/api/status" 2>&1 | ${STATUS})`,
  `hook=$($WGET -O /dev/null --post-data '{}' "$root/gw" 2>&1 | ${STATUS})`,
  `trick=$($WGET -O /dev/null "$root/agent/v1/%2e%2e/%2e%2e/api/jobs" 2>&1 | ${STATUS})`,
  "keys=$(env | grep -c 'REALKE[Y]')",
  `printf '{"status":"completed","result":"base=%s msg=%s api=%s status=%s hook=%s trick=%s keys=%s"}' ` +
  '"$b" "$msg" "$api" "$status" "$hook" "$trick" "$keys" > "$PYLON_OUT/result.json"',
].join("\n") + "\n";

/** Runs one job of pylon `gw` (with `extra` pylon.yaml lines) on a daemon on 127.0.0.1. */
async function runOnLoopback(
  docker: DockerClient,
  extra: string[],
): Promise<void> {
  const base = await ensureTestImage(docker);
  const image = `pylon-test/agent-listener:${crypto.randomUUID().slice(0, 8)}`;
  await docker.buildImage(
    tarBytes([
      {
        type: "file",
        path: "Dockerfile",
        data: `FROM ${base}\nCOPY entry.sh /entry.sh\nENTRYPOINT ["/bin/sh", "/entry.sh"]\n`,
      },
      { type: "file", path: "entry.sh", data: ENTRY },
    ]),
    { tag: image, labels: TEST_LABELS },
  );
  await using api = startFakeAnthropicApi();
  const root = await Deno.makeTempDir({ prefix: "pylon-agent-listener-" });
  await writeHome(root, {
    "pylons/gw/.env": `ANTHROPIC_API_KEY=${REAL_KEY}\n`,
    "pylons/gw/pylon.yaml": [
      "name: gw",
      "trigger:",
      "  type: webhook",
      "  path: /gw",
      "agent:",
      "  type: claude",
      `  image: ${JSON.stringify(image)}`,
      "  auth: api_key",
      "  model: claude-sonnet-4-5",
      '  prompt: "hi"',
      "  timeout: 2m",
      ...extra,
      "  env:",
      `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
    ].join("\n") + "\n",
  });
  const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
  try {
    const port = new URL(d.url).port;
    const listening = await d.waitForLog(/event=daemon\.agent_listener\b/);
    const at = await gatewayOf(docker, extra.length > 0 ? "pylon-egress" : "bridge");
    assert.match(listening, new RegExp(`${at.replaceAll(".", "\\.")}:${port}\\b`));
    const id = await postJob(d, "/gw");
    const job = await finishedJob(d, id);
    const log = await Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
    assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
    const result = String(job.result);
    // The gateway was on: the container's base URL is the daemon's (host.docker.internal).
    assert.match(
      result,
      new RegExp(
        `base=http://host\\.docker\\.internal:${port}/agent/v1/jobs/${id}/model/anthropic `,
      ),
      result,
    );
    // Its call reached the fake upstream through the daemon, which swapped in the real key.
    assert.ok(result.includes(FAKE_ANSWER), result);
    assert.equal(api.messageRequests().length, 1);
    assert.equal(api.messageRequests()[0]!.headers.get("x-api-key"), REAL_KEY);
    // Nothing but the agent routes answers there; the key never reached the container.
    assert.match(result, / api=404 status=404 hook=404 trick=404 keys=0$/, result);
    const jobs = await (await d.api("/api/jobs?pylon=gw")).json();
    assert.equal((jobs.jobs ?? jobs).length, 1, "the webhook call from the container ran a job");
    assert.ok(!log.includes(REAL_KEY), "the key is in the job's log");
  } finally {
    await d.stop();
    await removeHomeContainers(docker, root);
    await docker.removeImage(image, { force: true }).catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
}

/** The IPv4 gateway address of Docker network `name`. */
async function gatewayOf(docker: DockerClient, name: string): Promise<string> {
  const info = await docker.networks!.inspect(name);
  const gateway = info?.IPAM?.Config?.find((c) => c.Gateway?.includes("."))?.Gateway;
  assert.ok(gateway, `the Engine names no IPv4 gateway for network ${name}`);
  return gateway;
}

dockerTest(
  "a daemon on 127.0.0.1 serves its agents on the bridge gateway, agent routes only",
  async (docker) => {
    await runOnLoopback(docker, []);
  },
);

dockerTest(
  "a daemon on 127.0.0.1 serves agents of an egress-listed pylon on the job network's gateway",
  async (docker) => {
    await runOnLoopback(docker, ["  egress: [api.github.com]"]);
  },
);
