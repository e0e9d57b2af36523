/**
 * Subprocesses of the ingest benchmark: the real daemon (`deno run` with exactly the `pylon`
 * task's permission flags, like the compiled binary) and the bare `Deno.serve` baseline. Both
 * have their output drained continuously (the daemon logs one line per accepted job; an undrained
 * pipe would stall it) and are killed on dispose, so `await using` cleans up even on failure.
 *
 * @module
 */

import { join } from "node:path";
import { type EngineStub, startEngineStub, STUB_API_VERSION } from "./_engine_stub.ts";

const ROOT = new URL("../../", import.meta.url);
const DENO_JSON = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const MAIN = new URL("main.ts", ROOT).pathname;
const BASELINE = new URL("baseline_server.ts", import.meta.url).pathname;
const FLOOR = new URL("floor_server.ts", import.meta.url).pathname;

/** How to install adnanh/webhook, the peer baseline. */
export const WEBHOOK_INSTALL = "apt-get install -y webhook";

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
  /** `stub` (default): an Engine that runs nothing; `real`: this process's Docker Engine. */
  engine?: "stub" | "real";
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
  const engine = options.engine === "real"
    ? realEngine()
    : startEngineStub(join(root, "docker-stub.sock"));
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
      ...(options.engine === "real" ? {} : { DOCKER_API_VERSION: STUB_API_VERSION }),
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

/** The Docker Engine this process would use (`DOCKER_HOST`, else the default socket). */
function realEngine(): EngineStub {
  return {
    dockerHost: Deno.env.get("DOCKER_HOST") ?? "unix:///var/run/docker.sock",
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
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

/**
 * Starts the floor server (`floor_server.ts`): the signature, the parse, a group-committed
 * INSERT into `dbPath` and one stdout line per job, serving `path`.
 */
export async function startFloor(dbPath: string, secret: string, path: string): Promise<Server> {
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      FLOOR,
      "--db",
      dbPath,
      "--secret",
      secret,
      "--path",
      path,
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

/**
 * Starts adnanh/webhook (Debian's `webhook`) with one hook, `id`, that checks the GitHub
 * signature (`payload-hmac-sha256` on `X-Hub-Signature-256`) and then runs `/bin/true`, answering
 * 202; the URL returned is the hook's. Null when `webhook` is not installed.
 */
export async function startAdnanhWebhook(
  scratch: string,
  id: string,
  secret: string,
): Promise<Server | null> {
  const hooks = join(scratch, "hooks.json");
  await Deno.writeTextFile(
    hooks,
    JSON.stringify([{
      id,
      "execute-command": "/bin/true",
      "success-http-response-code": 202,
      "trigger-rule": {
        match: {
          type: "payload-hmac-sha256",
          secret,
          parameter: { source: "header", name: "X-Hub-Signature-256" },
        },
      },
    }]),
  );
  const port = freePort();
  const command = new Deno.Command("webhook", {
    args: ["-hooks", hooks, "-ip", "127.0.0.1", "-port", String(port)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  try {
    // It prints nothing without -verbose (which logs every request): wait for the port instead.
    return await spawnUntilListening(
      command,
      () => `http://127.0.0.1:${port}/hooks`,
      () =>
        Deno.connect({ hostname: "127.0.0.1", port }).then((c) => {
          c.close();
          return true;
        }, () => false),
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

async function spawnUntilListening(
  command: Deno.Command,
  urlOf: (stdout: string) => string,
  ready: RegExp | (() => Promise<boolean>) = /listening on \S+:\d+/,
): Promise<Server> {
  const child = command.spawn();
  let tail = "";
  const { promise: listening, resolve } = Promise.withResolvers<string>();
  let polling = typeof ready === "function";
  if (typeof ready === "function") {
    (async () => {
      while (polling) {
        if (await ready()) return resolve(urlOf(tail));
        await delay(50);
      }
    })();
  }
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (
      const text of stream.pipeThrough(
        new TextDecoderStream() as TransformStream<Uint8Array, string>,
      )
    ) {
      tail = (tail + text).slice(-8192);
      const url = ready instanceof RegExp && ready.test(tail) ? urlOf(tail) : undefined;
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
    polling = false;
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

/**
 * CPU time a process has used so far (user + system, all its threads), in milliseconds, from
 * `/proc/<pid>/stat` (through `cat`, like {@linkcode procMemory}). Less noisy than req/s on a
 * shared machine: other work slows a server down but hardly changes what each request costs it.
 */
export async function procCpuMs(pid: number): Promise<number> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/stat`], stderr: "null" })
    .output();
  // The fields after the command name, which is in parentheses and may contain spaces.
  const fields = new TextDecoder().decode(out.stdout).split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  if (!Number.isFinite(ticks)) throw new Error(`no utime/stime in /proc/${pid}/stat`);
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
