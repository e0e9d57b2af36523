/**
 * `POST <trigger.path>`: verify (size, signature, JSON), find a duplicate delivery, bound the
 * queue, INSERT the job, and only then answer `202` (ARCHITECTURE.md §4).
 *
 * @module
 */

import { shortId } from "../../errors.ts";
import { type Logger, redactorFor } from "../../log/mod.ts";
import type { Dispatcher, QueueDepth } from "../../queue/mod.ts";
import type { Job, JobStore, StoreRegistry } from "../../store/mod.ts";
import { deliveryIdOf, payloadDigest } from "../delivery.ts";
import { evaluateWhen, renderKey } from "../when.ts";
import { TemplateBudgetError } from "../../template/mod.ts";
import { gitHubFollowUp } from "../github_follow_up.ts";
import { createFollowUp } from "../../notify/mod.ts";
import type { KeyedLock } from "../keyed_lock.ts";
import { parseDuration } from "../../config/mod.ts";
import type { ActivePylon } from "../pylon_table.ts";
import { readBody } from "./body.ts";

/** What the webhook handler needs. */
export interface WebhookDeps {
  stores: StoreRegistry;
  dispatcher: Dispatcher;
  depth: QueueDepth;
  log: Logger;
  maxBody(): number;
  /** How long a body may take to arrive (default 30 s). */
  bodyTimeoutMs?: number;
  maxQueue(): number;
  newJobId(): string;
  onChange?(job: Job): void;
  /** Serialises events with the same dedupe key. */
  dedupeLock: KeyedLock;
  clock: { now(): Date };
}

/** Headers never stored with a job: credentials and signatures. */
const SECRET_HEADER_REGEXP = /authorization|cookie|signature|secret|token|api-key|apikey/i;
const DECODER = new TextDecoder();

