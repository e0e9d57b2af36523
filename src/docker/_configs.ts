/**
 * Swarm configs of the Engine client: files every task may read (the CA bundle of
 * `docker.ca_certificates`), immutable, shared by the services that reference them.
 *
 * @module
 */

import type { SignalOptions } from "./client.ts";
import { type EngineTransport, labelFilter } from "./transport.ts";

/** One entry of `GET /configs` (subset: never the data). */
export interface ConfigInfo {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> };
}

/**
 * `POST /configs/create`; returns the id, or null when a config of that name exists (409): a
 * config never changes, so a name made of the content's hash names the same bytes.
 */
export async function createConfig(
  t: EngineTransport,
  name: string,
  data: Uint8Array,
  opts: { labels?: Record<string, string> | undefined } & SignalOptions = {},
): Promise<string | null> {
  const ctx = { op: "config.create", action: `create config "${name}"` };
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  const res = await t.request(ctx, "/configs/create", {
    method: "POST",
    json: { Name: name, Labels: opts.labels ?? {}, Data: btoa(s) },
    allow: [409],
    signal: opts.signal,
  });
  if (res.status === 409) {
    await res.body?.cancel();
    return null;
  }
  return ((await res.json()) as { ID: string }).ID;
}

/** `GET /configs` with label and name filters (the name filter matches exactly here). */
export async function listConfigs(
  t: EngineTransport,
  opts: { labels?: Record<string, string> | undefined; name?: string | undefined } & SignalOptions =
    {},
): Promise<ConfigInfo[]> {
  const ctx = { op: "config.list", action: "list configs" };
  const filters: Record<string, string[]> = {};
  const label = labelFilter(opts.labels);
  if (label.length > 0) filters.label = label;
  if (opts.name) filters.name = [opts.name];
  const list = await t.json<ConfigInfo[]>(ctx, "/configs", {
    query: { filters: Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined },
    signal: opts.signal,
  });
  // The Engine's name filter matches prefixes.
  return opts.name ? list.filter((c) => c.Spec.Name === opts.name) : list;
}

/** `DELETE /configs/{id}`; false on 404. The Engine refuses a config a service uses. */
export async function removeConfig(
  t: EngineTransport,
  id: string,
  opts: SignalOptions = {},
): Promise<boolean> {
  const ctx = { op: "config.remove", action: `remove config "${id}"` };
  const status = await t.send(ctx, `/configs/${encodeURIComponent(id)}`, {
    method: "DELETE",
    allow: [404],
    signal: opts.signal,
  });
  return status !== 404;
}
