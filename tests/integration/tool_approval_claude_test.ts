/**
 * Slow tier (`PYLON_SLOW_TESTS=1`): tool approval with the real Claude Code CLI and the real
 * OpenCode CLI in the images pylon builds, against the fake Messages API on loopback. The fake
 * asks for `Bash` (OpenCode: `bash`) with `git push origin main`; the managed settings (OpenCode:
 * the managed config naming pylon's plugin) the daemon mounts read-only run the approval hook,
 * the call waits in the daemon's service, and:
 *
 * - Allow (through the API route, as `pylon allow` calls it): the push really runs (the bare
 *   remote in the workspace gets `main`) and the next request to the fake carries its result;
 * - Deny: the tool result the model gets says who denied it, and nothing is pushed;
 * - no answer in time: denied with the reason.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createToolCallRoutes } from "../../src/daemon/routes/tool_calls.ts";
import { buildContainerSpec } from "../../src/runner/container_spec.ts";
import { startFakeAnthropicApi } from "../fakes/anthropic_api.ts";
import { approvalHome, tickUntil } from "../tools/_helpers.ts";
import { openTestDocker } from "./_docker.ts";
import {
  buildOnDebian,
  makeRunDirs,
  printSlowSkipReason,
  runAgent,
  SLOW_IGNORE,
} from "./images_slow.ts";

printSlowSkipReason("Claude Code and OpenCode tool approval");

const PUSH = { command: "git push origin main", description: "Push the fix" };

/** A git repository with one commit on main and a bare `origin` inside the workspace. */
async function gitWorkspace(dir: string): Promise<void> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args, cwd: dir, stderr: "piped" }).output();
    if (!out.success) {
      throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  await git("init", "-q", "-b", "main");
  await git("init", "-q", "--bare", "origin.git");
  await Deno.writeTextFile(join(dir, "README"), "hello\n");
  await git("-c", "user.email=t@t", "-c", "user.name=t", "add", "README");
  await git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-q", "-m", "first");
  await git("remote", "add", "origin", "/workspace/origin.git");
  await new Deno.Command("chmod", { args: ["-R", "a+rwX", dir] }).output();
}

/** The text of the tool_result the CLI sent back after the tool call (the last request). */
function toolResultText(api: ReturnType<typeof startFakeAnthropicApi>): string {
  const last = api.messageRequests().at(-1)?.body?.messages as { content?: unknown }[] | undefined;
  const content = last?.at(-1)?.content;
  const result = Array.isArray(content)
    ? content.find((c) => (c as { type?: string }).type === "tool_result") as
      | { content?: unknown }
      | undefined
    : undefined;
  return JSON.stringify(result?.content ?? null);
}

/** The approval mounts exactly as the runner's container spec has them. */
function approvalBinds(home: Home): string[] {
  const spec = buildContainerSpec({
    jobId: home.job.id,
    pylon: home.pylon,
    image: "unused",
    prompt: "p",
    sessionId: null,
    workspace: null,
    workspaceReadOnly: false,
    extraMounts: [],
    outDir: "/tmp/out",
    stateDir: "/tmp/state",
    volumes: [],
    user: "1000:1000",
    home: "test",
    pidsLimit: 512,
    approval: home.folders,
  });
  const mine = spec.HostConfig!.Mounts!.filter((m) =>
    (m.Source ?? "").startsWith(home.folders.dir) || m.Source === home.folders.requests
  );
  assert.equal(mine.length, 3);
  return mine.map((m) => `${m.Source}:${m.Target}${m.ReadOnly ? ":ro" : ""}`);
}

async function remoteHasMain(dir: string): Promise<boolean> {
  const out = await new Deno.Command("git", {
    args: ["--git-dir", join(dir, "origin.git"), "rev-parse", "--verify", "-q", "refs/heads/main"],
    stdout: "null",
  }).output();
  return out.success;
}

type Home = Awaited<ReturnType<typeof approvalHome>>;
type Service = ReturnType<Home["service"]>;

/**
 * The three steps (Allow, Deny, no answer) with agent `type`'s real CLI in `image`: `env` points
 * it at the fake API, which asks for the push with `tool` (Claude Code's `Bash`, OpenCode's
 * `bash`). The daemon's side (the service, the decisions) is the same for both.
 */
