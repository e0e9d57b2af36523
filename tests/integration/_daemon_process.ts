/**
 * The real daemon and CLI as subprocesses, for tests that `kill -9` a daemon and start it again
 * beside CLI commands: `pylon start` with its stderr log collected line by line, `pylon <cmd>`
 * with a timeout, and the `job=` fields of logfmt events.
 *
 * @module
 */

import { pylonCommand } from "../_helpers/process.ts";

/** One `pylon` daemon subprocess and the log lines it wrote so far. */
export interface DaemonProcess {
  child: Deno.ChildProcess;
  /** stderr, one logfmt line per entry. */
  log: string[];
  /** Both output streams read to their end. */
  drained: Promise<unknown>;
  exited: boolean;
}

/** A finished CLI run. */
export interface CliRun {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

/** A loopback port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function collectLines(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  let rest = "";
  for await (
    const text of stream.pipeThrough(new TextDecoderStream() as TransformStream<Uint8Array, string>)
  ) {
    const parts = (rest + text).split("\n");
    rest = parts.pop()!;
    into.push(...parts);
  }
  if (rest) into.push(rest);
}

/** Starts `pylon start` and waits for `daemon.listening`. */
export async function startDaemon(env: Record<string, string>): Promise<DaemonProcess> {
  const child = pylonCommand(["start"], { env }).spawn();
  const log: string[] = [];
  const out: string[] = [];
  const daemon: DaemonProcess = {
    child,
    log,
    drained: Promise.all([collectLines(child.stdout, out), collectLines(child.stderr, log)]),
    exited: false,
  };
  child.status.then(() => daemon.exited = true);
  const until = Date.now() + 30_000;
  while (!log.some((l) => l.includes("event=daemon.listening"))) {
    if (daemon.exited || Date.now() > until) {
      if (!daemon.exited) child.kill("SIGKILL");
      await child.status;
      await daemon.drained;
      throw new Error(`pylon start did not start listening:\n${log.join("\n")}`);
    }
    await delay(25);
  }
  return daemon;
}

/** Stops a daemon (SIGKILL if it ignores `signal` for 15 s) and reads its output to the end. */
export async function stopDaemon(
  daemon: DaemonProcess,
  signal: "SIGTERM" | "SIGKILL",
): Promise<void> {
  if (!daemon.exited) {
    daemon.child.kill(signal);
    const timer = setTimeout(() => killQuietly(daemon.child), 15_000);
    await daemon.child.status;
    clearTimeout(timer);
  }
  await daemon.drained;
}

/** Runs the `pylon` CLI to completion, killing it after `timeoutMs`. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<CliRun> {
  const child = pylonCommand(args, { env }).spawn();
  const timer = setTimeout(() => killQuietly(child), timeoutMs);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { args, code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL, unless the process has already exited (which would throw). */
function killQuietly(child: Deno.ChildProcess): void {
  try {
    child.kill("SIGKILL");
  } catch {
    // it exited on its own
  }
}

/** `job=<id8>` of every line of `event`, with the line's `status=` when it has one. */
export function eventJobs(log: readonly string[], event: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of log) {
    if (!line.includes(` event=${event} `)) continue;
    const job = / job=([0-9a-f]{8})\b/.exec(line)?.[1];
    if (job) found.set(job, / status=(\w+)/.exec(line)?.[1] ?? "");
  }
  return found;
}

/** The first line of a CLI's stderr that is not Deno's own download noise. */
export function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim() && !/^(Download|Initialize) /.test(l))?.trim() ??
    "";
}
