/**
 * Container operations of the Engine client: create, start, wait, logs, kill, remove, inspect, list.
 *
 * @module
 */

import type {
  ContainerWaitHandle,
  ListContainersOptions,
  LogsOptions,
  SignalOptions,
  WaitOptions,
} from "./client.ts";
import { demuxStream, rawStream } from "./demux.ts";
import { engineError, envValues } from "./errors.ts";
import { compareVersions, type EngineTransport, labelFilter } from "./transport.ts";
import type { ContainerInfo, ContainerSpec, ContainerSummary, LogChunk } from "./types.ts";

/** `POST /containers/create`; returns the id. Env values are kept out of any error. */
export async function createContainer(
  t: EngineTransport,
  spec: ContainerSpec,
  opts: { name?: string | undefined } & SignalOptions = {},
): Promise<string> {
  const what = opts.name ? `"${opts.name}"` : `from image "${spec.Image}"`;
  const ctx = {
    op: "container.create",
    action: `create container ${what}`,
    image: spec.Image,
    secrets: envValues(spec.Env),
  };
  const res = await t.json<{ Id: string }>(ctx, "/containers/create", {
    method: "POST",
    query: { name: opts.name },
    json: spec,
    signal: opts.signal,
  });
  return res.Id;
}

/** `POST /containers/{id}/start`; 304 (already running) is fine. */
export async function startContainer(
  t: EngineTransport,
  id: string,
  opts: SignalOptions = {},
): Promise<void> {
  const ctx = { op: "container.start", action: `start container ${short(id)}` };
  await t.send(ctx, `/containers/${enc(id)}/start`, {
    method: "POST",
    allow: [304],
    signal: opts.signal,
  });
}

/** `PUT /containers/{id}/archive?path=…`: extracts `tar` into the container at `path`. */
export async function putArchive(
  t: EngineTransport,
  id: string,
  path: string,
  tar: Uint8Array,
  opts: SignalOptions = {},
): Promise<void> {
  const ctx = { op: "container.archive", action: `copy files into container ${short(id)}` };
  await t.send(ctx, `/containers/${enc(id)}/archive`, {
    method: "PUT",
    query: { path },
    body: tar,
    contentType: "application/x-tar",
    signal: opts.signal,
  });
}

/**
 * `POST /containers/{id}/wait`. The Engine sends the response headers as soon as the wait is
 * registered and the body when the condition is met, so this resolves at registration.
 */
export async function armWait(
  t: EngineTransport,
  id: string,
  opts: WaitOptions = {},
): Promise<ContainerWaitHandle> {
  const ctx = { op: "container.wait", action: `wait for container ${short(id)}` };
  const res = await t.request(ctx, `/containers/${enc(id)}/wait`, {
    method: "POST",
    query: { condition: opts.condition ?? "not-running" },
    signal: opts.signal,
  });
  const exitCode = res.json().then((body: { StatusCode: number; Error?: { Message?: string } }) => {
    if (body.Error?.Message) throw engineError(ctx, res.status, body.Error.Message);
    return body.StatusCode;
  });
  exitCode.catch(() => {}); // a caller that never awaits must not crash the process
  return { exitCode };
}

/** `GET /containers/{id}/logs`, demultiplexed (or raw with a TTY). */
export async function* containerLogs(
  t: EngineTransport,
  id: string,
  opts: LogsOptions = {},
): AsyncGenerator<LogChunk> {
  const ctx = { op: "container.logs", action: `read the logs of container ${short(id)}` };
  const since = opts.since instanceof Date ? opts.since.getTime() / 1000 : opts.since;
  const res = await t.request(ctx, `/containers/${enc(id)}/logs`, {
    query: {
      follow: opts.follow ?? false,
      stdout: opts.stdout ?? true,
      stderr: opts.stderr ?? true,
      since: since === undefined ? undefined : since.toFixed(3),
      tail: opts.tail === undefined ? undefined : String(opts.tail),
    },
    signal: opts.signal,
  });
  if (!res.body) return;
  let tty = opts.tty ?? await ttyFromHeaders(t, res.headers);
  tty ??= (await inspectContainer(t, id, opts))?.Config.Tty ?? false;
  yield* tty ? rawStream(res.body) : demuxStream(res.body);
}

/** `POST /containers/{id}/kill`. */
export async function killContainer(
  t: EngineTransport,
  id: string,
  signal = "SIGKILL",
  opts: SignalOptions = {},
): Promise<void> {
  const ctx = { op: "container.kill", action: `kill container ${short(id)}` };
  await t.send(ctx, `/containers/${enc(id)}/kill`, {
    method: "POST",
    query: { signal },
    signal: opts.signal,
  });
}

/** `DELETE /containers/{id}`; false on 404. */
export async function removeContainer(
  t: EngineTransport,
  id: string,
  opts: { force?: boolean | undefined; volumes?: boolean | undefined } & SignalOptions = {},
): Promise<boolean> {
  const ctx = { op: "container.remove", action: `remove container ${short(id)}` };
  const status = await t.send(ctx, `/containers/${enc(id)}`, {
    method: "DELETE",
    query: { force: opts.force, v: opts.volumes },
    allow: [404],
    signal: opts.signal,
  });
  return status !== 404;
}

/** `GET /containers/{id}/json`; null on 404. */
export async function inspectContainer(
  t: EngineTransport,
  id: string,
  opts: SignalOptions = {},
): Promise<ContainerInfo | null> {
  const ctx = { op: "container.inspect", action: `inspect container ${short(id)}` };
  return await t.jsonOrNull<ContainerInfo>(ctx, `/containers/${enc(id)}/json`, {
    signal: opts.signal,
  });
}

/** `GET /containers/json` with label filters. */
export async function listContainers(
  t: EngineTransport,
  opts: ListContainersOptions = {},
): Promise<ContainerSummary[]> {
  const ctx = { op: "container.list", action: "list containers" };
  const label = labelFilter(opts.labels);
  return await t.json<ContainerSummary[]>(ctx, "/containers/json", {
    query: {
      all: opts.all ?? false,
      filters: label.length > 0 ? JSON.stringify({ label }) : undefined,
    },
    signal: opts.signal,
  });
}

/**
 * Reads the stream kind from `Content-Type`. Trusted only from API 1.42 on: older engines omit
 * it for logs and label multiplexed exec output `raw-stream`.
 */
export async function ttyFromHeaders(
  t: EngineTransport,
  headers: Headers,
): Promise<boolean | undefined> {
  const type = headers.get("content-type");
  if (type === "application/vnd.docker.multiplexed-stream") return false;
  if (type !== "application/vnd.docker.raw-stream") return undefined;
  return compareVersions(await t.apiVersion(), "1.42") >= 0 ? true : undefined;
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

function short(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : `"${id}"`;
}