async function approvalSteps(
  t: Deno.TestContext,
  docker: ReturnType<typeof openTestDocker>,
  image: string,
  type: "claude" | "opencode",
  env: (api: ReturnType<typeof startFakeAnthropicApi>) => Record<string, string>,
) {
  async function attempt(
    timeout: string,
    decide: (home: Home, service: Service, callId: string) => Promise<void>,
  ) {
    await using home = await approvalHome(["Bash(git push:*)"], {
      timeout,
      uid: Deno.uid() === 0 ? 1000 : undefined,
      type,
    });
    await Deno.chmod(home.folders.requests, 0o777);
    const dirs = await makeRunDirs(`pylon-approval-${type}-`);
    await gitWorkspace(dirs.workspace);
    if (type === "opencode") {
      // The workspace's own config (which the agent writes) cannot drop the managed plugin.
      await Deno.writeTextFile(
        join(dirs.workspace, "opencode.json"),
        JSON.stringify({ plugin: [], permission: { bash: "allow" } }),
      );
    }
    await using api = startFakeAnthropicApi({
      toolUse: { name: type === "claude" ? "Bash" : "bash", input: PUSH },
    });
    const service = home.service();
    service.watch(home.job, home.folders);
    const run = runAgent(
      docker,
      image,
      dirs,
      { ...env(api), PROMPT: "push the fix" },
      approvalBinds(home),
    );
    let failed: unknown;
    run.catch((e) => (failed = e));
    await tickUntil(
      service,
      () => service.pending().length === 1 || failed !== undefined,
      "the push to wait",
      // A CLI's first start in a fresh container may take a while (OpenCode: its database).
      120_000,
    )
      .catch(async (e) => {
        const r = await run.catch(() => null);
        throw new Error(`${e.message}\n${r?.stdout}\n${r?.stderr}`);
      });
    assert.equal(await remoteHasMain(dirs.workspace), false, "nothing is pushed while it waits");
    const call = service.pending()[0]!;
    // OpenCode's call as Claude Code's: the same tool name and input, so the same rules match.
    assert.equal(call.tool, "Bash");
    assert.deepEqual(call.input, PUSH);
    await decide(home, service, call.callId);
    const r = await run;
    assert.equal(r.result?.status, "completed", `${JSON.stringify(r.result)}\n${r.stderr}`);
    return { api, pushed: await remoteHasMain(dirs.workspace), result: toolResultText(api) };
  }

  await t.step("Allow (POST /api/jobs/<id>/tool-calls/<call>/allow): the push runs", async () => {
    const { pushed, result } = await attempt("5m", async (home, service, callId) => {
      const routes = createToolCallRoutes({ stores: home.stores, approvals: service });
      const res = await routes.request(`/jobs/${home.job.id}/tool-calls/${callId}/allow`, {
        method: "POST",
        headers: { "x-pylon-via": "cli" },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        "call_id": callId,
        decision: "allow",
        by: "cli",
        via: "cli",
      });
    });
    assert.equal(pushed, true, "the remote got main");
    assert.doesNotMatch(result, /denied/i, result);
  });

  await t.step("Deny: the model is told who denied it, nothing is pushed", async () => {
    const { pushed, result } = await attempt("5m", async (home, service, callId) => {
      const answer = await service.decide(home.job.id, callId, "deny", {
        by: "@ada",
        via: "telegram",
      });
      assert.equal(answer.ok, true);
    });
    assert.equal(pushed, false);
    assert.match(result, /denied by @ada/, result);
  });

  await t.step("no answer within approve_timeout: denied with the reason", async () => {
    const { pushed, result } = await attempt("2s", async (home, service) => {
      home.clock.advance(2_000);
      await service.tick();
    });
    assert.equal(pushed, false);
    assert.match(result, /no answer within 2s/, result);
  });
}

Deno.test({
  name: "claude tool approval: a git push waits; allowed it runs, denied or unanswered it does not",
  ignore: SLOW_IGNORE,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "claude");
    await approvalSteps(t, docker, image, "claude", (api) => ({
      ANTHROPIC_API_KEY: "sk-ant-fake-key",
      ANTHROPIC_BASE_URL: api.url,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    }));
  },
});

Deno.test({
  name:
    "opencode tool approval: a git push waits; allowed it runs, denied or unanswered it does not",
  ignore: SLOW_IGNORE,
  async fn(t) {
    using docker = openTestDocker();
    const image = await buildOnDebian(docker, "opencode");
    await approvalSteps(t, docker, image, "opencode", (api) => ({
      ANTHROPIC_API_KEY: "sk-ant-fake-key",
      OPENCODE_PROVIDER: "anthropic",
      // Test plumbing only: point the provider at the fake and keep the model list offline.
      OPENCODE_CONFIG_CONTENT: JSON.stringify({
        provider: { anthropic: { options: { baseURL: `${api.url}/v1` } } },
      }),
      OPENCODE_DISABLE_MODELS_FETCH: "1",
    }));
  },
});
