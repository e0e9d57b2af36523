/**
 * The bearer token of the control API, kept in `$PYLON_HOME/daemon.token` (0600), created on the
 * daemon's first start and read by the CLI.
 *
 * @module
 */

import { PylonError } from "../errors.ts";

/** Reads the token, creating it (32 random bytes, hex) when absent. */
export async function ensureDaemonToken(path: string): Promise<string> {
  const existing = await readDaemonToken(path);
  if (existing) return existing;
  const token = [...crypto.getRandomValues(new Uint8Array(32))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await Deno.writeTextFile(path, token + "\n", { mode: 0o600, createNew: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    return (await readDaemonToken(path))!; // another process created it first
  }
  return token;
}

/** Reads the token; `null` when the daemon never started here. */
export async function readDaemonToken(path: string): Promise<string | null> {
  try {
    const text = (await Deno.readTextFile(path)).trim();
    if (text === "") {
      throw new PylonError(`The daemon token file ${path} is empty`, {
        hint: "delete it; the daemon creates a new one on its next start",
      });
    }
    return text;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Compares a presented bearer token with the real one in constant time. */
export function tokenMatches(presented: string | undefined, token: string): boolean {
  if (presented === undefined) return false;
  const a = new TextEncoder().encode(presented);
  const b = new TextEncoder().encode(token);
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}
