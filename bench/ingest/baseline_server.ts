// deno-lint-ignore-file no-console
/**
 * The baseline of the ingest benchmark: a bare `Deno.serve` that reads the request body and
 * answers `202 {"job_id":"<uuid>","status":"queued"}` like the daemon, with no signature check,
 * no JSON parsing, no database and no logging. What the daemon costs is its numbers over these.
 *
 * `--path-file FILE`: answer 202 only on the path written in FILE (404 elsewhere) and re-read
 * the file 100 ms after the last change to it, the least a hot reload with the daemon's debounce
 * can do.
 *
 * Run: `deno run --allow-net=127.0.0.1 --allow-read bench/ingest/baseline_server.ts`
 *
 * @module
 */

import { parseArgs } from "node:util";

const DEBOUNCE_MS = 100;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "path-file": { type: "string" }, port: { type: "string", default: "0" } },
  });
  const pathFile = values["path-file"];
  let path = pathFile ? (await Deno.readTextFile(pathFile)).trim() : undefined;
  if (pathFile) {
    const watcher = Deno.watchFs(pathFile);
    let timer: ReturnType<typeof setTimeout> | undefined;
    (async () => {
      for await (const _event of watcher) {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          path = (await Deno.readTextFile(pathFile)).trim();
        }, DEBOUNCE_MS);
      }
    })();
  }
  Deno.serve({
    hostname: "127.0.0.1",
    port: Number(values.port),
    onListen: ({ hostname, port }) => console.log(`baseline listening on ${hostname}:${port}`),
  }, async function accept(req) {
    if (path !== undefined && new URL(req.url).pathname !== path) {
      await req.body?.cancel();
      return Response.json({ error: "no pylon here" }, { status: 404 });
    }
    await req.arrayBuffer();
    return Response.json({ job_id: crypto.randomUUID(), status: "queued" }, { status: 202 });
  });
}
