/**
 * Swarm secrets of the Engine client: a job's token and credentials reach its task as files,
 * never as environment variables visible in `docker service inspect`.
 *
 * @module
 */

import type { SignalOptions } from "./client.ts";
import { type EngineTransport, labelFilter } from "./transport.ts";

/** `POST /secrets/create`; returns the id. The data never appears in an error. */
export async function createSecret(
  t: EngineTransport,
  name: string,
  data: Uint8Array,
  opts: { labels?: Record<string, string> | undefined } & SignalOptions = {},
): Promise<string> {
  const ctx = { op: "secret.create", action: `create secret "${name}"` };
  let s = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    s += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  const res = await t.json<{ ID: string }>(ctx, "/secrets/create", {
    method: "POST",
    json: { Name: name, Labels: opts.labels ?? {}, Data: btoa(s) },
    signal: opts.signal,
  });
  return res.ID;
}

/** `DELETE /secrets/{id}`; false on 404. */
export async function removeSecret(
  t: EngineTransport,
  id: string,
  opts: SignalOptions = {},
): Promise<boolean> {
  const ctx = { op: "secret.remove", action: `remove secret "${id}"` };
  const status = await t.send(ctx, `/secrets/${encodeURIComponent(id)}`, {
    method: "DELETE",
    allow: [404],
    signal: opts.signal,
  });
  return status !== 404;
}

/** `GET /secrets` with label filters: ids, names and labels (never data). */
export async function listSecrets(
  t: EngineTransport,
  opts: { labels?: Record<string, string> | undefined } & SignalOptions = {},
): Promise<{ ID: string; Spec: { Name: string; Labels?: Record<string, string> } }[]> {
  const ctx = { op: "secret.list", action: "list secrets" };
  const label = labelFilter(opts.labels);
  return await t.json(ctx, "/secrets", {
    query: { filters: label.length > 0 ? JSON.stringify({ label }) : undefined },
    signal: opts.signal,
  });
}
