/**
 * `pylon logs -f` through the daemon's event stream (`GET /api/events?job=<id>`): prints the
 * job's log lines as they are written and returns once its terminal state arrives. A stream that
 * ends early (the daemon restarts, dropped a slow reader, or the connection broke) is resumed
 * with `Last-Event-ID`;
 * when no daemon answers for a while, the rest of the log file is printed instead.
 *
 * @module
 */

import { join } from "node:path";
import { readDaemonToken } from "../daemon/mod.ts";
import { readPidFile } from "../daemon/pidfile.ts";
import { PylonError } from "../errors.ts";
import { sanitizeAnsi } from "../log/mod.ts";
import type { JobStatus } from "../config/mod.ts";
import { isTerminalStatus, type Job } from "../store/mod.ts";
import type { CommandContext } from "./command.ts";
import { connectDaemon } from "./daemon_client.ts";
import { findJob } from "./job_stores.ts";
import { readSse, type SseEvent } from "./sse_client.ts";

/** How long a lost daemon is waited for before the log file is read instead. */
const RECONNECT_MS = 15_000;
const RETRY_MS = 500;

/** Options of {@linkcode followThroughDaemon}. */
export interface FollowOptions {
  sleep(ms: number): Promise<void>;
}

/**
 * Follows `job` through the running daemon: undefined when no daemon answers or it has no
 * event stream to spare (the caller reads the file or Docker itself), else the job as it ended
 * (or as it is, when the daemon went away and the file was printed instead).
 *
 * @throws {PylonError} when the daemon refuses the request (a wrong token)
 */
export async function followThroughDaemon(
  ctx: CommandContext,
  job: Job,
  o: FollowOptions,
): Promise<Job | undefined> {
  // Every daemon writes daemon.pid once it listens: without one, no port is probed.
  if (!(await readPidFile(ctx.paths.daemonPid))) return undefined;
  let daemon = await connectDaemon(ctx);
  if (!daemon) return undefined;
  let lastId: string | undefined;
  let offset = 0;
  let lostSince: number | undefined;
  for (;;) {
    const token = await readDaemonToken(ctx.paths.daemonToken);
    const res = daemon && token
      ? await fetch(`${daemon.base}/api/events?job=${job.id}&kinds=job,log`, {
        headers: {
          authorization: `Bearer ${token}`,
          accept: "text/event-stream",
          ...(lastId ? { "last-event-id": lastId } : {}),
        },
      }).catch(() => undefined)
      : undefined;
    if (res?.status === 429) {
      await res.body?.cancel();
      // Every event stream the daemon serves is taken: follow without it (Docker or the file),
      // as with no daemon; mid-follow, as if the stream had been cut.
      if (lastId === undefined) return undefined;
    } else if (res && !res.ok) {
      await res.body?.cancel();
      throw new PylonError(`The daemon refused the event stream: HTTP ${res.status}`, {
        hint: "check $PYLON_HOME/daemon.token, or stop the daemon and run `pylon logs` again",
      });
    }
    if (res?.ok && res.body) {
      lostSince = undefined;
      for await (const e of untilCut(res.body)) {
        if (e.id) lastId = e.id;
        if (e.event === "log") {
          const data = JSON.parse(e.data) as { line: string; offset: number };
          offset = data.offset;
          ctx.io.out(sanitizeAnsi(data.line) + "\n");
        } else if (e.event === "job") {
          const data = JSON.parse(e.data) as { status: JobStatus };
          if (isTerminalStatus(data.status)) return await findJob(ctx, job.id);
        } else if (e.event === "dropped") {
          break; // resumed below from the last id
        }
      }
    }
    lostSince ??= Date.now();
    if (Date.now() - lostSince > RECONNECT_MS) return await printRest(ctx, job.id, offset);
    await o.sleep(RETRY_MS);
    daemon = await connectDaemon(ctx);
  }
}

/**
 * The stream's events until it ends or its connection breaks (a daemon killed, a proxy or network
 * cutting it): either way the loop resumes from the last id.
 */
async function* untilCut(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  try {
    yield* readSse(body);
  } catch {
    // The connection broke mid-stream; nothing to do but reconnect.
  }
}

/** No daemon any more: the rest of the log file from `offset`, then the job as it is. */
async function printRest(ctx: CommandContext, id: string, offset: number): Promise<Job> {
  try {
    const bytes = await Deno.readFile(join(ctx.paths.jobsDir, `${id}.log`));
    ctx.io.out(sanitizeAnsi(new TextDecoder().decode(bytes.subarray(offset))));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return await findJob(ctx, id);
}
