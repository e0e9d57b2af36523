// deno-lint-ignore-file no-console
/**
 * Shared by the slow agent image tests (`PYLON_SLOW_TESTS=1`): a Debian base image from
 * `debootstrap --variant=minbase bookworm` + `docker import`, cached as
 * `pylon-test/debian:bookworm-minbase` (debootstrap is installed with apt-get when missing; needs
 * root), the host's extra CA certificates, and running an agent image the way the runner does
 * (uid 1000, `--network host`, /pylon/out, /pylon/state and /workspace mounted).
 *
 * @module
 */

import { join } from "node:path";
import type { DockerClient } from "../../src/docker/mod.ts";
import { type AgentImageType, ensureAgentImage } from "../../src/runner/images.ts";
import {
  collectLogs,
  DOCKER_IGNORE,
  DOCKER_UNAVAILABLE,
  removeQuietly,
  TEST_LABELS,
} from "./_docker.ts";

/** Whether the slow tier runs. */
export const SLOW = Deno.env.get("PYLON_SLOW_TESTS") === "1";
/** Whether slow tests are registered as ignored (the reason is printed by {@linkcode slowIgnored}). */
export const SLOW_IGNORE = !SLOW || DOCKER_IGNORE;
const DEBIAN_REPO = "pylon-test/debian";
const DEBIAN_TAG = "bookworm-minbase";
const HOST_CA_DIR = "/usr/local/share/ca-certificates";

/** Prints why the slow tests of `what` do not run, if they do not. */
export function printSlowSkipReason(what: string): void {
  if (!SLOW) {
    console.log(
      `Slow ${what} image tests are ignored: set PYLON_SLOW_TESTS=1 to build the real image on a ` +
        "debootstrapped Debian (a few minutes the first time).",
    );
  } else if (DOCKER_IGNORE) {
    console.log(`Slow ${what} image tests are ignored: ${DOCKER_UNAVAILABLE}`);
  }
}

/** Creates the run folders (world-writable: the agent runs as uid 1000). */
export async function makeRunDirs(
  prefix: string,
): Promise<{ root: string; out: string; state: string; workspace: string }> {
  const root = await Deno.makeTempDir({ prefix });
  const dirs = {
    out: join(root, "out"),
    state: join(root, "state"),
    workspace: join(root, "workspace"),
  };
  for (const d of Object.values(dirs)) {
    await Deno.mkdir(d);
    await Deno.chmod(d, 0o777);
  }
  return { root, ...dirs };
}

/** Seconds since `started` (a `performance.now()`), one decimal. */
export function secondsSince(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-15).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text}`);
  }
}

async function commandExists(name: string): Promise<boolean> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "null" })
    .output();
  return out.success;
}

/** The cached Debian base image, created with debootstrap + import when missing. */
export async function ensureDebianBase(docker: DockerClient): Promise<string> {
  const ref = `${DEBIAN_REPO}:${DEBIAN_TAG}`;
  if (await docker.inspectImage(ref)) return ref;
  if (Deno.uid() !== 0) throw new Error(`Cannot create ${ref}: debootstrap needs root`);
  if (!await commandExists("debootstrap")) {
    console.log("Installing debootstrap with apt-get…");
    await run("apt-get", ["install", "-y", "debootstrap"]);
  }
  const dir = await Deno.makeTempDir({ prefix: "pylon-debootstrap-" });
  try {
    let started = performance.now();
    await run("debootstrap", [
      "--variant=minbase",
      "bookworm",
      dir,
      "http://deb.debian.org/debian",
    ]);
    console.log(`debootstrap: ${secondsSince(started)} s`);
    started = performance.now();
    const tar = new Deno.Command("tar", {
      args: ["-C", dir, "--numeric-owner", "-c", "."],
      stdout: "piped",
    }).spawn();
    await docker.importImage(tar.stdout, {
      repo: DEBIAN_REPO,
      tag: DEBIAN_TAG,
      changes: ['CMD ["/bin/bash"]', "LABEL pylon.test=1"],
    });
    const status = await tar.status;
    if (!status.success) throw new Error(`tar of ${dir} failed (exit ${status.code})`);
    console.log(`docker import: ${secondsSince(started)} s`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return ref;
}

/** The host's extra CA certificates (`/usr/local/share/ca-certificates/*.crt`), sorted. */
export async function hostCaCertificates(): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(HOST_CA_DIR)) {
      if (e.isFile && e.name.endsWith(".crt")) out.push(join(HOST_CA_DIR, e.name));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** What one agent container left behind. */
export interface AgentRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  result: Record<string, unknown> | null;
  events: string;
}

/** Runs the agent image like the runner does, with `dirs` mounted; returns what it left. */
export async function runAgent(
  docker: DockerClient,
  image: string,
  dirs: { out: string; state: string; workspace: string },
  env: Record<string, string>,
  extraBinds: string[] = [],
): Promise<AgentRun> {
  await Deno.remove(join(dirs.out, "result.json")).catch(() => {});
  await Deno.remove(join(dirs.out, "events.ndjson")).catch(() => {});
  let id: string | undefined;
  try {
    id = await docker.createContainer({
      Image: image,
      User: "1000:1000",
      Env: Object.entries({
        JOB_ID: "5104e000-0000-4000-8000-000000000000",
        PYLON_OUT: "/pylon/out",
        PYLON_STATE: "/pylon/state",
        HOME: "/pylon/state/home",
        ...env,
      }).map(([k, v]) => `${k}=${v}`),
      Labels: TEST_LABELS,
      HostConfig: {
        NetworkMode: "host",
        Binds: [
          `${dirs.out}:/pylon/out`,
          `${dirs.state}:/pylon/state`,
          `${dirs.workspace}:/workspace`,
          ...extraBinds,
        ],
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
      },
    });
    const wait = await docker.armWait(id, { condition: "next-exit" });
    await docker.startContainer(id);
    const exitCode = await wait.exitCode;
    const logs = await collectLogs(docker.containerLogs(id));
    let result: Record<string, unknown> | null = null;
    try {
      result = JSON.parse(await Deno.readTextFile(join(dirs.out, "result.json")));
    } catch {
      result = null;
    }
    const events = await Deno.readTextFile(join(dirs.out, "events.ndjson")).catch(() => "");
    return { exitCode, ...logs, result, events };
  } finally {
    await removeQuietly(docker, id);
  }
}

/** Builds (or finds cached) the agent image of `type` on the Debian base with the host's CAs. */
export async function buildOnDebian(docker: DockerClient, type: AgentImageType): Promise<string> {
  const base = await ensureDebianBase(docker);
  const caCertificates = await hostCaCertificates();
  const started = performance.now();
  let built = false;
  const image = await ensureAgentImage({
    type,
    docker,
    baseImage: base,
    caCertificates,
    onBuild: (ref) => {
      built = true;
      console.log(`Building ${ref} on ${base} with ${caCertificates.length} CA file(s)`);
    },
    onProgress: (line) => {
      if (/^Step \d+\/\d+ : /.test(line)) console.log(`  ${line.slice(0, 100)}`);
    },
  });
  console.log(
    built ? `${type} image built in ${secondsSince(started)} s` : `${type} image cached (${image})`,
  );
  return image;
}
