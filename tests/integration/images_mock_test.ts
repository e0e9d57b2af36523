/**
 * Agent images against the real Engine, with the `mock` agent on the busybox test image: build
 * from the embedded context, reuse without rebuilding, a new tag when a file changes, and the
 * container contract (env, uid 1000, /pylon/out, exit status) through the project's client.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { DockerClient } from "../../src/docker/mod.ts";
import { UsageError } from "../../src/errors.ts";
import { rebuildImagesCommand } from "../../src/cli/commands/rebuild_images.ts";
import {
  agentFiles,
  agentImageRef,
  type EmbeddedFile,
  ensureAgentImage,
} from "../../src/runner/images.ts";
import { createPylonPaths } from "../../src/config/mod.ts";
import type { CommandContext } from "../../src/cli/command.ts";
import { collectLogs, dockerTest, ensureTestImage, removeQuietly, TEST_LABELS } from "./_docker.ts";

/** Wraps a client, counting `buildImage` calls. */
function countingBuilds(docker: DockerClient): { docker: DockerClient; builds: () => number } {
  let builds = 0;
  const proxy = new Proxy(docker, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (prop === "buildImage") {
        return (...args: unknown[]) => {
          builds++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value.bind(target);
    },
  });
  return { docker: proxy, builds: () => builds };
}

/** The mock's build context with a marker comment added to its entrypoint. */
function markedMockFiles(marker: string): Record<string, readonly EmbeddedFile[]> {
  return {
    mock: agentFiles("mock").map((f) =>
      f.path === "entrypoint.sh" ? { ...f, content: `${f.content}# ${marker}\n` } : f
    ),
  };
}

/** Runs the image with the contract's env and mounts; returns exit code, logs and out dir. */
async function runAgent(
  docker: DockerClient,
  image: string,
  env: Record<string, string>,
  user = "1000:1000",
): Promise<{ exitCode: number; stdout: string; stderr: string; out: string; state: string }> {
  const root = await Deno.makeTempDir({ prefix: "pylon-agent-run-" });
  const out = join(root, "out");
  const state = join(root, "state");
  await Deno.mkdir(out);
  await Deno.mkdir(state);
  await Deno.chmod(out, 0o777);
  await Deno.chmod(state, 0o777);
  let id: string | undefined;
  try {
    id = await docker.createContainer({
      Image: image,
      User: user,
      Env: Object.entries({
        JOB_ID: "0123456789abcdef",
        PYLON_OUT: "/pylon/out",
        PYLON_STATE: "/pylon/state",
        HOME: "/pylon/state/home",
        ...env,
      }).map(([k, v]) => `${k}=${v}`),
      Labels: TEST_LABELS,
      HostConfig: {
        Binds: [`${out}:/pylon/out`, `${state}:/pylon/state`],
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
      },
    });
    const wait = await docker.armWait(id, { condition: "next-exit" });
    await docker.startContainer(id);
    const exitCode = await wait.exitCode;
    const logs = await collectLogs(docker.containerLogs(id));
    return { exitCode, ...logs, out, state };
  } finally {
    await removeQuietly(docker, id);
  }
}

dockerTest("ensureAgentImage() builds the mock agent once and reuses it", async (docker) => {
  const base = await ensureTestImage(docker);
  const { docker: counted, builds } = countingBuilds(docker);
  const files = markedMockFiles(`build-once ${crypto.randomUUID()}`);
  let ref: string | undefined;
  try {
    const started = performance.now();
    ref = await ensureAgentImage({ type: "mock", docker: counted, baseImage: base, files });
    const buildMs = performance.now() - started;
    assert.equal(builds(), 1);
    assert.match(ref, /^pylon\/agent-mock:[0-9a-f]{12}$/);
    const info = await docker.inspectImage(ref);
    assert.equal(info?.Config?.Labels?.["pylon.agent"], "mock");
    assert.equal(info?.Config?.Labels?.["pylon.digest"], ref.split(":")[1]);
    assert.equal(info?.Config?.User, "1000");
    assert.equal(info?.Config?.WorkingDir, "/workspace");
    assert.deepEqual(info?.Config?.Entrypoint, ["/usr/local/bin/pylon-entrypoint"]);
    assert.ok(buildMs < 60_000, `mock build took ${Math.round(buildMs)} ms`);

    assert.equal(
      await ensureAgentImage({ type: "mock", docker: counted, baseImage: base, files }),
      ref,
    );
    assert.equal(builds(), 1, "the second ensure does not build");

    const changed = markedMockFiles(`changed ${crypto.randomUUID()}`);
    const other = await ensureAgentImage({
      type: "mock",
      docker: counted,
      baseImage: base,
      files: changed,
    });
    try {
      assert.notEqual(other, ref);
      assert.equal(builds(), 2, "a changed file builds a new tag");
    } finally {
      await docker.removeImage(other, { force: true });
    }
  } finally {
    if (ref) await docker.removeImage(ref, { force: true });
  }
});

