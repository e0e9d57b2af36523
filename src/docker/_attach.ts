/**
 * Interactive exec (`pylon attach`): `POST /containers/{id}/exec` with stdin and a TTY, then
 * `POST /exec/{id}/start` upgraded to a raw stream. `fetch` cannot hijack a connection, so the
 * start request is written by hand on a socket of our own (Unix or plain TCP).
 *
 * @module
 */

import { concatBytes } from "../bytes.ts";
import { DockerError } from "./errors.ts";
import type { EngineTransport } from "./transport.ts";

/** A live interactive exec: write keystrokes, read the terminal's output. */
export interface ExecSession {
  /** The terminal output (TTY mode: one raw stream). */
  readable: ReadableStream<Uint8Array>;
  /** Sends input. */
  write(data: Uint8Array): Promise<void>;
  /** Tells the TTY its size. */
  resize(rows: number, columns: number): Promise<void>;
  /** The command's exit code once it ended. */
  exitCode(): Promise<number | null>;
  close(): void;
}

/** Options of {@linkcode openExecSession}. */
export interface ExecSessionOptions {
  cmd: string[];
  env?: string[] | undefined;
  user?: string | undefined;
  workingDir?: string | undefined;
}

/** Starts an interactive command with a TTY in a running container. */
export async function openExecSession(
  t: EngineTransport,
  containerId: string,
  opts: ExecSessionOptions,
): Promise<ExecSession> {
  const action = `open a shell in container ${containerId.slice(0, 12)}`;
  const { Id: execId } = await t.json<{ Id: string }>(
    { op: "exec.create", action },
    `/containers/${encodeURIComponent(containerId)}/exec`,
    {
      method: "POST",
      json: {
        Cmd: opts.cmd,
        Env: opts.env,
        User: opts.user,
        WorkingDir: opts.workingDir,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
      },
    },
  );
  const version = await t.apiVersion();
  const endpoint = t.endpoint;
  let conn: Deno.Conn;
  if (endpoint.kind === "unix") {
    conn = await Deno.connect({ transport: "unix", path: endpoint.socketPath });
  } else {
    if (endpoint.tls) {
      throw new DockerError(
        `Cannot ${action}: interactive sessions over TLS are not supported yet`,
        {
          op: "exec.start",
          status: 0,
          hint: "run `docker exec -it` on the Docker host instead",
        },
      );
    }
    const url = new URL(endpoint.baseUrl);
    conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 2375) });
  }
  const body = JSON.stringify({ Detach: false, Tty: true });
  const request = `POST /v${version}/exec/${execId}/start HTTP/1.1\r\nHost: docker\r\n` +
    `Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body}`;
  await writeAll(conn, new TextEncoder().encode(request));
  const { status, rest } = await readHead(conn);
  if (status !== 101 && status !== 200) {
    conn.close();
    throw new DockerError(`Cannot ${action}: the Engine answered ${status}`, {
      op: "exec.start",
      status,
    });
  }
  let closed = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length > 0) controller.enqueue(rest);
    },
    async pull(controller) {
      const buf = new Uint8Array(16 * 1024);
      let n: number | null = null;
      try {
        n = closed ? null : await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) controller.close();
      else controller.enqueue(buf.slice(0, n));
    },
    cancel() {
      close();
    },
  });
  function close() {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch {
      // already closed by the Engine
    }
  }
  return {
    readable,
    write: (data) => writeAll(conn, data),
    async resize(rows, columns) {
      await t.send({ op: "exec.resize", action }, `/exec/${execId}/resize`, {
        method: "POST",
        query: { h: String(rows), w: String(columns) },
      });
    },
    async exitCode() {
      const info = await t.json<{ ExitCode: number | null }>(
        { op: "exec.inspect", action },
        `/exec/${execId}/json`,
      );
      return info.ExitCode;
    },
    close,
  };
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

/** Reads the HTTP status line and headers; returns what was read past them. */
async function readHead(conn: Deno.Conn): Promise<{ status: number; rest: Uint8Array }> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) throw new Error("the Engine closed the connection before answering");
    chunks.push(buf.slice(0, n));
    const all = concatBytes(chunks);
    const text = new TextDecoder().decode(all);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const headBytes = new TextEncoder().encode(text.slice(0, end + 4)).length;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      return { status, rest: all.slice(headBytes) };
    }
    if (all.length > 64 * 1024) throw new Error("the Engine's answer headers are too long");
  }
}