/** Handles one webhook delivery for `pylon`. */
export async function handleWebhook(
  req: Request,
  pylon: ActivePylon,
  deps: WebhookDeps,
): Promise<Response> {
  const log = deps.log.with({ pylon: pylon.name });
  const max = deps.maxBody();
  const sentHeaders = new RequestHeaders(req.headers);
  const read = await readBody(req, { max, timeoutMs: deps.bodyTimeoutMs, headers: sentHeaders });
  if (!read.ok) return unreadable(read.reason, max, log);
  const body = read.bytes;
  if (pylon.verifier) {
    const verdict = await pylon.verifier.verify(sentHeaders, body);
    if (!verdict.ok) {
      log.warn("webhook.rejected", { status: 401, reason: verdict.reason });
      return reject(401, verdict.reason);
    }
  }
  let payload: unknown, payloadJson: string;
  try {
    ({ value: payload, text: payloadJson } = parsePayload(body, sentHeaders.get("content-type")));
  } catch {
    log.warn("webhook.rejected", { status: 400, reason: "not JSON", bytes: body.length });
    return reject(
      400,
      "body is not valid JSON (send it as application/json, or as a form with a payload field)",
    );
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) {
    log.warn("webhook.rejected", { status: 400, reason: "not an object" });
    return reject(400, "body must be a JSON object");
  }
  const headers = sentHeaders.kept;
  if (headers["x-github-event"] === "ping") {
    // GitHub's hello when a webhook is created or tested: never a job, but worth a line.
    log.info("webhook.ping", { from: "github", hook: headers["x-github-hook-id"] });
    return Response.json({ status: "ignored", reason: "GitHub ping: the webhook reaches pylon" });
  }
  const maybeStore = deps.stores.get(pylon.name);
  if (!maybeStore) return reject(503, `pylon ${pylon.name} is not ready`);
  const store = maybeStore;
  const bytes = body.length;
  const deliveryId = deliveryIdOf(
    sentHeaders,
    payload,
    pylon.resolved.config.trigger.delivery_header,
  );
  // Only a job with a delivery id can be delivered again; its digest tells a redelivery (same
  // event) from a sender reusing the id for another event (409, so the bug shows).
  const bodyDigest = deliveryId ? await payloadDigest(payload) : null;
  if (deliveryId) {
    const seen = await store.findByDeliveryId(deliveryId);
    if (seen) return duplicate(seen, bodyDigest, log);
  }
  const followUp = await gitHubFollowUp(pylon, payload as Record<string, unknown>, headers, store);
  if (followUp && "ignored" in followUp) {
    log.info("webhook.ignored", { reason: followUp.ignored });
    return Response.json({ status: "ignored", reason: followUp.ignored });
  }
  if (followUp) return await acceptFollowUp(store, followUp, deliveryId, bodyDigest, deps, log);
  const verdict = evaluateWhen(pylon.resolved.config.trigger.when, { body: payload, headers });
  if (!verdict.run) {
    if ("error" in verdict) return cannotRender("trigger.when", verdict.error, pylon, log);
    log.debug("webhook.ignored", {
      reason: `trigger.when rendered ${JSON.stringify(verdict.rendered.slice(0, 40))}`,
      event: headers["x-github-event"] ?? headers["sentry-hook-resource"],
    });
    return Response.json({ status: "ignored", reason: "trigger.when is false for this event" });
  }
  const trigger = pylon.resolved.config.trigger;
  let dedupeKey: string, supersedeKey: string;
  try {
    dedupeKey = renderKey("trigger.dedupe", trigger.dedupe, { body: payload, headers });
    supersedeKey = renderKey("trigger.supersede", trigger.supersede, { body: payload, headers });
  } catch (e) {
    if (!(e instanceof TemplateBudgetError)) throw e;
    return cannotRender(e.templateName, e.message, pylon, log);
  }
  if (dedupeKey) {
    const windowMs = parseDuration(trigger.dedupe_window) ?? 3_600_000;
    return await deps.dedupeLock.run(`${pylon.name}\n${dedupeKey}`, async () => {
      const since = new Date(deps.clock.now().getTime() - windowMs);
      const same = await store.findDedupe(dedupeKey, since);
      if (same) {
        const counted = (await store.incrementRepeats(same.id)) ?? same;
        log.info("webhook.repeat", { job: shortId(same.id), repeats: counted.repeats });
        return Response.json(
          { job_id: same.id, status: counted.status, repeats: counted.repeats, duplicate: true },
          { status: 200 },
        );
      }
      return await accept(dedupeKey);
    });
  }
  return await accept(null);

  async function accept(key: string | null): Promise<Response> {
    if (await deps.depth.value() >= deps.maxQueue()) {
      log.warn("webhook.rejected", { status: 429, reason: "queue full" });
      return new Response(
        JSON.stringify({ error: `the queue is full (docker.max_queue = ${deps.maxQueue()})` }),
        { status: 429, headers: { "content-type": "application/json", "retry-after": "60" } },
      );
    }
    const status = pylon.resolved.channel.approval ? "awaiting_approval" : "queued";
    const { job, created } = await store.insert({
      id: deps.newJobId(),
      pylon: pylon.name,
      status,
      trigger: "webhook",
      payload,
      payloadJson,
      headers,
      deliveryId,
      bodyDigest,
      dedupeKey: key,
      supersedeKey: supersedeKey || null,
    });
    if (!created) return duplicate(job, bodyDigest, log);
    if (supersedeKey) {
      await supersedeOlder(store, supersedeKey, job, trigger.supersede_running, deps, log);
    }
    // Debug: at info this line was ~7 % of the daemon's CPU under load, and the job is in
    // `pylon jobs` and announced on its channel anyway.
    log.debug("job.accepted", { job: shortId(job.id), status, bytes });
    deps.onChange?.(job);
    if (status === "queued") {
      deps.depth.added();
      deps.dispatcher.wake();
    }
    return Response.json({ job_id: job.id, status }, { status: 202 });
  }
}

/** A GitHub comment asking a follow-up question, queued like a reply in a chat thread. */
async function acceptFollowUp(
  store: JobStore,
  followUp: { parent: Job; prompt: string },
  deliveryId: string | null,
  bodyDigest: string | null,
  deps: WebhookDeps,
  log: Logger,
): Promise<Response> {
  const { parent, prompt } = followUp;
  const { job, created } = await createFollowUp(store, parent, prompt, deliveryId);
  if (!created) return duplicate(job, bodyDigest, log);
  log.info("job.follow_up", { job: shortId(job.id), of: shortId(parent.id), via: "github" });
  deps.onChange?.(job);
  deps.depth.added();
  deps.dispatcher.wake();
  return Response.json({ job_id: job.id, status: job.status, follow_up: true }, { status: 202 });
}

/**
 * `trigger.supersede`: the jobs of `key` still waiting give way to `job`, and with
 * `supersede_running` the running ones are stopped too.
 */
