/**
 * Swarm operations of the Engine client: services (create, inspect, list, remove, logs), their
 * tasks, the swarm and its nodes. Used by the Swarm backend (`src/runner/swarm*.ts`).
 *
 * @module
 */

import type { LogsOptions, SignalOptions } from "./client.ts";
import { demuxStream } from "./demux.ts";
import { engineError, envValues } from "./errors.ts";
import { splitImageRef } from "./_images.ts";
import { type EngineTransport, labelFilter } from "./transport.ts";
import type { LogChunk, ServiceInfo, ServiceSpec, SwarmNode, TaskInfo } from "./types.ts";

/** `POST /services/create`; returns the id. Env values are kept out of any error. */
export async function createService(
  t: EngineTransport,
  spec: ServiceSpec,
  opts: SignalOptions = {},
): Promise<string> {
  const ctx = {
    op: "service.create",
    action: `create service "${spec.Name}"`,
    image: spec.TaskTemplate.ContainerSpec.Image,
    secrets: envValues(spec.TaskTemplate.ContainerSpec.Env),
  };
  const res = await t.json<{ ID: string }>(ctx, "/services/create", {
    method: "POST",
    json: spec,
    signal: opts.signal,
  });
  return res.ID;
}

/** `GET /services/{id}`; null on 404. */
export async function inspectService(
  t: EngineTransport,
  id: string,
  opts: SignalOptions = {},
): Promise<ServiceInfo | null> {
  const ctx = { op: "service.inspect", action: `inspect service "${id}"` };
  return await t.jsonOrNull<ServiceInfo>(ctx, `/services/${encodeURIComponent(id)}`, {
    signal: opts.signal,
  });
}

/** `GET /services` with label filters. */
export async function listServices(
  t: EngineTransport,
  opts: { labels?: Record<string, string | true> | undefined } & SignalOptions = {},
): Promise<ServiceInfo[]> {
  const ctx = { op: "service.list", action: "list services" };
  const label = labelFilter(opts.labels);
  return await t.json<ServiceInfo[]>(ctx, "/services", {
    query: { filters: label.length > 0 ? JSON.stringify({ label }) : undefined },
    signal: opts.signal,
  });
}

/** `DELETE /services/{id}`; false on 404. Its tasks' containers go with it. */
export async function removeService(
  t: EngineTransport,
  id: string,
  opts: SignalOptions = {},
): Promise<boolean> {
  const ctx = { op: "service.remove", action: `remove service "${id}"` };
  const status = await t.send(ctx, `/services/${encodeURIComponent(id)}`, {
    method: "DELETE",
    allow: [404],
    signal: opts.signal,
  });
  return status !== 404;
}

/** `GET /services/{id}/logs` (no TTY: multiplexed frames). */
export async function* serviceLogs(
  t: EngineTransport,
  id: string,
  opts: LogsOptions = {},
): AsyncGenerator<LogChunk> {
  const ctx = { op: "service.logs", action: `read the logs of service "${id}"` };
  const since = opts.since instanceof Date ? opts.since.getTime() / 1000 : opts.since;
  const res = await t.request(ctx, `/services/${encodeURIComponent(id)}/logs`, {
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
  yield* demuxStream(res.body);
}

/** `GET /tasks?filters={"service":[id]}`. */
export async function serviceTasks(
  t: EngineTransport,
  serviceId: string,
  opts: SignalOptions = {},
): Promise<TaskInfo[]> {
  const ctx = { op: "task.list", action: `list the tasks of service "${serviceId}"` };
  return await t.json<TaskInfo[]>(ctx, "/tasks", {
    query: { filters: JSON.stringify({ service: [serviceId] }) },
    signal: opts.signal,
  });
}

/** `GET /info` → `Swarm.LocalNodeState` (`inactive`, `active`, `pending`, `error`, `locked`). */
export async function swarmState(t: EngineTransport, opts: SignalOptions = {}): Promise<string> {
  const ctx = { op: "swarm.info", action: "read the Swarm state" };
  const info = await t.json<{ Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }>(
    ctx,
    "/info",
    { signal: opts.signal },
  );
  const state = info.Swarm?.LocalNodeState || "inactive";
  return state === "active" && info.Swarm?.ControlAvailable === false ? "worker" : state;
}

/** `GET /nodes`. */
export async function listNodes(
  t: EngineTransport,
  opts: SignalOptions = {},
): Promise<SwarmNode[]> {
  const ctx = { op: "node.list", action: "list the Swarm's nodes" };
  return await t.json<SwarmNode[]>(ctx, "/nodes", { signal: opts.signal });
}

/** `POST /images/{ref}/tag?repo=…&tag=…`. */
export async function tagImage(
  t: EngineTransport,
  ref: string,
  repo: string,
  tag: string,
  opts: SignalOptions = {},
): Promise<void> {
  const ctx = { op: "image.tag", action: `tag image "${ref}" as ${repo}:${tag}`, image: ref };
  await t.send(ctx, `/images/${encodeURIComponent(ref)}/tag`, {
    method: "POST",
    query: { repo, tag },
    signal: opts.signal,
  });
}

/** `POST /images/{name}/push?tag=…`, reading the progress to its end (an error line throws). */
export async function pushImage(
  t: EngineTransport,
  ref: string,
  opts: SignalOptions = {},
): Promise<void> {
  const ctx = { op: "image.push", action: `push image "${ref}"`, image: ref };
  const { name, tag } = splitImageRef(ref);
  const res = await t.request(ctx, `/images/${encodeURIComponent(name)}/push`, {
    method: "POST",
    query: { tag },
    // Engine 20.10 refuses a push without this header ("Bad parameters and missing
    // X-Registry-Auth"); `{}` pushes without credentials (the README's registry note).
    headers: { "X-Registry-Auth": btoa("{}") },
    signal: opts.signal,
    timeoutMs: 30 * 60_000,
  });
  const text = await res.text();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const event = JSON.parse(line) as { error?: string };
    if (event.error) throw engineError(ctx, res.status, event.error);
  }
}
