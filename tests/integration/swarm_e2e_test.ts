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
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { startGitHttpServer } from "../fakes/git_http_server.ts";
import { createFixture } from "../workspace/_fixture.ts";
import { openTestDocker } from "./_docker.ts";
import { finishedJob, postJob, queueFollowUp, startDockerDaemon } from "./_daemon.ts";
import { printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { clonePylonYaml, mockOnClaudeImage, startAgentProxy } from "./no_mounts_helpers.ts";
import { requireSwarm, serviceOfJob, SWARM_IGNORE } from "./swarm_helpers.ts";

printSlowSkipReason("Swarm (Claude Code image)");

const API_KEY = "sk-ant-swarm-secret-4711";

/** A clone pylon (no_mounts_helpers.ts) on the manager, with an API key. */
function pylonYaml(
  name: string,
  image: string,
  repo: string,
  o: { nap?: number; timeout?: string; prompt?: string } = {},
): string {
  return clonePylonYaml(name, image, repo, {
    ...o,
    agent: [
      // The registry test joins a worker (another Engine) for a while: stay on this one.
      '  placement: ["node.role==manager"]',
      "  auth: api_key",
      `  api_key: ${API_KEY}`,
    ],
  });
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
    let d = await startDockerDaemon(root, { proxy });
    try {
      let first = "";
      await t.step("a git-clone job: result, tool events and log arrive", async () => {
        first = await postJob(d, "/nm");
        const job = await finishedJob(d, first);
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
          const long = await postJob(d, "/peek");
          const svc = (await serviceOfJob(docker, long))!;
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
          const job = await finishedJob(d, long);
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
        const slow = await postJob(d, "/slow");
        const hold = await postJob(d, "/hold");
        await serviceOfJob(docker, hold);
        (await d.api(`/api/jobs/${hold}/kill`, { method: "POST" })).body?.cancel();
        assert.equal((await finishedJob(d, hold)).status, "killed");
        const timedOut = await finishedJob(d, slow);
        assert.equal(timedOut.status, "timed_out", JSON.stringify(timedOut));
        for (const job of [slow, hold]) {
          await eventually(async () =>
            (await docker.swarm!.listServices({ labels: { "pylon.job": job } })).length === 0
          );
        }
      });

      await t.step("a job keeps running across a daemon restart", async () => {
        const long = await postJob(d, "/long");
        await serviceOfJob(docker, long);
        await new Promise((r) => setTimeout(r, 1500));
        d = await d.restart();
        const job = await finishedJob(d, long);
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
        const follow = await queueFollowUp(root, "nm", first);
        d = await d.restart();
        const job = await finishedJob(d, follow);
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
