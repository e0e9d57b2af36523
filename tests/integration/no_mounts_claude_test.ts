/**
 * The real Claude Code CLI with `docker.mounts: none` (slow tier): the built-in image's init step
 * clones the repository, Claude Code answers through a fake Messages API on loopback and runs a
 * Bash tool (its hook's tool event crosses the channel), and a follow-up resumes the session from
 * the agent state the first job uploaded — Claude Code's session store survives the tar round trip.
 */

import assert from "node:assert/strict";
import { writeHome } from "../_helpers/daemon.ts";
import { FAKE_ANSWER, startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { startGitHttpServer } from "../fakes/git_http_server.ts";
import { createFixture } from "../workspace/_fixture.ts";
import { openTestDocker } from "./_docker.ts";
import { finishedJob, postJob, queueFollowUp, startDockerDaemon } from "./_daemon.ts";
import { buildOnDebian, printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { startAgentProxy } from "./no_mounts_helpers.ts";

printSlowSkipReason("no-mounts Claude Code");

Deno.test({
  name: "docker.mounts: none — Claude Code clones, answers, reports a tool and resumes its session",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    await using fx = await createFixture();
    await using git = startGitHttpServer(fx.served, { user: "bot", password: "s3cret" });
    await using api = startFakeAnthropicApi({
      toolUse: {
        name: "Bash",
        input: { command: "cat feature.ts > seen.txt", description: "read the feature" },
      },
    });
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-nomounts-claude-" });
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  mounts: none\n`,
      "pylons/cl/.env": "ANTHROPIC_API_KEY=sk-ant-fake-key\n",
      "pylons/cl/pylon.yaml": [
        "name: cl",
        "trigger:",
        "  type: webhook",
        "  path: /cl",
        "workspace:",
        "  type: git-clone",
        `  repo: ${JSON.stringify(git.url("app.git").replace("http://", "http://bot:s3cret@"))}`,
        "  ref: feature",
        "agent:",
        "  type: claude",
        `  image: ${JSON.stringify(image)}`,
        "  auth: api_key",
        "  network: host",
        '  prompt: "look at the feature"',
        "  env:",
        `    ANTHROPIC_BASE_URL: ${JSON.stringify(api.url)}`,
      ].join("\n") + "\n",
    });
    let d = await startDockerDaemon(root, { proxy });
    try {
      let first = "";
      let session = "";
      await t.step("the first job answers and its tool event arrives", async () => {
        first = await postJob(d, "/cl");
        const job = await finishedJob(d, first, 120_000);
        const log = await Deno.readTextFile(`${root}/jobs/${first}.log`).catch(() => "");
        assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
        assert.equal(job.result, FAKE_ANSWER);
        assert.match(job.session_id, /^[0-9a-f-]{36}$/);
        session = job.session_id;
        const events = await Deno.readTextFile(`${root}/jobs/${first}/out/events.ndjson`);
        assert.deepEqual(JSON.parse(events.trim().split("\n")[0]!), {
          tool: "Bash",
          summary: "cat feature.ts > seen.txt",
        });
        assert.match(log, /saved the agent state/);
      });
      await t.step("a follow-up resumes the session from the uploaded state", async () => {
        await d.stop();
        const follow = await queueFollowUp(root, "cl", first);
        const before = api.messageRequests().length;
        d = await d.restart();
        const job = await finishedJob(d, follow, 120_000);
        const log = await Deno.readTextFile(`${root}/jobs/${follow}.log`).catch(() => "");
        assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);
        assert.equal(job.session_id, session);
        const resumed = api.messageRequests()[before]?.body?.messages;
        assert.ok(Array.isArray(resumed) && resumed.length > 2, "the history was sent again");
      });
    } finally {
      await d.stop();
      await proxy.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
