/**
 * Delivery ids: the key that marks a webhook request as a redelivery of one already accepted, so
 * the webhook route can answer with the first job instead of starting another. Pure.
 *
 * A good key is the same on every retry of one event and different for distinct events, so
 * per-attempt ids (fresh on each retry) are used only as a last resort: they dedupe nothing, but
 * they also never merge two real events.
 *
 * @module
 */

/** Longest delivery id returned; longer ones are cut (ids are compared, never parsed). */
export const MAX_DELIVERY_ID_LENGTH = 200;

/**
 * Headers tried in order when `trigger.delivery_header` is not set. Sender-specific and
 * retry-stable ids come first; `X-Request-Id` comes last because reverse proxies (nginx
 * `$request_id`, Heroku, Render…) add a fresh one to every request, which would hide a better key.
 * `Idempotency-Key` beats `X-Gitlab-Event-UUID`: GitLab (17.4+) sends both, and only the former is
 * documented to stay the same across retries.
 */
const FIRST_HEADERS = ["X-GitHub-Delivery", "Idempotency-Key", "X-Gitlab-Event-UUID"] as const;
const LAST_HEADERS = ["X-Delivery-Id", "X-Webhook-Id", "X-Request-Id"] as const;

/** What is read of a request's headers (`Headers`, or the webhook route's copy of them). */
export type HeaderReader = Pick<Headers, "get" | "has">;

/**
 * The delivery id of a request, namespaced by where it came from (`x-github-delivery:<guid>`,
 * `sentry:error:<event_id>`), or null when the request carries none. With `configured` (the
 * pylon's `trigger.delivery_header`) only that header counts.
 */
export function deliveryIdOf(
  headers: HeaderReader,
  body: unknown,
  configured?: string,
): string | null {
  if (configured !== undefined && configured.trim() !== "") {
    return fromHeader(headers, configured.trim());
  }
  for (const name of FIRST_HEADERS) {
    const id = fromHeader(headers, name);
    if (id !== null) return id;
  }
  const fromBody = sentryKey(headers, body) ?? slackKey(headers, body) ?? stripeKey(headers, body);
  if (fromBody !== null) return cap(fromBody);
  for (const name of LAST_HEADERS) {
    const id = fromHeader(headers, name);
    if (id !== null) return id;
  }
  return null;
}

function fromHeader(headers: HeaderReader, name: string): string | null {
  const value = headers.get(name);
  return value === null || value === "" ? null : cap(`${name.toLowerCase()}:${value}`);
}

function cap(id: string): string {
  return id.length > MAX_DELIVERY_ID_LENGTH ? id.slice(0, MAX_DELIVERY_ID_LENGTH) : id;
}

/**
 * Sentry integration-platform webhooks have no retry-stable delivery header. `Request-ID` is a
 * fresh `uuid4().hex` and `Sentry-Hook-Timestamp` the send time, both minted again when Sentry's
 * task retries (3 times, 5 minutes apart, on network errors and timeouts), so neither can dedupe.
 * What stays the same across retries is the payload: the task re-sends the same `data`. The key
 * is therefore `Sentry-Hook-Resource` plus the body's identity:
 *
 * - `error`: `data.error.event_id`; a Sentry event id is unique and fires this resource once.
 * - `event_alert`: `data.event.event_id` plus `data.triggered_rule`; one event can match several
 *   alert rules, and each match is a distinct delivery.
 * - any resource with action `created` (`issue`, `comment`, `installation`…): the resource's own
 *   id (`data.issue.id`, `data.comment_id`…); a thing is created once.
 * - every other action (`issue` resolved/assigned/unresolved, `comment` updated, `metric_alert`
 *   critical/warning/resolved, `seer` steps…): the id and action plus a fingerprint of `data`,
 *   because the same transition can legitimately happen again later (resolve, reopen, resolve),
 *   and merging a real event into an old job is worse than running a rare retry twice.
 */
function sentryKey(headers: HeaderReader, body: unknown): string | null {
  const resource = headers.get("Sentry-Hook-Resource");
  if (resource === null || resource === "" || !isRecord(body)) return null;
  const data = isRecord(body.data) ? body.data : undefined;
  if (data === undefined) return null;
  const action = text(body.action) ?? "";
  if (resource === "error") {
    const eventId = text(field(data.error, "event_id"));
    return eventId === undefined ? null : `sentry:error:${eventId}`;
  }
  if (resource === "event_alert") {
    const eventId = text(field(data.event, "event_id"));
    if (eventId === undefined) return null;
    return `sentry:event_alert:${eventId}:${text(data.triggered_rule) ?? ""}`;
  }
  const id = sentryResourceId(resource, data);
  if (action === "created" && id !== undefined) return `sentry:${resource}:created:${id}`;
  return `sentry:${resource}:${action}:${id ?? "-"}:${fingerprint(data)}`;
}

