/**
 * The Swarm backend (`docker.backend: swarm`, issue 18 part 2) through the daemon and a real
 * single-node swarm, repeating the no-mounts flows: the init step of pylon's agent image clones a real repository (served over
 * loopback HTTP with Basic credentials), the agent's tool events, result and log arrive over the
 * channel, a timeout and a kill end jobs, a follow-up restores the saved agent state, a job
 * survives a daemon restart, no service has a bind mount, and neither the token nor the API key
 * shows in `docker service inspect`.
 *
 * The agent is the mock entrypoint (the prompt is a shell script) on top of the real Claude Code
 * image, which brings node and git: slow tier (`PYLON_SLOW_TESTS=1`), like the image tests.
 */

import assert from "node:assert/strict";
import { createPylonPaths } from "../../src/config/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { startGitHttpServer } from "../fakes/git_http_server.ts";
import { createFixture } from "../workspace/_fixture.ts";
import { openTestDocker } from "./_docker.ts";
import { dockerRunnerFor } from "./_agent.ts";
import { printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { mockOnClaudeImage, startAgentProxy } from "./no_mounts_helpers.ts";
import { requireSwarm, SWARM_IGNORE } from "./swarm_helpers.ts";
import type { DockerClient } from "../../src/docker/mod.ts";

printSlowSkipReason("Swarm (Claude Code image)");

const API_KEY = "sk-ant-swarm-secret-4711";

/** The job's service, once it exists. */
async function serviceOf(docker: DockerClient, job: string) {
  return await eventually(async () =>
    (await docker.swarm!.listServices({ labels: { "pylon.job": job } }))[0]
  );
}

const AGENT_SCRIPT = [
  "set -e",
  'echo "cloned $(git log --oneline | wc -l) commits; feature: $(cat feature.ts)"',
  `echo '{"tool":"Bash","summary":"cat feature.ts"}' >> "$PYLON_OUT/events.ndjson"`,
  'n=$(cat "$HOME/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$HOME/n"',
  "leak=$(grep -c bot: .git/config || true); tok=$(test -e /.pylon-agent/token && echo yes || echo no)",
  'sleep "$NAP"',
  `printf '{"status":"completed","result":"run %s leak=%s token=%s %s","session_id":"s%s"}' "$n" "$leak" "$tok" "$(cat feature.ts)" "$n" > "$PYLON_OUT/result.json"`,
].join("\n");

function pylonYaml(
  name: string,
  image: string,
  repo: string,
  o: { nap?: number; timeout?: string; prompt?: string } = {},
): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "workspace:",
    "  type: git-clone",
    `  repo: ${JSON.stringify(repo)}`,
    "  ref: feature",
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    "  network: host",
    // The registry test joins a worker (another Engine) for a while: stay on this one.
    '  placement: ["node.role==manager"]',
    `  prompt: ${JSON.stringify(o.prompt ?? AGENT_SCRIPT)}`,
    "  auth: api_key",
    `  api_key: ${API_KEY}`,
    ...(o.timeout ? [`  timeout: ${o.timeout}`] : []),
    "  env:",
    `    NAP: "${o.nap ?? 0}"`,
  ].join("\n") + "\n";
}

async function post(d: TestDaemon, path: string): Promise<string> {
  const res = await fetch(d.url + path, { method: "POST", body: "{}" });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()).job_id;
}

async function finished(d: TestDaemon, id: string, timeoutMs = 60_000) {
  return await eventually(async () => {
    const job = await (await d.api(`/api/jobs/${id}`)).json();
    return ["completed", "failed", "timed_out", "killed"].includes(job.status) ? job : undefined;
  }, timeoutMs);
}

