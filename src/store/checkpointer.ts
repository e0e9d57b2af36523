/**
 * WAL checkpoints off the event loop. In WAL mode a COMMIT that finds the log past
 * `wal_autocheckpoint` pages copies the log back into the database file, inside that COMMIT:
 * under a webhook flood two thirds of a COMMIT's time, on the path that holds the 202 (issue 17).
 * The daemon's stores hand their files to a worker with its own connections instead
 * (`checkpoint_worker.ts`), which checkpoints each one every 200 ms, and raise their own
 * `wal_autocheckpoint` to {@linkcode FALLBACK_AUTOCHECKPOINT_PAGES}, a safety net should the
 * worker fall behind or die.
 *
 * Two connections to one file in one process are safe here, unlike the file watcher's bare
 * `open`/`close` of issue 11: SQLite shares its file descriptors and POSIX locks per inode across
 * every connection of the process, and closes none while another holds a lock.
 *
 * When the worker cannot start (a runtime without workers), {@linkcode WalCheckpointer.watch}
 * answers false and stores keep SQLite's own checkpoints.
 *
 * @module
 */

import type { CheckpointMessage } from "./checkpoint_worker.ts";

/** `wal_autocheckpoint` of a store whose checkpoints the worker runs (~40 MB of log). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;

/** What a store needs from a checkpointer. */
export interface Checkpoints {
  /** Takes over `path`'s checkpoints; false when it cannot (the store keeps SQLite's own). */
  watch(path: string): boolean;
  /** Stops checkpointing `path` and closes the worker's connection to it. */
  unwatch(path: string): Promise<void>;
}

/** How long `unwatch`/`stop` wait for the worker's answer (ms). */
const ANSWER_TIMEOUT_MS = 2000;

/** The daemon's checkpointer: one worker for every store of the home. */
export class WalCheckpointer implements Checkpoints, AsyncDisposable {
  #worker: Worker | undefined;
  #next = 0;
  readonly #waiting = new Map<number, () => void>();

  /** `onFailure` is told when the worker cannot start or dies (stores then checkpoint alone). */
  constructor(onFailure: (error: string) => void = () => {}) {
    try {
      this.#worker = new Worker(new URL("./checkpoint_worker.ts", import.meta.url).href, {
        type: "module",
      });
    } catch (e) {
      this.#worker = undefined;
      onFailure(e instanceof Error ? e.message : String(e));
      return;
    }
    this.#worker.onmessage = ({ data }: MessageEvent<{ id: number }>) => {
      this.#waiting.get(data.id)?.();
      this.#waiting.delete(data.id);
    };
    this.#worker.onerror = (event) => {
      // The stores' own autocheckpoint (at the fallback size) takes over.
      event.preventDefault();
      this.#worker?.terminate();
      this.#worker = undefined;
      onFailure(event.message);
    };
  }

  watch(path: string): boolean {
    if (!this.#worker || path === ":memory:") return false;
    this.#send({ type: "watch", path });
    return true;
  }

  async unwatch(path: string): Promise<void> {
    await this.#ask((id) => ({ type: "unwatch", path, id }));
  }

  /** Closes the worker's connections and ends it. */
  async stop(): Promise<void> {
    await this.#ask((id) => ({ type: "stop", id }));
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #send(message: CheckpointMessage): void {
    this.#worker?.postMessage(message);
  }

  async #ask(message: (id: number) => CheckpointMessage): Promise<void> {
    if (!this.#worker) return;
    const id = ++this.#next;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiting.set(id, resolve);
    const timer = setTimeout(resolve, ANSWER_TIMEOUT_MS);
    this.#send(message(id));
    await promise;
    clearTimeout(timer);
    this.#waiting.delete(id);
  }
}
