/**
 * Subprocesses of the ingest benchmark: the real daemon (`deno run` with exactly the `pylon`
 * task's permission flags, like the compiled binary) and the bare `Deno.serve` baseline. Both
 * have their output drained continuously (the daemon logs one line per accepted job; an undrained
 * pipe would stall it) and are killed on dispose, so `await using` cleans up even on failure.
 *
 * @module
 */

import { join } from "node:path";
import { startEngineStub, STUB_API_VERSION } from "./_engine_stub.ts";

const ROOT = new URL("../../", import.meta.url);
const DENO_JSON = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const MAIN = new URL("main.ts", ROOT).pathname;
const BASELINE = new URL("baseline_server.ts", import.meta.url).pathname;

/** The `--allow-*` flags of `deno task pylon`. */
export const PYLON_FLAGS: string[] = (DENO_JSON.tasks.pylon as string)
  .split(/\s+/)
  .filter((a) => a.startsWith("--allow-"));

/**
 * The daemon gets `HOME=<temp home>`, which would also move Deno's cache there (and download
 * every npm package again on each start): keep the cache this process uses.
 */
async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" })
    .output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

/** A server subprocess under test. */
export interface Server extends AsyncDisposable {
  readonly pid: number;
  readonly url: string;
  /** The last few KiB of stdout + stderr (for error messages). */
  tail(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
  stop(): Promise<void>;
}

/** A free loopback TCP port. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Options of {@linkcode startDaemon}. */
export interface DaemonOptions {
  /** Extra `deno run` flags, e.g. `["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]`. */
  denoArgs?: string[];
}

/**
 * Starts `pylon start` on `root` (a prepared PYLON_HOME) and waits until it listens.
 *
 * The daemon's `DOCKER_HOST` is a stub Engine (`_engine_stub.ts`) that lets it start but runs
 * nothing, so every accepted job stays `queued` and no container is started; the stub stops
 * with the daemon.
 */
export async function startDaemon(root: string, options: DaemonOptions = {}): Promise<Server> {
  const port = freePort();
  const engine = startEngineStub(join(root, "docker-stub.sock"));
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...PYLON_FLAGS,
      ...(options.denoArgs ?? []),
      MAIN,
      "start",
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    env: {
      NO_COLOR: "1",
      PYLON_HOME: root,
      HOME: root,
      DENO_DIR: await denoDir(),
      DOCKER_HOST: engine.dockerHost,
      DOCKER_API_VERSION: STUB_API_VERSION,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  let daemon: Server;
  try {
    daemon = await spawnUntilListening(command, () => `http://127.0.0.1:${port}`);
  } catch (e) {
    await engine[Symbol.asyncDispose]();
    throw e;
  }
  const stop = async () => {
    await daemon.stop();
    await engine[Symbol.asyncDispose]();
  };
  return { ...daemon, stop, [Symbol.asyncDispose]: stop };
}

/**
 * Starts the bare baseline server (`baseline_server.ts`); with `pathFile`, it serves only the
 * path written in that file and re-reads it 100 ms after the file changes (like the daemon).
 */
export async function startBaseline(pathFile?: string): Promise<Server> {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      BASELINE,
      ...(pathFile ? ["--path-file", pathFile] : []),
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  return await spawnUntilListening(command, (out) => {
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(out)?.[1];
    return `http://127.0.0.1:${port}`;
  });
}

async function spawnUntilListening(
  command: Deno.Command,
  urlOf: (stdout: string) => string,
): Promise<Server> {
  const child = command.spawn();
  let tail = "";
  const { promise: listening, resolve } = Promise.withResolvers<string>();
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      tail = (tail + text).slice(-8192);
      const url = /listening on \S+:\d+/.test(tail) ? urlOf(tail) : undefined;
      if (url) resolve(url);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).catch(() => {});
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // already exited
        }
      }, 5000);
      await child.status;
      clearTimeout(timer);
      await drained;
    })();
  const exited = child.status.then((s) => {
    throw new Error(`server exited (code ${s.code}) before listening:\n${tail}`);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`server did not listen within 60 s:\n${tail}`)),
      60_000,
    );
  });
  let url: string;
  try {
    url = await Promise.race([listening, exited, timeout]);
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  exited.catch(() => {}); // it exits when stopped: not an error any more
  return {
    pid: child.pid,
    url,
    tail: () => tail,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Memory of a process in MiB, from `/proc/<pid>/status`. */
export interface ProcMemory {
  /** `VmRSS`: resident set size. */
  rss: number;
  /** `RssAnon`: heap, stacks (private). */
  anon: number;
  /** `RssFile`: mapped files such as the deno binary and native addons (shared, clean). */
  file: number;
}

/**
 * Reads a process's {@linkcode ProcMemory}, through `cat` because Deno refuses `/proc/<pid>`
 * paths to anything short of `--allow-all`.
 */
export async function procMemory(pid: number): Promise<ProcMemory> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stderr: "null" })
    .output();
  const status = new TextDecoder().decode(out.stdout);
  const mib = (field: string) => {
    const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]);
    if (!Number.isFinite(kb)) throw new Error(`no ${field} in /proc/${pid}/status`);
    return kb / 1024;
  };
  return { rss: mib("VmRSS"), anon: mib("RssAnon"), file: mib("RssFile") };
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
