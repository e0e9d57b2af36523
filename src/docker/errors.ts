/**
 * `DockerError` and the rules that turn Engine answers and socket failures into messages a user
 * can act on. Kept apart from the transport so fakes can raise the same errors.
 *
 * @module
 */

import { PylonError, type PylonErrorOptions } from "../errors.ts";

/** Hint shown when the Engine cannot be reached at all. */
export const HINT_NOT_RUNNING =
  "is Docker running? start it with `sudo systemctl start docker` or run `pylon doctor`";

/** Hint shown when the socket exists but the user may not open it. */
export const HINT_PERMISSION =
  "add the user to the docker group (`sudo usermod -aG docker $USER`, then log in again)";

/** Options of a {@linkcode DockerError}. */
export interface DockerErrorOptions extends PylonErrorOptions {
  /** The operation that failed, dotted: `container.create`, `image.build`. */
  op: string;
  /** HTTP status of the Engine's answer; undefined when no answer came (or a stream failed). */
  status?: number | undefined;
}

/** A Docker Engine operation failed; `op` and `status` let callers branch (404, 409). */
export class DockerError extends PylonError {
  /** The operation that failed, e.g. `container.create`. */
  readonly op: string;
  /** HTTP status from the Engine, if it answered. */
  readonly status: number | undefined;

  constructor(message: string, options: DockerErrorOptions) {
    super(message, options);
    this.name = "DockerError";
    this.op = options.op;
    this.status = options.status;
  }
}

/** What a failing call was doing, used to phrase its error. */
export interface DockerErrorContext {
  /** Dotted operation name, e.g. `image.inspect`. */
  op: string;
  /** Human phrase after "Cannot", e.g. `inspect image "busybox"`. */
  action: string;
  /** The image involved, so a 404 can name it. */
  image?: string | undefined;
  /** Values that must never appear in a message (container env values). */
  secrets?: readonly string[] | undefined;
}

/** Builds the error for a non-2xx Engine answer whose body said `engineMessage`. */
export function engineError(
  ctx: DockerErrorContext,
  status: number | undefined,
  engineMessage: string,
): DockerError {
  const text = redact(cleanMessage(engineMessage) || `HTTP ${status}`, ctx.secrets);
  return new DockerError(`Cannot ${ctx.action}: ${text}`, {
    op: ctx.op,
    status,
    hint: hintFor(ctx, status, text),
  });
}

/** Builds the error for a request that got no answer (socket missing, refused, forbidden). */
export function connectError(ctx: DockerErrorContext, target: string, cause: unknown): DockerError {
  const detail = causeText(cause);
  let reason = `cannot reach the Docker Engine at ${target} (${detail})`;
  let hint = HINT_NOT_RUNNING;
  if (/os error 2\b|No such file/i.test(detail)) {
    reason = `the Docker socket ${target} does not exist`;
  } else if (/os error 13\b|Permission denied/i.test(detail)) {
    reason = `permission denied on the Docker socket ${target}`;
    hint = HINT_PERMISSION;
  } else if (/os error 111\b|Connection refused/i.test(detail)) {
    reason = `nothing answers on ${target} (connection refused)`;
  }
  return new DockerError(`Cannot ${ctx.action}: ${reason}`, { op: ctx.op, hint, cause });
}

/** Replaces every secret (of 3+ characters) in `text` with `***`. */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  if (!secrets) return text;
  let out = text;
  for (const s of secrets) {
    if (s.length >= 3) out = out.split(s).join("***");
  }
  return out;
}

/** Env values of `KEY=value` entries, for {@linkcode redact}. */
export function envValues(env: readonly string[] | undefined): string[] {
  if (!env) return [];
  return env.map((e) => e.slice(e.indexOf("=") + 1)).filter((v) => v.length > 0);
}

function hintFor(ctx: DockerErrorContext, status: number | undefined, text: string): string {
  const image = ctx.image;
  if (image && ctx.op === "image.pull") {
    return `check the image name "${image}" and that its registry is reachable ` +
      `(\`docker pull ${image}\` shows the same; private registries need \`docker login\`)`;
  }
  if (image && (status === 404 || /no such image|not found|pull access denied/i.test(text))) {
    return `the image "${image}" is not present: build it, or run \`docker pull ${image}\` ` +
      "(and `docker login` for a private registry)";
  }
  if (status === 404) {
    return "it may have been removed already; list what exists with `docker ps -a`";
  }
  if (status === 409) {
    return "the object is in a conflicting state; inspect it with `docker inspect`";
  }
  if (status === 400) {
    return "this is likely a bug in pylon; please report it with `pylon doctor` output";
  }
  return "see the Docker daemon log (`journalctl -u docker`) or run `pylon doctor`";
}

function cleanMessage(message: string): string {
  return message.trim().replace(/\.$/, "");
}

function causeText(cause: unknown): string {
  let e: unknown = cause;
  // fetch wraps the socket error: TypeError("fetch failed") with the OS error as `cause`.
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  const text = e instanceof Error ? e.message : String(e);
  const m = /\(Connect\): (.*)$/.exec(text);
  return m?.[1] ?? text;
}
