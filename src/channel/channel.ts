/**
 * The two interfaces channels implement, so the daemon's notifier never knows which one it talks
 * to: {@linkcode Channel} for places people read and answer (Telegram, Slack), and
 * {@linkcode Reporter} for places that receive whole jobs (the webhook events, GitHub comments and
 * commit statuses, and stdout, which prints one account per job), which need the job itself
 * rather than a chat thread.
 *
 * Text handed to a channel is Markdown (what agents write); each channel converts it (Telegram
 * MarkdownV2, Slack mrkdwn) and splits it to fit its limits. Constructors do no I/O:
 * `start(signal)` begins polling or connecting, and ends when the signal aborts.
 *
 * @module
 */

import { PylonError } from "../errors.ts";
import type { Job, JobUsage } from "../store/mod.ts";
import type { ToolCallDecided, ToolCallRequest } from "../tools/types.ts";

/** Where a job's messages go: a forum topic, a Slack thread, … Opaque, JSON-serialisable. */
export type ThreadRef = Record<string, string | number>;

/** One posted message, to edit it later. Opaque, JSON-serialisable. */
export type MessageRef = Record<string, string | number>;

/** The approval buttons of a job. */
export interface ApprovalButtons {
  jobId: string;
}

/** The **Run anyway** button of a job held by a budget. */
export interface RunAnywayButton {
  jobId: string;
}

/** The **Allow** / **Deny** / **Allow for this job** buttons of one tool call of a job. */
export interface ToolButtons {
  jobId: string;
  /** ≤ 16 characters of `[a-z0-9]` (see `ToolCallRequest.callId`). */
  callId: string;
}

/** What a button asks for. */
export type ActionKind =
  | "investigate"
  | "ignore"
  | "run_anyway"
  | "tool_allow"
  | "tool_deny"
  | "tool_allow_job";

/** The actions of tool-approval buttons. */
export const TOOL_ACTIONS: readonly ActionKind[] = ["tool_allow", "tool_deny", "tool_allow_job"];

/** Whether `action` decides a tool call (refused when no `allowed_users` is configured). */
export function isToolAction(action: ActionKind): boolean {
  return TOOL_ACTIONS.includes(action);
}

/** A button press from a person. */
export interface ActionEvent {
  jobId: string;
  action: ActionKind;
  /** The tool call a `tool_*` action decides. */
  callId?: string | undefined;
  /** The channel's user id, as a string. */
  userId: string;
  /** Display name for messages ("approved by @ada"), when the channel knows it. */
  userName?: string | undefined;
  /** The message carrying the buttons, so it can be edited. */
  message?: MessageRef | undefined;
  thread?: ThreadRef | undefined;
}

/** A message a person wrote in a job's thread (or the main chat). */
export interface MessageEvent {
  /** The thread it was written in; undefined for the main chat. */
  thread: ThreadRef | undefined;
  text: string;
  userId: string;
  userName?: string | undefined;
}

/** Options of a posted message (at most one kind of buttons). */
export interface PostOptions {
  /** Show Investigate/Ignore buttons for this job. */
  approval?: ApprovalButtons | undefined;
  /** Show a Run anyway button for this held job. */
  runAnyway?: RunAnywayButton | undefined;
  /** Show Allow / Deny / Allow for this job for one tool call. */
  tool?: ToolButtons | undefined;
}

/** Options of an edit: the buttons to keep (none by default: an edit removes them). */
export type EditOptions = PostOptions;

/** A place to report jobs and receive decisions and follow-ups. */
export interface Channel {
  /** `telegram` or `slack` (and the fakes of tests). */
  readonly kind: string;
  /**
   * A stable key: two pylons whose channels share a key share one Channel object (one Telegram
   * poller per bot token, one Slack socket per app token).
   */
  readonly key: string;
  /** Whether people can answer here (buttons, replies). */
  readonly interactive: boolean;
  /** Starts receiving (polling, sockets). Resolves once running; stops when `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  /** Opens a thread for a job; `null` when the channel has no threads (messages go to the chat). */
  createThread(title: string): Promise<ThreadRef | null>;
  /**
   * A link people can open to the thread (Slack's permalink), shown on the job's page; null
   * when there is none. Asked once, after {@linkcode Channel.createThread}.
   */
  threadUrl?(thread: ThreadRef): Promise<string | null>;
  /** Posts Markdown text; returns the last message posted. */
  post(thread: ThreadRef | null, text: string, options?: PostOptions): Promise<MessageRef>;
  /** Replaces a message's text (and its buttons). */
  edit(
    thread: ThreadRef | null,
    message: MessageRef,
    text: string,
    options?: EditOptions,
  ): Promise<void>;
  /** Shows "typing…" where supported. */
  typing?(thread: ThreadRef | null): Promise<void>;
  /** Marks a thread finished (Telegram closes the topic, Slack adds a ✅). */
  close?(thread: ThreadRef): Promise<void>;
  /**
   * Registers the handler of button presses, already filtered by `allowed_users` (an empty list
   * lets everyone press Investigate, Ignore and Run anyway, but no one decide a tool call).
   */
  onAction(handler: (event: ActionEvent) => void | Promise<void>): void;
  /** Registers the handler of messages (already filtered by `allowed_users`). */
  onMessage(handler: (event: MessageEvent) => void | Promise<void>): void;
}

