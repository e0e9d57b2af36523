/**
 * Jobs without host mounts (`docker.mounts: none`, issue 18 part 1) through the daemon and the
 * real Docker Engine: the init step of pylon's agent image clones a real repository (served over
 * loopback HTTP with Basic credentials), the agent's tool events, result and log arrive over the
 * channel, a timeout and a kill end jobs, a follow-up restores the saved agent state, a job
 * survives a daemon restart, and no container has a bind mount.
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

printSlowSkipReason("no-mounts (Claude Code image)");

Deno.test({
  name: "docker.mounts: none — clone, events, result, log, timeout, kill, follow-up, restart",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await mockOnClaudeImage(docker);
    await using fx = await createFixture();
    await using git = startGitHttpServer(fx.served, { user: "bot", password: "s3cret" });
    const repo = git.url("app.git").replace("http://", "http://bot:s3cret@");
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-nomounts-" });
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  mounts: none\n`,
      "pylons/nm/pylon.yaml": clonePylonYaml("nm", image, repo),
      "pylons/long/pylon.yaml": clonePylonYaml("long", image, repo, { nap: 6 }),
      "pylons/slow/pylon.yaml": clonePylonYaml("slow", image, repo, {
        prompt: "sleep 60",
        timeout: "4s",
      }),
      "pylons/hold/pylon.yaml": clonePylonYaml("hold", image, repo, { prompt: "sleep 60" }),
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
        assert.equal(job.result, "run 1 leak=0 token=no export const f = 1;");
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
        "no bind mount of the daemon's folders; the token is not in the spec",
        async () => {
          const long = await postJob(d, "/long");
          const c = await eventually(async () =>
            (await docker.listContainers({ labels: { "pylon.job": long } }))[0]
          );
          const info = (await docker.inspectContainer(c!.Id))! as unknown as {
            HostConfig: { Mounts?: unknown[] | null; Binds?: string[] | null };
            Mounts: unknown[];
            Config: { Env: string[]; Cmd: string[] | null; Entrypoint: string[] };
          };
          assert.deepEqual(info.HostConfig.Mounts ?? [], []);
          assert.deepEqual(info.HostConfig.Binds ?? [], []);
          assert.deepEqual(info.Mounts, []);
          const spec = JSON.stringify(info.Config);
          assert.ok(!spec.includes(root), "no daemon path in the container's config");
          assert.ok(!spec.includes("s3cret"), "no git credential in the container's config");
          assert.ok(info.Config.Env.some((e) => e === "PYLON_TOKEN_FILE=/.pylon-agent/token"));
          assert.equal((await finishedJob(d, long)).status, "completed");
        },
      );

      await t.step("a timeout and a kill end jobs", async () => {
        const slow = await postJob(d, "/slow");
        const hold = await postJob(d, "/hold");
        await eventually(async () =>
          (await docker.listContainers({ labels: { "pylon.job": hold } })).length > 0
        );
        (await d.api(`/api/jobs/${hold}/kill`, { method: "POST" })).body?.cancel();
        assert.equal((await finishedJob(d, hold)).status, "killed");
        const timedOut = await finishedJob(d, slow);
        assert.equal(timedOut.status, "timed_out", JSON.stringify(timedOut));
      });

      await t.step("a job keeps running across a daemon restart", async () => {
        const long = await postJob(d, "/long");
        await eventually(async () =>
          (await docker.listContainers({ labels: { "pylon.job": long } })).length > 0
        );
        await new Promise((r) => setTimeout(r, 1500));
        d = await d.restart();
        const job = await finishedJob(d, long);
        assert.equal(job.status, "completed", JSON.stringify(job));
        assert.match(job.result, /^run 1 leak=0/);
        const events = await Deno.readTextFile(`${root}/jobs/${long}/out/events.ndjson`);
        assert.match(events, /cat feature.ts/);
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
      });
    } finally {
      await d.stop();
      await proxy.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
