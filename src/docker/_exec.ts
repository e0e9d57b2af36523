/**
 * Non-interactive exec: run a command in a running container and capture its output.
 * (Interactive attach with stdin and a TTY is a later addition.)
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import type { SignalOptions } from "./client.ts";
import { demuxStream, rawStream } from "./demux.ts";
import { DockerError, envValues } from "./errors.ts";
import type { EngineTransport } from "./transport.ts";
import type { ExecResult, ExecSpec } from "./types.ts";

interface ExecInspect {
  Running: boolean;
  ExitCode: number | null;
  ProcessConfig: { tty: boolean };
}

/** `POST /containers/{id}/exec` with stdout and stderr attached; returns the exec id. */
export async function createExec(
  t: EngineTransport,
  containerId: string,
  spec: ExecSpec,
  opts: SignalOptions = {},
): Promise<string> {
  const ctx = {
    op: "exec.create",
    action: `run a command in container ${containerId.slice(0, 12)}`,
    secrets: envValues(spec.Env),
  };
  const res = await t.json<{ Id: string }>(
    ctx,
    `/containers/${encodeURIComponent(containerId)}/exec`,
    {
      method: "POST",
      json: { ...spec, AttachStdin: false, AttachStdout: true, AttachStderr: true },
      signal: opts.signal,
    },
  );
  return res.Id;
}

/** `POST /exec/{id}/start`, reading the output to its end, then the exit code. */
export async function startExec(
  t: EngineTransport,
  execId: string,
  opts: SignalOptions = {},
): Promise<ExecResult> {
  const ctx = { op: "exec.start", action: `run exec ${execId.slice(0, 12)}` };
  const before = await inspectExec(t, execId, opts.signal);
  const tty = before.ProcessConfig.tty;
  const res = await t.request(ctx, `/exec/${encodeURIComponent(execId)}/start`, {
    method: "POST",
    json: { Detach: false, Tty: tty },
    signal: opts.signal,
  });
  const out: Uint8Array[] = [];
  const err: Uint8Array[] = [];
  if (res.body) {
    for await (const piece of tty ? rawStream(res.body) : demuxStream(res.body)) {
      (piece.stream === "stdout" ? out : err).push(piece.data.slice());
    }
  }
  // The Engine may close the stream a moment before it records the exit code.
  for (let i = 0; i < 50; i++) {
    const after = await inspectExec(t, execId, opts.signal);
    if (!after.Running && after.ExitCode !== null) {
      return { exitCode: after.ExitCode, stdout: concatBytes(out), stderr: concatBytes(err) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new DockerError(`Cannot ${ctx.action}: its output ended but it did not exit`, {
    op: ctx.op,
    hint: "inspect it with `docker inspect` on the container; the command may have detached",
  });
}

async function inspectExec(
  t: EngineTransport,
  execId: string,
  signal: AbortSignal | undefined,
): Promise<ExecInspect> {
  const ctx = { op: "exec.inspect", action: `inspect exec ${execId.slice(0, 12)}` };
  return await t.json<ExecInspect>(ctx, `/exec/${encodeURIComponent(execId)}/json`, { signal });
}