/** A job's current state, as handed to a {@linkcode Reporter}. */
export interface JobReport {
  job: Job;
  /** The pylon's `channel.topic` and `channel.message`, rendered (null when unset). */
  topic: string | null;
  message: string | null;
  /** A finished follow-up's conversation total (its usage and its parents'), when known. */
  conversation?: JobUsage | null;
  /** The job's dashboard page (`<server.public_url>/dashboard/jobs/<id>`), when a public URL is set. */
  jobUrl?: string | null;
}

/** What a reporter keeps between reports of one job (a comment id, a commit), stored as JSON. */
export type ReportState = Record<string, string | number | boolean | null>;

/** A destination that is told about every status of a job, and keeps no chat. */
export interface Reporter {
  /** `webhook`, `github` or `stdout`. */
  readonly kind: string;
  /** Two pylons whose reporters share a key share one object. */
  readonly key: string;
  /**
   * Reports only into this process's own output (stdout): nothing about it is stored with the
   * job, a restart does not replay it, and the reporter remembers itself what it printed of each
   * job (so a second report of the same status prints nothing). For a pylon whose destinations
   * are all ephemeral, announcing a job writes nothing to its store.
   */
  readonly ephemeral?: boolean;
  /**
   * Reports the job's status (called once per status, in order, and again after a failure).
   * Returns the state to hand to the next report of this job.
   * @throws {ChannelError} when the report did not reach its destination
   */
  report(update: JobReport, state: ReportState | undefined): Promise<ReportState | undefined>;
  /**
   * Receives the latest tool events of a running job (the end of its `events.ndjson`, oldest
   * first), every few seconds and once more before its final report. Only reporters that show
   * them (stdout) have it.
   */
  progress?(job: Job, events: readonly string[]): void;
  /**
   * Told that a tool call of a running job waits for a person (`request`), or was decided
   * (`decided`). Only reporters that pass it on (the webhook channel) have it.
   * @throws {ChannelError} when the event did not reach its destination
   */
  toolCall?(event: ToolCallEvent): Promise<void>;
}

/** A tool call waiting or decided, as handed to {@linkcode Reporter.toolCall}. */
export type ToolCallEvent =
  | { kind: "requested"; request: ToolCallRequest; jobUrl: string | null }
  | { kind: "decided"; decided: ToolCallDecided; jobUrl: string | null };

/** Anything a pylon reports to. */
export type Destination = Channel | Reporter;

/** Whether `d` receives whole jobs rather than chat messages. */
export function isReporter(d: Destination): d is Reporter {
  return "report" in d;
}

/** A channel call failed. `retryable` means trying again later may work (429, 5xx, network). */
export class ChannelError extends PylonError {
  readonly channel: string;
  readonly method: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** Seconds the service asked us to wait (Telegram `retry_after`, HTTP `Retry-After`). */
  readonly retryAfter: number | undefined;

  constructor(
    message: string,
    options: {
      channel: string;
      method: string;
      status?: number | undefined;
      retryable: boolean;
      retryAfter?: number | undefined;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
    this.name = "ChannelError";
    this.channel = options.channel;
    this.method = options.method;
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfter = options.retryAfter;
  }
}

/** Bot commands understood in a job's thread, in the order shown to users. */
export const CHAT_COMMANDS = [
  { command: "done", description: "Close this job's thread" },
  { command: "status", description: "What the running agents are doing" },
  { command: "agents", description: "List the running agents" },
  { command: "help", description: "Show the commands" },
] as const;
