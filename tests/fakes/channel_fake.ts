/**
 * An in-process interactive {@linkcode Channel} for notifier tests: it records what is posted
 * and lets a test press buttons and write replies. The real transports (Telegram, Slack) are
 * tested against wire-level fakes of their services.
 */

import type {
  ActionEvent,
  Channel,
  MessageEvent,
  MessageRef,
  PostOptions,
  ThreadRef,
} from "../../src/channel/channel.ts";

/** A posted or edited message. */
export interface FakeMessage {
  id: number;
  thread: ThreadRef | null;
  text: string;
  buttonsFor?: string | undefined;
}

/** A channel whose traffic the test drives. */
export class FakeChannel implements Channel {
  readonly kind = "fake";
  readonly interactive = true;
  readonly messages: FakeMessage[] = [];
  readonly threads: ThreadRef[] = [];
  readonly closed: ThreadRef[] = [];
  #action?: (e: ActionEvent) => void | Promise<void>;
  #message?: (e: MessageEvent) => void | Promise<void>;
  failPosts = 0;

  /** `key` tells two fakes apart (two chat channels of one pylon). */
  constructor(readonly key = "fake:1") {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  createThread(title: string): Promise<ThreadRef | null> {
    const thread = { topic: this.threads.length + 1, title };
    this.threads.push(thread);
    return Promise.resolve(thread);
  }

  post(thread: ThreadRef | null, text: string, options: PostOptions = {}): Promise<MessageRef> {
    if (this.failPosts > 0) {
      this.failPosts--;
      return Promise.reject(new Error("fake outage"));
    }
    const id = this.messages.length + 1;
    this.messages.push({ id, thread, text, buttonsFor: options.approval?.jobId });
    return Promise.resolve({ id });
  }

  edit(_thread: ThreadRef | null, message: MessageRef, text: string): Promise<void> {
    const m = this.messages.find((x) => x.id === message.id);
    if (m) {
      m.text = text;
      m.buttonsFor = undefined;
    }
    return Promise.resolve();
  }

  close(thread: ThreadRef): Promise<void> {
    this.closed.push(thread);
    return Promise.resolve();
  }

  onAction(handler: (e: ActionEvent) => void | Promise<void>): void {
    this.#action = handler;
  }

  onMessage(handler: (e: MessageEvent) => void | Promise<void>): void {
    this.#message = handler;
  }

  /** A person presses a button on a message. */
  async press(messageId: number, action: "investigate" | "ignore", userId = "u1"): Promise<void> {
    const m = this.messages.find((x) => x.id === messageId)!;
    await this.#action?.({ jobId: m.buttonsFor ?? "", action, userId, message: { id: messageId } });
  }

  /** A person writes in a thread. */
  async say(thread: ThreadRef | undefined, text: string, userId = "u1"): Promise<void> {
    await this.#message?.({ thread, text, userId });
  }

  /** Texts posted in a thread, in order. */
  textsIn(thread: ThreadRef): string[] {
    return this.messages.filter((m) => JSON.stringify(m.thread) === JSON.stringify(thread)).map((
      m,
    ) => m.text);
  }
}
