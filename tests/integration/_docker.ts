// deno-lint-ignore-file no-console
/**
 * Harness for tests that use the real Docker Engine.
 *
 * - Reachability is probed once when this module loads (`/_ping` through the project client,
 *   honouring `DOCKER_HOST`, 3 s timeout). {@linkcode dockerTest} then registers each test:
 *   Engine reachable → it runs with a fresh `DockerClient` (closed afterwards);
 *   unreachable → it is registered with `ignore: true`, so `deno test` reports it as *ignored*,
 *   and the reason is printed once per test file; unreachable with `PYLON_REQUIRE_DOCKER=1`
 *   (CI) → it runs and fails with the reason.
 * - {@linkcode ensureTestImage} returns `pylon-test/busybox:<digest>`, an image imported from a
 *   root filesystem tar built in memory from the host's statically linked `/bin/busybox`
 *   (package `busybox-static`; `PYLON_TEST_BUSYBOX` overrides the path) with applet symlinks
 *   (sh, echo, cat, sleep, id, …), `/tmp`, and users root and `pylon` (1000). The tar is
 *   reproducible, so its sha256 names the tag: an existing tag is reused after one inspect;
 *   otherwise the import takes a few hundred milliseconds. It is a cache and is not removed.
 * - Everything a test creates carries {@linkcode TEST_LABELS} (`pylon.test=1`) and is removed in
 *   the test's `finally`; `docker ps -a --filter label=pylon.test` finds leftovers.
 *
 * @module
 */

import {
  createDockerClient,
  type DockerClient,
  DockerError,
  type LogChunk,
  tarBytes,
  type TarBytesEntry,
} from "../../src/docker/mod.ts";
import { createPylonPaths } from "../../src/config/mod.ts";
import { LABELS } from "../../src/runner/container_spec.ts";
import { homeLabel } from "../../src/runner/docker_runner.ts";

/** Labels every test object carries. */
export const TEST_LABELS: Record<string, string> = { "pylon.test": "1" };
/** Repository of the busybox test image. */
export const TEST_IMAGE_REPO = "pylon-test/busybox";

const REQUIRED = Deno.env.get("PYLON_REQUIRE_DOCKER") === "1";
// deno-fmt-ignore
const APPLETS = [
  "sh", "echo", "cat", "sleep", "ls", "mkdir", "rm", "cp", "mv", "ln", "env", "id", "true",
  "false", "printf", "test", "[", "touch", "chmod", "chown", "wc", "grep", "sed", "head", "tail",
  "tr", "date", "whoami", "ps", "kill", "pwd", "tee", "sort", "uname", "hostname", "find", "stat",
  "yes", "seq", "dd", "base64", "sha256sum", "wget", "nc", "timeout", "xargs", "awk", "readlink",
];

/** Why Docker tests cannot run here, or undefined when the Engine answered. */
export const DOCKER_UNAVAILABLE: string | undefined = await probe();
/** Whether {@linkcode dockerTest} registers tests as ignored. */
export const DOCKER_IGNORE = DOCKER_UNAVAILABLE !== undefined && !REQUIRED;

if (DOCKER_IGNORE) {
  console.log(
    `Docker integration tests are ignored: ${DOCKER_UNAVAILABLE}. ` +
      "Set PYLON_REQUIRE_DOCKER=1 to make them fail instead.",
  );
}

/** Registers a test that needs the real Engine (see the module doc for skip/fail rules). */
export function dockerTest(
  name: string,
  fn: (docker: DockerClient, t: Deno.TestContext) => Promise<void>,
): void {
  Deno.test({
    name,
    ignore: DOCKER_IGNORE,
    async fn(t) {
      using docker = openTestDocker();
      await fn(docker, t);
    },
  });
}

/** Opens a client for a test (`using`); throws loudly when Docker is required but unreachable. */
export function openTestDocker(): DockerClient {
  if (DOCKER_UNAVAILABLE !== undefined) {
    throw new Error(
      `Docker is required (PYLON_REQUIRE_DOCKER=1) and unreachable: ${DOCKER_UNAVAILABLE}`,
    );
  }
  return createDockerClient({ env: Deno.env.toObject() });
}

let imagePromise: Promise<string> | undefined;