Deno.test({
  name: "docker.backend: swarm — clone, events, result, log, timeout, kill, follow-up, restart",
  ignore: SLOW_IGNORE || SWARM_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    requireSwarm();
    using docker = openTestDocker();
    const image = await mockOnClaudeImage(docker);
    await using fx = await createFixture();
    await using git = startGitHttpServer(fx.served, { user: "bot", password: "s3cret" });
    const repo = git.url("app.git").replace("http://", "http://bot:s3cret@");
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-swarm-" });
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  backend: swarm\n`,
      "pylons/nm/pylon.yaml": pylonYaml("nm", image, repo),
      "pylons/long/pylon.yaml": pylonYaml("long", image, repo, { nap: 6 }),
      "pylons/slow/pylon.yaml": pylonYaml("slow", image, repo, {
        prompt: "sleep 60",
        timeout: "4s",
      }),
      "pylons/peek/pylon.yaml": pylonYaml("peek", image, repo, {
        prompt: 'sleep 3; printf \'{"status":"completed","result":"%s %s"}\' ' +
          '"$(cat /.pylon-agent/token)" "$ANTHROPIC_API_KEY" > "$PYLON_OUT/result.json"',
      }),
      "pylons/hold/pylon.yaml": pylonYaml("hold", image, repo, { prompt: "sleep 60" }),
    });
    const start = async () => {
      const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
      proxy.target.url = d.url;
      return d;
    };
    let d = await start();
    try {
      let first = "";
      await t.step("a git-clone job: result, tool events and log arrive", async () => {
        first = await post(d, "/nm");
        const job = await finished(d, first);
        assert.equal(job.status, "completed", JSON.stringify(job));
        // Cloned at the ref with the channel's credential, which stayed out of .git/config;
        // the token file was gone before the agent ran.
        // A Swarm secret is read-only: the token file stays until the task ends (README).
        assert.equal(job.result, "run 1 leak=0 token=yes export const f = 1;");
        assert.equal(job.session_id, "s1");
        const events = await Deno.readTextFile(`${root}/jobs/${first}/out/events.ndjson`);
        assert.deepEqual(JSON.parse(events.trim()), { tool: "Bash", summary: "cat feature.ts" });
        const log = await Deno.readTextFile(`${root}/jobs/${first}.log`);
        assert.match(log, /cloned 3 commits; feature: export const f = 1;/);
        assert.ok(git.logins.every((l) => l === "bot:s3cret"));
        // Revoked once the job ended.
        await assert.rejects(Deno.stat(`${root}/jobs/${first}/channel/access.json`));
      });

      await t.step(
        "no bind mount of the daemon's folders; token and API key not in service inspect",
        async () => {
          const long = await post(d, "/peek");
          const svc = (await serviceOf(docker, long))!;
          const info = (await docker.swarm!.inspectService(svc.ID))!;
          const c = info.Spec.TaskTemplate.ContainerSpec;
          assert.deepEqual(c.Mounts ?? [], []);
          const spec = JSON.stringify(info);
          assert.ok(!spec.includes(root), "no daemon path in the service's spec");
          assert.ok(!spec.includes("s3cret"), "no git credential in the service's spec");
          assert.ok(!spec.includes(API_KEY), "no API key in the service's spec");
          // One replica, never restarted: not replicated-job (its task outlives the service).
          assert.deepEqual(info.Spec.Mode, { Replicated: { Replicas: 1 } });
          assert.equal(info.Spec.TaskTemplate.RestartPolicy?.Condition, "none");
          assert.ok(svc.Spec.Name.length <= 63);
          assert.deepEqual(c.CapabilityDrop, ["ALL"]);
          assert.ok((c.Secrets ?? []).some((x) => x.File.Name === "/.pylon-agent/token"));
          assert.ok(c.Env?.some((e) => e.startsWith("PYLON_SECRET_ENV=ANTHROPIC_API_KEY=")));
          const job = await finished(d, long);
          assert.equal(job.status, "completed", JSON.stringify(job));
          // The task read both from its secret files; neither is in the service's spec.
          const [token, key] = job.result.split(" ");
          assert.ok(token.length >= 20, job.result);
          assert.ok(!spec.includes(token), "no token in the service's spec");
          assert.ok(key === API_KEY || key === "[redacted]" || key.includes("*"), job.result);
          // Removed with the job: the service and its secrets.
          await eventually(async () =>
            (await docker.swarm!.listServices({ labels: { "pylon.job": long } })).length === 0
          );
          await eventually(async () =>
            (await docker.swarm!.listSecrets({ labels: { "pylon.job": long } })).length === 0
          );
        },
      );

      await t.step("a timeout and a kill end jobs", async () => {
        const slow = await post(d, "/slow");
        const hold = await post(d, "/hold");
        await serviceOf(docker, hold);
        (await d.api(`/api/jobs/${hold}/kill`, { method: "POST" })).body?.cancel();
        assert.equal((await finished(d, hold)).status, "killed");
        const timedOut = await finished(d, slow);
        assert.equal(timedOut.status, "timed_out", JSON.stringify(timedOut));
        for (const job of [slow, hold]) {
          await eventually(async () =>
            (await docker.swarm!.listServices({ labels: { "pylon.job": job } })).length === 0
          );
        }
      });

      await t.step("a job keeps running across a daemon restart", async () => {
        const long = await post(d, "/long");
        await serviceOf(docker, long);
        await new Promise((r) => setTimeout(r, 1500));
        await d.stop();
        d = await start();
        const job = await finished(d, long);
        assert.equal(job.status, "completed", JSON.stringify(job));
        assert.match(job.result, /^run 1 leak=0/);
        const events = await Deno.readTextFile(`${root}/jobs/${long}/out/events.ndjson`);
        assert.match(events, /cat feature.ts/);
        // The re-attached job's service and secrets are removed with it too.
        await eventually(
          async () =>
            (await docker.swarm!.listServices({ labels: { "pylon.job": long } })).length === 0 &&
            (await docker.swarm!.listSecrets({ labels: { "pylon.job": long } })).length === 0,
          20_000,
        );
      });

      await t.step("a follow-up restores the agent state saved by the job it follows", async () => {
        await d.stop();
        const stores = createStoreRegistry(createPylonPaths(root));
        let follow: string;
        try {
          const store = await stores.open("nm");
          const parent = (await store.get(first))!;
          follow = (await store.insert({
            id: crypto.randomUUID(),
            pylon: "nm",
            status: "queued",
            trigger: "follow-up",
            payload: parent.payload,
            headers: {},
            parentId: first,
            sessionId: parent.sessionId,
          })).job.id;
        } finally {
          await stores.closeAll();
        }
        d = await start();
        const job = await finished(d, follow);
        assert.equal(job.status, "completed", JSON.stringify(job));
        const firstLog = await Deno.readTextFile(`${root}/jobs/${first}.log`);
        assert.match(firstLog, /saved the agent state/);
        const log = await Deno.readTextFile(`${root}/jobs/${follow}.log`);
        assert.match(log, /restored the agent state/);
        assert.match(job.result, /^run 2 /, `${firstLog}\n${log}`);
        assert.equal(job.session_id, "s2");
        await eventually(
          async () =>
            (await docker.swarm!.listServices({ labels: { "pylon.job": follow } })).length === 0 &&
            (await docker.swarm!.listSecrets({ labels: { "pylon.job": follow } })).length === 0,
          20_000,
        );
      });
    } finally {
      await d.stop();
      await proxy.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
