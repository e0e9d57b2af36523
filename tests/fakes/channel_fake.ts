/**
 * An in-process interactive {@linkcode Channel} for notifier tests: it records what is posted
 * and lets a test press buttons and write replies. The real transports (Telegram, Slack) are
 * tested against wire-level fakes of their services.
 */

import type {
  ActionEvent,
  ActionKind,
  Channel,
  EditOptions,
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
  /** The job of the Investigate/Ignore buttons, while the message has them. */
  buttonsFor?: string | undefined;
  /** Every kind of button the message has now (Run anyway, tool decisions, …). */
  buttons?: PostOptions | undefined;
  edits: number;
}

/** A channel whose traffic the test drives. */
export class FakeChannel implements Channel {
  readonly kind: string;
  readonly interactive = true;
  readonly messages: FakeMessage[] = [];
  readonly threads: ThreadRef[] = [];
  readonly closed: ThreadRef[] = [];
  #action?: (e: ActionEvent) => void | Promise<void>;
  #message?: (e: MessageEvent) => void | Promise<void>;
  failPosts = 0;

  /**
   * `key` tells two fakes apart (two chat channels of one pylon); `kind` poses as a real one
   * (tool decisions are taken only from `telegram` and `slack`).
   */
  constructor(readonly key = "fake:1", kind = "fake") {
    this.kind = kind;
  }

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
    this.messages.push({
      id,
      thread,
      text,
      buttonsFor: options.approval?.jobId,
      buttons: hasButtons(options) ? options : undefined,
      edits: 0,
    });
    return Promise.resolve({ id });
  }

  edit(
    _thread: ThreadRef | null,
    message: MessageRef,
    text: string,
    options: EditOptions = {},
  ): Promise<void> {
    const m = this.messages.find((x) => x.id === message.id);
    if (m) {
      m.text = text;
      m.buttonsFor = options.approval?.jobId;
      m.buttons = hasButtons(options) ? options : undefined;
      m.edits++;
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
  async press(messageId: number, action: ActionKind, userId = "u1"): Promise<void> {
    const m = this.messages.find((x) => x.id === messageId)!;
    const b = m.buttons;
    const jobId = m.buttonsFor ?? b?.runAnyway?.jobId ?? b?.tool?.jobId ?? "";
    await this.#action?.({
      jobId,
      action,
      ...(b?.tool ? { callId: b.tool.callId } : {}),
      userId,
      userName: userId,
      message: { id: messageId },
      thread: m.thread ?? undefined,
    });
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

function hasButtons(options: PostOptions): boolean {
  return Boolean(options.approval ?? options.runAnyway ?? options.tool);
}