/** Returns the busybox test image reference, importing it on first use. */
export function ensureTestImage(docker: DockerClient): Promise<string> {
  imagePromise ??= importTestImage(docker).catch((e) => {
    imagePromise = undefined;
    throw e;
  });
  return imagePromise;
}

/** Collects a log stream into text per stream. */
export async function collectLogs(
  logs: AsyncIterable<LogChunk>,
): Promise<{ stdout: string; stderr: string }> {
  const out = { stdout: "", stderr: "" };
  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  for await (const chunk of logs) {
    out[chunk.stream] += decoders[chunk.stream].decode(chunk.data, { stream: true });
  }
  return out;
}

/** Removes a container, ignoring errors (for `finally`). */
export async function removeQuietly(docker: DockerClient, id: string | undefined): Promise<void> {
  if (id) await docker.removeContainer(id, { force: true, volumes: true }).catch(() => {});
}

async function probe(): Promise<string | undefined> {
  let docker: DockerClient | undefined;
  try {
    docker = createDockerClient({ env: Deno.env.toObject() });
    await docker.ping({ signal: AbortSignal.timeout(3000) });
    return undefined;
  } catch (e) {
    if (e instanceof DockerError) return `${e.message} (${e.hint})`;
    return `the Docker Engine is unreachable: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    docker?.close();
  }
}

async function importTestImage(docker: DockerClient): Promise<string> {
  const rootfs = tarBytes(rootfsEntries(await readBusybox()));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", rootfs as BufferSource));
  const tag = Array.from(hash.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
  const ref = `${TEST_IMAGE_REPO}:${tag}`;
  if (await docker.inspectImage(ref)) return ref;
  await docker.importImage(rootfs, {
    repo: TEST_IMAGE_REPO,
    tag,
    changes: ['CMD ["/bin/sh"]', "ENV PATH=/bin", "LABEL pylon.test=1"],
  });
  return ref;
}

async function readBusybox(): Promise<Uint8Array> {
  const candidates = [Deno.env.get("PYLON_TEST_BUSYBOX"), "/bin/busybox", "/usr/bin/busybox"];
  for (const path of candidates) {
    if (!path) continue;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch {
      continue;
    }
    const head = new TextDecoder("latin1").decode(bytes.subarray(0, 4096));
    if (/ld-linux|ld-musl/.test(head)) {
      throw new Error(
        `Cannot build the test image: ${path} is dynamically linked; ` +
          "install busybox-static (`apt-get install -y busybox-static`)",
      );
    }
    return bytes;
  }
  throw new Error(
    "Cannot build the test image: no busybox found at /bin/busybox; " +
      "install busybox-static (`apt-get install -y busybox-static`) or set PYLON_TEST_BUSYBOX",
  );
}

function rootfsEntries(busybox: Uint8Array): TarBytesEntry[] {
  return [
    { type: "dir", path: "bin" },
    { type: "file", path: "bin/busybox", data: busybox, mode: 0o755 },
    ...APPLETS.map((a): TarBytesEntry => ({
      type: "symlink",
      path: `bin/${a}`,
      target: "busybox",
    })),
    { type: "dir", path: "etc" },
    {
      type: "file",
      path: "etc/passwd",
      data: "root:x:0:0:root:/root:/bin/sh\npylon:x:1000:1000:pylon:/home/pylon:/bin/sh\n" +
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    },
    { type: "file", path: "etc/group", data: "root:x:0:\npylon:x:1000:\nnogroup:x:65534:\n" },
    { type: "dir", path: "root", mode: 0o700 },
    { type: "dir", path: "home" },
    { type: "dir", path: "home/pylon", uid: 1000, gid: 1000 },
    { type: "dir", path: "tmp", mode: 0o1777 },
  ];
}

/**
 * Removes every container a daemon of the pylon home `root` started (its `pylon.home` label):
 * what a daemon stopped or killed mid-job leaves for the next one to re-attach.
 */
export async function removeHomeContainers(docker: DockerClient, root: string): Promise<void> {
  const containers = await docker.listContainers({
    all: true,
    labels: { [LABELS.home]: homeLabel(createPylonPaths(root).jobsDir) },
  });
  for (const { Id } of containers) {
    await docker.removeContainer(Id, { force: true, volumes: true }).catch(() => {});
  }
}
