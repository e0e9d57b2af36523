/**
 * Reading the usage of relayed responses as they pass (issue 19): a pass-through stream that
 * hands every chunk on unchanged and at once, and on the side reads the usage the Messages API
 * reports: a JSON response's `usage`, or a stream's `message_start` (input and cache tokens)
 * and `message_delta` (output tokens so far; cumulative) events. Each time a figure grows, the
 * growth is reported, so a job's tokens and cost are known while the response still streams.
 *
 * What an upstream sends is parsed defensively: lines longer than a cap and bodies that are not
 * the expected shape are skipped, never fatal to the relay.
 *
 * @module
 */

import { costOf, type TokenCounts } from "./pricing.ts";

/** The growth of a job's usage by one usage report of a response. */
export interface UsageDelta extends TokenCounts {
  model: string;
  /** Dollars of this growth; null when the model has no price. */
  costUsd: number | null;
}

/** The longest SSE line (and JSON body) read for usage; longer ones pass unread. */
const MAX_PARSED = 1024 * 1024;

const ZERO: TokenCounts = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
};

/** Token counts of an API `usage` object; fields it lacks keep `base`'s. */
export function countsOf(usage: unknown, base: TokenCounts = ZERO): TokenCounts {
  const u = (usage && typeof usage === "object" ? usage : {}) as Record<string, unknown>;
  const pick = (key: string, fallback: number) => {
    const v = u[key];
    return typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.floor(v) : fallback;
  };
  return {
    inputTokens: pick("input_tokens", base.inputTokens),
    outputTokens: pick("output_tokens", base.outputTokens),
    cacheReadTokens: pick("cache_read_input_tokens", base.cacheReadTokens),
    cacheCreationTokens: pick("cache_creation_input_tokens", base.cacheCreationTokens),
  };
}

/** Follows one response's cumulative usage and reports what grew. */
class MessageUsage {
  #model = "";
  #seen: TokenCounts = ZERO;
  readonly #report: (delta: UsageDelta) => void;
  constructor(report: (delta: UsageDelta) => void) {
    this.#report = report;
  }

  /** A fresh message (`message_start`, or a whole JSON message). */
  start(model: unknown, usage: unknown): void {
    if (typeof model === "string") this.#model = model.slice(0, 200);
    this.#seen = ZERO;
    this.update(usage);
  }

  /** New cumulative figures of the current message. */
  update(usage: unknown): void {
    const now = countsOf(usage, this.#seen);
    const grow = (a: number, b: number) => Math.max(0, b - a);
    const delta: TokenCounts = {
      inputTokens: grow(this.#seen.inputTokens, now.inputTokens),
      outputTokens: grow(this.#seen.outputTokens, now.outputTokens),
      cacheReadTokens: grow(this.#seen.cacheReadTokens, now.cacheReadTokens),
      cacheCreationTokens: grow(this.#seen.cacheCreationTokens, now.cacheCreationTokens),
    };
    this.#seen = now;
    if (Object.values(delta).every((n) => n === 0)) return;
    this.#report({ model: this.#model, ...delta, costUsd: costOf(this.#model, delta) });
  }
}

/**
 * A pass-through stream of a response body that reports its usage: `kind` is `sse` for
 * `text/event-stream`, `json` for a JSON body, `none` to only pass bytes on.
 */
export function usageMeter(
  kind: "sse" | "json" | "none",
  report: (delta: UsageDelta) => void,
): TransformStream<Uint8Array, Uint8Array> {
  const message = new MessageUsage(report);
  const decoder = new TextDecoder();
  let pending = "";
  let skipping = false;
  const jsonParts: Uint8Array[] = [];
  let jsonBytes = 0;

  const sseLine = (line: string) => {
    if (!line.startsWith("data:")) return;
    const data = line.slice(5).trim();
    // Only the two event types with usage are parsed at all.
    if (!data.includes('"message_start"') && !data.includes('"message_delta"')) return;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (event?.type === "message_start") {
      const m = (event.message ?? {}) as Record<string, unknown>;
      message.start(m.model, m.usage);
    } else if (event?.type === "message_delta") {
      message.update(event.usage);
    }
  };
  const readSse = (text: string) => {
    pending += text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, "");
      pending = pending.slice(nl + 1);
      if (skipping) skipping = false;
      else sseLine(line);
    }
    if (pending.length > MAX_PARSED) {
      pending = "";
      skipping = true;
    }
  };

  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      try {
        if (kind === "sse") readSse(decoder.decode(chunk, { stream: true }));
        else if (kind === "json" && jsonBytes + chunk.length <= MAX_PARSED) {
          jsonParts.push(chunk);
          jsonBytes += chunk.length;
        } else if (kind === "json") {
          jsonBytes = Infinity;
        }
      } catch {
        // Usage is read on the side: the relay goes on.
      }
    },
    flush() {
      try {
        if (kind === "sse") readSse(decoder.decode() + "\n");
        if (kind === "json" && jsonBytes <= MAX_PARSED) {
          const body = JSON.parse(new TextDecoder().decode(concat(jsonParts, jsonBytes)));
          if (body && typeof body === "object" && body.usage) message.start(body.model, body.usage);
        }
      } catch {
        // Not JSON: no usage.
      }
    },
  });
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
