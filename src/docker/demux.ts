/**
 * Splits Docker's multiplexed output stream into stdout and stderr.
 *
 * Without a TTY the Engine frames container output (logs, attach, exec): an 8-byte header
 * `[stream, 0, 0, 0, size(uint32 big-endian)]` followed by `size` bytes. HTTP chunks do not respect
 * frame edges, so {@linkcode Demuxer} keeps only the partial header between chunks and emits
 * payload bytes as soon as they arrive (one frame may come out as several pieces). Pure: no I/O.
 *
 * @module
 */

import { DockerError } from "./errors.ts";
import type { LogChunk } from "./types.ts";

const HEADER_SIZE = 8;

/** Incremental frame parser: feed chunks with `push`, call `end` when the source ends. */
export class Demuxer {
  #header = new Uint8Array(HEADER_SIZE);
  #headerFill = 0;
  #stream: LogChunk["stream"] = "stdout";
  #remaining = 0;

  /** Parses `chunk` and returns the payload pieces it completes or continues. */
  push(chunk: Uint8Array): LogChunk[] {
    const out: LogChunk[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#remaining > 0) {
        const n = Math.min(this.#remaining, chunk.length - pos);
        out.push({ stream: this.#stream, data: chunk.subarray(pos, pos + n) });
        this.#remaining -= n;
        pos += n;
        continue;
      }
      const n = Math.min(HEADER_SIZE - this.#headerFill, chunk.length - pos);
      this.#header.set(chunk.subarray(pos, pos + n), this.#headerFill);
      this.#headerFill += n;
      pos += n;
      if (this.#headerFill === HEADER_SIZE) this.#startFrame();
    }
    return out;
  }

  /** Checks that the source did not stop inside a frame. */
  end(): void {
    if (this.#headerFill !== 0 || this.#remaining !== 0) {
      throw new DockerError("Cannot read container output: the stream ended inside a frame", {
        op: "container.logs",
        hint:
          "the Docker Engine closed the connection early; check `docker logs` for the container",
      });
    }
  }

  #startFrame(): void {
    const h = this.#header;
    this.#headerFill = 0;
    this.#remaining = ((h[4]! << 24) >>> 0) + (h[5]! << 16) + (h[6]! << 8) + h[7]!;
    const kind = h[0];
    if (kind === 0 || kind === 1) this.#stream = "stdout";
    else if (kind === 2 || kind === 3) this.#stream = "stderr"; // 3: the Engine's own error text
    else {
      throw new DockerError(
        `Cannot read container output: unexpected stream type ${kind} in a frame header`,
        {
          op: "container.logs",
          hint: "the output may be a raw TTY stream; pass `tty: true` or inspect the container",
        },
      );
    }
  }
}

/** Demultiplexes a byte stream into stdout/stderr pieces. */
export async function* demuxStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<LogChunk> {
  const demuxer = new Demuxer();
  for await (const chunk of source) {
    for (const piece of demuxer.push(chunk)) yield piece;
  }
  demuxer.end();
}

/** Passes a TTY's raw byte stream through as stdout pieces. */
export async function* rawStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<LogChunk> {
  for await (const chunk of source) {
    if (chunk.length > 0) yield { stream: "stdout", data: chunk };
  }
}
