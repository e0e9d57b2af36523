/**
 * The `webhook` channel: POSTs one JSON event per job change to `channel.webhook.url`
 * (`{"event":"job.completed","job":{…}}`), signed with HMAC-SHA256 in `X-Pylon-Signature:
 * sha256=<hex>` when `channel.webhook.secret` is set, and retried with backoff. Not interactive:
 * approval happens through the CLI or the API. Tool calls waiting for a person are sent as
 * `job.tool_approval`, their decisions as `job.tool_decision`.
 *
 * @module
 */

import type { WebhookSettings } from "../config/mod.ts";
import { jobToJson } from "../store/mod.ts";
import {
  ChannelError,
  type JobReport,
  type Reporter,
  type ReportState,
  type ToolCallEvent,
} from "./channel.ts";

/** Events the webhook channel sends. */
export type JobEventName =
  | "job.awaiting_approval"
  | "job.queued"
  | "job.held"
  | "job.started"
  | "job.completed"
  | "job.failed"
  | "job.timed_out"
  | "job.killed"
  | "job.dismissed"
  | "job.tool_approval"
  | "job.tool_decision";

/** Options of {@linkcode WebhookChannel}. */
export interface WebhookChannelOptions {
  settings: WebhookSettings;
  fetch?: typeof fetch;
  /** Delays between quick attempts; default 0.25 s, 1 s (the notifier retries later ones). */
  backoffMs?: number[];
  sleep?: (ms: number) => Promise<void>;
}

/** Sends job events to an HTTP endpoint. */
export class WebhookChannel implements Reporter {
  readonly kind = "webhook";
  readonly key: string;
  readonly #o: WebhookChannelOptions;
  #key: CryptoKey | undefined;

  constructor(options: WebhookChannelOptions) {
    this.#o = options;
    this.key = `webhook:${options.settings.url ?? ""}`;
  }

  /** Sends `job.<status>` (`job.started` for running) with the job as JSON. */
  async report({ job, topic, message, jobUrl }: JobReport): Promise<ReportState | undefined> {
    const name = (job.status === "running" ? "job.started" : `job.${job.status}`) as JobEventName;
    await this.event(name, {
      pylon: job.pylon,
      topic,
      message,
      job: jobToJson(job),
      ...(jobUrl ? { "job_url": jobUrl } : {}),
    });
    return undefined;
  }

  /**
   * Sends `job.tool_approval` when a tool call waits for a person and `job.tool_decision` once
   * it was decided (by a person or the timeout). Decide with `pylon allow|deny` or the API.
   */
  async toolCall(event: ToolCallEvent): Promise<void> {
    const request = event.kind === "requested" ? event.request : event.decided.request;
    const call = {
      id: request.callId,
      tool: request.tool,
      input: request.input,
      digest: request.digest,
      summary: request.summary,
      rule: request.rule,
      "requested_at": request.requestedAt.toISOString(),
      "expires_at": request.expiresAt.toISOString(),
    };
    const base = {
      pylon: request.pylon,
      "job_id": request.jobId,
      ...(event.jobUrl ? { "job_url": event.jobUrl } : {}),
    };
    if (event.kind === "requested") return await this.event("job.tool_approval", { ...base, call });
    const { decision, source, decidedAt, reason } = event.decided;
    await this.event("job.tool_decision", {
      ...base,
      call,
      decision,
      by: source.by,
      via: source.via,
      // What the agent was told: "denied by @ada", "no answer within 10m", "the job ended".
      reason: reason ?? null,
      "decided_at": decidedAt.toISOString(),
    });
  }

  /** Sends one event; retries retryable failures with backoff. @throws {ChannelError} */
  async event(name: JobEventName, data: Record<string, unknown>): Promise<void> {
    const url = this.#o.settings.url;
    if (!url) {
      throw new ChannelError("Cannot send a webhook event: channel.webhook.url is not set", {
        channel: "webhook",
        method: name,
        retryable: false,
      });
    }
    const body = JSON.stringify({ event: name, sent_at: new Date().toISOString(), ...data });
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "pylon",
      ...this.#o.settings.headers,
    };
    if (this.#o.settings.secret) headers["x-pylon-signature"] = await this.#sign(body);
    const delays = this.#o.backoffMs ?? [250, 1000];
    const sleep = this.#o.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    const doFetch = this.#o.fetch ?? fetch;
    for (let attempt = 0;; attempt++) {
      let error: ChannelError;
      try {
        const res = await doFetch(url, { method: "POST", headers, body });
        await res.body?.cancel();
        if (res.ok) return;
        const retryAfter = Number(res.headers.get("retry-after")) || undefined;
        error = new ChannelError(`The webhook endpoint answered ${res.status} to ${name}`, {
          channel: "webhook",
          method: name,
          status: res.status,
          retryable: res.status === 429 || res.status >= 500,
          retryAfter,
        });
      } catch (e) {
        error = new ChannelError(`Cannot reach the webhook endpoint for ${name}`, {
          channel: "webhook",
          method: name,
          retryable: true,
          cause: e,
        });
      }
      const delay = delays[attempt];
      if (!error.retryable || delay === undefined) throw error;
      await sleep(error.retryAfter ? error.retryAfter * 1000 : delay);
    }
  }

  async #sign(body: string): Promise<string> {
    this.#key ??= await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(this.#o.settings.secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(
      await crypto.subtle.sign("HMAC", this.#key, new TextEncoder().encode(body)),
    );
    return "sha256=" + [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
  }
}
