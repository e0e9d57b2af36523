/**
 * Temporary PYLON_HOMEs for the ingest benchmark, the GitHub-like request it sends, and a count
 * of the jobs a home's databases hold.
 *
 * @module
 */

import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { signRequest } from "../../src/daemon/mod.ts";
import { BUSY_SLOTS } from "./_busy.ts";

/** The webhook pylon every scenario loads: `gh` at `/gh`, GitHub-signed. */
export const GH_PATH = "/gh";
/** The `gh` pylon's signing secret (the floor and adnanh/webhook check the same one). */
export const GH_SECRET = "bench-secret-0123456789abcdef";
const SIGNATURE_HEADER = "X-Hub-Signature-256";

/** ≈200 bytes of GitHub `pull_request` JSON. */
export const BODY: string = JSON.stringify({
  action: "opened",
  number: 4011,
  pull_request: {
    title: "Fix the login redirect loop",
    head: { ref: "fix/login", sha: "9f3c2b1a9f3c2b1a9f3c2b1a" },
    base: { ref: "main" },
  },
  repository: { full_name: "acme/web" },
  sender: { login: "ada" },
});

/** The request every scenario sends: method, headers (signed once) and body. */
export interface BenchRequest {
  body: string;
  headers: Record<string, string>;
}

/** Signs {@linkcode BODY} once with the `gh` pylon's secret (no delivery id: no dedupe). */
export async function ghRequest(): Promise<BenchRequest> {
  const signature = await signRequest(
    { secret: GH_SECRET, header: SIGNATURE_HEADER },
    new TextEncoder().encode(BODY),
  );
  return {
    body: BODY,
    headers: {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "user-agent": "GitHub-Hookshot/bench",
      ...signature,
    },
  };
}

/** How many pylons a bench home has. */
export interface PylonMix {
  /** Webhook pylons: `gh`, then `hook-02`… at `/hook-02`… (every other one signed). */
  webhookPylons: number;
  /** Cron pylons (`cron-01`…, daily at 03:00). */
  cronPylons: number;
}

/** What goes into a bench home. */
export interface HomeOptions extends Partial<PylonMix> {
  /** An unsigned webhook pylon `edit` at this path (the hot-reload scenario rewrites it). */
  editPath?: string;
  /**
   * A manual pylon `busy` whose jobs sleep for an hour in this image, and
   * `docker.max_concurrent: BUSY_SLOTS` (the real-Engine set-up, `_busy.ts`).
   */
  busyImage?: string;
}

/** A temp PYLON_HOME, removed on dispose. */
export interface BenchHome extends AsyncDisposable {
  readonly root: string;
  /** Path of `pylons/<name>/pylon.yaml`. */
  pylonFile(name: string): string;
}

/**
 * Creates a temp PYLON_HOME with `config.yaml` (a huge `docker.max_queue`) and the pylons
 * (by default only `gh`).
 */
export async function createBenchHome(options: HomeOptions = {}): Promise<BenchHome> {
  const root = await Deno.makeTempDir({ prefix: "pylon-ingest-bench-" });
  const pylonFile = (name: string) => join(root, "pylons", name, "pylon.yaml");
  const write = async (name: string, yaml: string, env?: string) => {
    await Deno.mkdir(join(root, "pylons", name), { recursive: true });
    await Deno.writeTextFile(pylonFile(name), yaml);
    if (env) await Deno.writeTextFile(join(root, "pylons", name, ".env"), env);
  };
  try {
    await Deno.writeTextFile(
      join(root, "config.yaml"),
      "server:\n  host: 127.0.0.1\ndocker:\n  max_queue: 100000000\n" +
        (options.busyImage ? `  max_concurrent: ${BUSY_SLOTS}\n` : ""),
    );
    if (options.busyImage) {
      await write(
        "busy",
        `name: busy\ntrigger:\n  type: webhook\n  path: /busy\nagent:\n  type: custom\n` +
          `  image: ${JSON.stringify(options.busyImage)}\n  command: ["sleep", "3600"]\n` +
          `  prompt: hold a slot\n  timeout: 2h\n`,
      );
    }
    await write("gh", signedYaml("gh", GH_PATH), `GH_SECRET=${GH_SECRET}\n`);
    for (let i = 2; i <= (options.webhookPylons ?? 1); i++) {
      const name = `hook-${String(i).padStart(2, "0")}`;
      if (i % 2 === 0) await write(name, signedYaml(name, `/${name}`), `GH_SECRET=s-${i}\n`);
      else await write(name, webhookYaml(name, `/${name}`));
    }
    for (let i = 1; i <= (options.cronPylons ?? 0); i++) {
      const name = `cron-${String(i).padStart(2, "0")}`;
      await write(
        name,
        `name: ${name}\ntrigger:\n  type: cron\n  cron: "0 3 * * *"\n  timezone: UTC\n` +
          `agent:\n  prompt: nightly report\n`,
      );
    }
    if (options.editPath) await write("edit", webhookYaml("edit", options.editPath));
  } catch (e) {
    await Deno.remove(root, { recursive: true });
    throw e;
  }
  return {
    root,
    pylonFile,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** An unsigned webhook `pylon.yaml`. */
export function webhookYaml(name: string, path: string): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: ${path}\n` +
    `agent:\n  prompt: "Review {{ .body.pull_request.title }}"\n`;
}

function signedYaml(name: string, path: string): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: ${path}\n` +
    `  secret: "\${GH_SECRET}"\n  signature_header: ${SIGNATURE_HEADER}\n` +
    `agent:\n  prompt: "Review {{ .body.pull_request.title }}"\n`;
}

/** Jobs in `data/<name>/jobs.db`, by status (read after the daemon stopped). */
export function countJobs(root: string, name: string): Record<string, number> {
  const db = new DatabaseSync(join(root, "data", name, "jobs.db"));
  try {
    const rows = db.prepare("SELECT status, count(*) AS n FROM jobs GROUP BY status").all();
    return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]));
  } finally {
    db.close();
  }
}