async function supersedeOlder(
  store: JobStore,
  key: string,
  job: Job,
  running: boolean,
  deps: WebhookDeps,
  log: Logger,
): Promise<void> {
  const reason = `superseded by job ${shortId(job.id)}`;
  for (const old of await store.supersede(key, job.id, reason)) {
    log.info("job.superseded", { job: shortId(old.id), by: shortId(job.id) });
    deps.onChange?.(old);
  }
  if (!running) return;
  // At most docker.max_concurrent jobs run, so reading them all is cheap.
  for (const old of await store.list({ status: "running", limit: 1000 })) {
    if (old.supersedeKey !== key || old.id === job.id) continue;
    if (deps.dispatcher.kill(old.id, reason)) {
      log.info("job.superseded", { job: shortId(old.id), by: shortId(job.id), was: "running" });
    }
  }
}

/**
 * The answer to a delivery id already taken by `job`: `200 duplicate` for a redelivery, `409`
 * when the body differs from the one the job was created from (jobs stored before digests were
 * kept, or made without one, count as redeliveries).
 */
function duplicate(job: Job, bodyDigest: string | null, log: Logger): Response {
  if (job.bodyDigest !== null && bodyDigest !== null && job.bodyDigest !== bodyDigest) {
    log.warn("webhook.rejected", {
      status: 409,
      reason: "delivery id reused with another body",
      job: shortId(job.id),
    });
    return reject(
      409,
      `delivery id ${JSON.stringify(job.deliveryId)} was already used by job ${
        shortId(job.id)
      } with a different body; a redelivery must repeat the body, a new event needs a new id`,
    );
  }
  log.info("webhook.duplicate", { job: shortId(job.id) });
  return Response.json({ job_id: job.id, status: job.status, duplicate: true }, { status: 200 });
}

/**
 * The event in a request body: JSON, or a form whose `payload` field holds the JSON (what GitHub
 * sends when a webhook's content type is left at its default, application/x-www-form-urlencoded).
 *
 * Returns the value and the JSON text it was parsed from.
 *
 * @throws {SyntaxError} when neither holds JSON
 */
function parsePayload(
  body: Uint8Array,
  contentType: string | null,
): { value: unknown; text: string } {
  const text = DECODER.decode(body);
  if (contentType?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    const field = new URLSearchParams(text).get("payload");
    if (field !== null) return { value: JSON.parse(field), text: field };
  }
  return { value: JSON.parse(text), text };
}

/** A one-line JSON error. */
export function reject(status: number, error: string, headers: HeadersInit = {}): Response {
  return Response.json({ error }, { status, headers });
}

/**
 * A request's headers, read once: every `Headers.get()` on a request `Deno.serve` handed over is
 * a call into the runtime (~0.35 µs), and a delivery id alone is looked for under up to nine
 * names. `forEach`, not `for…of`: Deno's header iterator costs twice as much.
 */
class RequestHeaders {
  /** Lower-cased names minus credentials, to keep with the job (templates see them). */
  readonly kept: Record<string, string> = {};
  readonly #all = new Map<string, string>();

  constructor(headers: Headers) {
    headers.forEach((value, name) => {
      this.#all.set(name, value);
      if (!SECRET_HEADER_REGEXP.test(name)) this.kept[name] = value;
    });
  }

  /** The value of `name` (any case), like `Headers.get()`. */
  get(name: string): string | null {
    return this.#all.get(name.toLowerCase()) ?? null;
  }

  /** Whether `name` (any case) was sent. */
  has(name: string): boolean {
    return this.#all.has(name.toLowerCase());
  }
}

/**
 * The answer to an event a trigger template cannot be rendered for: generic, because the
 * error quotes the template, whose `${VAR}`s are resolved (a `when` comparing a token holds the
 * token). The daemon log gets the detail, with the pylon's secrets redacted.
 */
function cannotRender(field: string, error: string, pylon: ActivePylon, log: Logger): Response {
  log.warn("webhook.rejected", {
    status: 422,
    reason: `${field} failed`,
    error: redactorFor(pylon.resolved).redact(error).slice(0, 500),
  });
  return reject(422, `${field} cannot be evaluated for this event; the daemon log has the reason`);
}

/** The answer to a body that could not be read in full. */
export function unreadable(
  reason: "too_large" | "timeout" | "aborted",
  max: number,
  log: Logger,
): Response {
  switch (reason) {
    case "too_large":
      log.warn("webhook.rejected", { status: 413, reason: "body too large" });
      return reject(413, `body is larger than server.max_body (${max} bytes)`);
    case "timeout":
      log.warn("webhook.rejected", { status: 408, reason: "body too slow" });
      return reject(408, "the body took longer than server.body_timeout to arrive", {
        connection: "close",
      });
    case "aborted":
      log.debug("webhook.rejected", { status: 400, reason: "body cut off" });
      return reject(400, "the body was cut off", { connection: "close" });
  }
}
