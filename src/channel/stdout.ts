/**
 * The `stdout` channel: readable lines in the daemon's output, for local use and for logs
 * collected by journald. Not interactive: approval happens with `pylon approve|ignore <job>`.
 *
 * @module
 */

import type { Channel, MessageRef, PostOptions, ThreadRef } from "./channel.ts";

/** Prints job notifications as lines through `write`. */
export class StdoutChannel implements Channel {
  readonly kind = "stdout";
  readonly key = "stdout";
  readonly interactive = false;
  readonly #write: (line: string) => void;
  #count = 0;

  constructor(write: (line: string) => void) {
    this.#write = write;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  createThread(title: string): Promise<ThreadRef | null> {
    return Promise.resolve({ title });
  }

  post(thread: ThreadRef | null, text: string, options: PostOptions = {}): Promise<MessageRef> {
    const prefix = thread?.title ? `[${thread.title}] ` : "";
    for (const line of plain(text).replace(/\n+$/, "").split("\n")) this.#write(prefix + line);
    if (options.approval) {
      const id = options.approval.jobId.slice(0, 8);
      this.#write(`${prefix}Waiting for approval: pylon approve ${id}  |  pylon ignore ${id}`);
    }
    return Promise.resolve({ n: ++this.#count });
  }

  edit(thread: ThreadRef | null, _message: MessageRef, text: string): Promise<void> {
    // A terminal cannot change what it printed: print the new state instead.
    return this.post(thread, text).then(() => {});
  }

  onAction(): void {}

  onMessage(): void {}
}

/** Drops the Markdown emphasis a terminal would show literally (`**bold**` → `bold`). */
function plain(text: string): string {
  return text.replace(/\*\*(.+?)\*\*/g, "$1").replace(/__(.+?)__/g, "$1");
}