dockerTest("the mock agent runs $PROMPT as uid 1000 and writes result.json", async (docker) => {
  const image = await ensureAgentImage({
    type: "mock",
    docker,
    baseImage: await ensureTestImage(docker),
  });
  const prompt = [
    'echo "working in $(pwd)"',
    'echo "to stderr" >&2',
    'printf \'{"tool":"sh","summary":"echo"}\\n\' >> "$PYLON_OUT/events.ndjson"',
    'printf \'{"status":"completed","result":"uid %s home %s session %s","session_id":"s-1"}\' ' +
    '"$(id -u)" "$HOME" "$SESSION_ID" > "$PYLON_OUT/result.json"',
  ].join("\n");
  const run = await runAgent(docker, image, { PROMPT: prompt, SESSION_ID: "s-0" });
  try {
    assert.equal(run.exitCode, 0, run.stderr);
    assert.equal(run.stdout, "working in /workspace\n");
    assert.equal(run.stderr, "to stderr\n");
    const result = JSON.parse(await Deno.readTextFile(join(run.out, "result.json")));
    assert.deepEqual(result, {
      status: "completed",
      result: "uid 1000 home /pylon/state/home session s-0",
      session_id: "s-1",
    });
    assert.equal(
      await Deno.readTextFile(join(run.out, "events.ndjson")),
      '{"tool":"sh","summary":"echo"}\n',
    );
    assert.ok((await Deno.stat(join(run.state, "home"))).isDirectory, "HOME was created");
  } finally {
    await Deno.remove(join(run.out, ".."), { recursive: true });
  }
});

dockerTest("the mock agent exits with the script's status, also as another uid", async (docker) => {
  const image = await ensureAgentImage({
    type: "mock",
    docker,
    baseImage: await ensureTestImage(docker),
  });
  const run = await runAgent(docker, image, { PROMPT: "echo bye; exit 3" }, "4321:4321");
  await Deno.remove(join(run.out, ".."), { recursive: true });
  assert.equal(run.exitCode, 3);
  assert.equal(run.stdout, "bye\n");
  const empty = await runAgent(docker, image, { PROMPT: "" });
  await Deno.remove(join(empty.out, ".."), { recursive: true });
  assert.equal(empty.exitCode, 2);
  assert.match(empty.stderr, /PROMPT is empty/);
});

/**
 * A recording context of its own (not tests/_helpers/cli.ts): this command needs nothing from the
 * CLI's composition root, so its test does not depend on every other command compiling.
 */
function recordingContext(root: string): CommandContext & { stdout(): string; stderr(): string } {
  let out = "";
  let err = "";
  const host = Deno.env.get("DOCKER_HOST");
  return {
    paths: createPylonPaths(root),
    env: { HOME: root, PYLON_HOME: root, ...(host ? { DOCKER_HOST: host } : {}) },
    io: {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      readLine: () => Promise.resolve(null),
      isTty: false,
    },
    clock: { now: () => new Date() },
    spawnInteractive: () => Promise.resolve(0),
    stdout: () => out,
    stderr: () => err,
  };
}

dockerTest("pylon rebuild-images mock rebuilds with progress lines", async (docker) => {
  const base = await ensureTestImage(docker);
  const root = await Deno.makeTempDir({ prefix: "pylon-rebuild-" });
  const previous = await docker.inspectImage(
    agentImageRef("mock", agentFiles("mock"), { baseImage: base }),
  );
  try {
    const ctx = recordingContext(root);
    const code = await rebuildImagesCommand.run(
      { positionals: ["mock"], values: { "base-image": base } },
      ctx,
    );
    assert.equal(code, 0, ctx.stderr());
    const out = ctx.stdout();
    const ref = /^Building (pylon\/agent-mock:[0-9a-f]{12}) \(base pylon-test\/busybox:/m
      .exec(out)?.[1];
    assert.ok(ref, out);
    assert.match(out, /^ {2}Step \d+\/\d+ : FROM /m);
    assert.match(out, new RegExp(`^Built ${ref.replace(/[/.]/g, "\\$&")} in \\d+s$`, "m"));
    const rebuilt = await docker.inspectImage(ref);
    assert.ok(rebuilt);
    // The image the rebuild replaced is now untagged; do not let reruns pile them up.
    if (previous && previous.Id !== rebuilt.Id) {
      await docker.removeImage(previous.Id).catch(() => {});
    }
    const e = await rebuildImagesCommand.run({ positionals: ["codex"], values: {} }, ctx)
      .catch((e) => e);
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /Unknown agent type "codex"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