/** The id of the thing a Sentry resource webhook is about, where the payload has one. */
function sentryResourceId(resource: string, data: Record<string, unknown>): string | undefined {
  switch (resource) {
    case "issue":
      return text(field(data.issue, "id"));
    case "comment":
      return text(data.comment_id);
    case "metric_alert":
      return text(field(data.metric_alert, "id"));
    case "installation":
      return text(field(data.installation, "uuid"));
    case "seer":
      return text(data.run_id);
    default:
      return text(field(data[resource], "id"));
  }
}

/** Slack Events API callbacks carry `event_id`, which Slack keeps across its retries. */
function slackKey(headers: HeaderReader, body: unknown): string | null {
  if (!headers.has("X-Slack-Request-Timestamp") || !isRecord(body)) return null;
  const eventId = body.type === "event_callback" ? text(body.event_id) : undefined;
  return eventId === undefined ? null : `slack:${eventId}`;
}

/** Stripe redelivers the same event object, so its `evt_…` id is the key. */
function stripeKey(headers: HeaderReader, body: unknown): string | null {
  if (!headers.has("Stripe-Signature") || !isRecord(body) || body.object !== "event") return null;
  const id = text(body.id);
  return id === undefined ? null : `stripe:${id}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

/** A non-empty string or a finite number as text; undefined for anything else. */
function text(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  return typeof value === "number" && Number.isFinite(value) ? String(value) : undefined;
}

/**
 * A 64-bit FNV-1a hash (16 hex digits) of `value` as JSON with sorted keys, so the same payload
 * gives the same fingerprint whatever order its keys arrive in. Not cryptographic: it only has to
 * tell a sender's distinct events apart, and the body is authenticated before it gets here.
 */
function fingerprint(value: unknown): string {
  const json = canonicalJson(value);
  let high = 0xcbf29ce4;
  let low = 0x84222325;
  for (let i = 0; i < json.length; i++) {
    low = (low ^ json.charCodeAt(i)) >>> 0;
    // Multiply by the FNV prime 2^40 + 0x1b3, modulo 2^64, in 32-bit halves.
    const product = low * 0x1b3;
    const carry = Math.floor(product / 0x100000000);
    high = (Math.imul(high, 0x1b3) + (low << 8) + carry) >>> 0;
    low = product >>> 0;
  }
  return high.toString(16).padStart(8, "0") + low.toString(16).padStart(8, "0");
}

/**
 * SHA-256 (hex) of `payload` as JSON with sorted keys: what a delivery id is compared against,
 * so a redelivery matches whatever order or spacing its keys arrive in, and a different event
 * reusing the id does not.
 */
export async function payloadDigest(payload: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson(payload));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A frame of {@linkcode canonicalJson}'s walk: a container and the next entry to write. */
type JsonFrame =
  | { items: readonly unknown[]; i: number }
  | { object: Record<string, unknown>; keys: string[]; i: number };

/**
 * `value` as JSON with sorted keys. Iterative, not recursive: a payload nested thousands deep
 * (JSON.parse takes any depth) must not overflow the stack.
 */
function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: JsonFrame[] = [];
  const open = (v: unknown) => {
    if (Array.isArray(v)) {
      out.push("[");
      stack.push({ items: v, i: 0 });
    } else if (isRecord(v)) {
      out.push("{");
      stack.push({
        object: v,
        keys: Object.keys(v).filter((k) => v[k] !== undefined).sort(),
        i: 0,
      });
    } else {
      out.push(JSON.stringify(v) ?? "null");
    }
  };
  open(value);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if ("items" in frame) {
      if (frame.i === frame.items.length) {
        out.push("]");
        stack.pop();
        continue;
      }
      if (frame.i > 0) out.push(",");
      open(frame.items[frame.i++]);
    } else {
      if (frame.i === frame.keys.length) {
        out.push("}");
        stack.pop();
        continue;
      }
      if (frame.i > 0) out.push(",");
      const key = frame.keys[frame.i++]!;
      out.push(`${JSON.stringify(key)}:`);
      open(frame.object[key]);
    }
  }
  return out.join("");
}
