/**
 * Image operations of the Engine client: inspect, import, build, pull, remove.
 *
 * @module
 */

import type {
  BuildImageOptions,
  ImportImageOptions,
  PullImageOptions,
  SignalOptions,
  TarSource,
} from "./client.ts";
import { DockerError } from "./errors.ts";
import { readProgress } from "./progress.ts";
import type { EngineTransport } from "./transport.ts";
import type { ImageInfo } from "./types.ts";

/**
 * How long an import, build or pull may take to start answering: the Engine first reads the whole
 * tar body (or reaches the registry). Their progress streams then run until the caller's signal.
 */
export const IMAGE_TIMEOUT_MS = 10 * 60_000;

/** `GET /images/{ref}/json`; null on 404. */
export async function inspectImage(
  t: EngineTransport,
  ref: string,
  opts: SignalOptions = {},
): Promise<ImageInfo | null> {
  const ctx = { op: "image.inspect", action: `inspect image "${ref}"` };
  return await t.jsonOrNull<ImageInfo>(ctx, `/images/${encodeURIComponent(ref)}/json`, {
    signal: opts.signal,
  });
}

/** `POST /images/create?fromSrc=-`: a rootfs tarball becomes `repo:tag`; returns the image id. */
export async function importImage(
  t: EngineTransport,
  source: TarSource,
  opts: ImportImageOptions,
): Promise<string> {
  const ref = `${opts.repo}:${opts.tag}`;
  const ctx = { op: "image.import", action: `import image "${ref}"` };
  const res = await t.request(ctx, "/images/create", {
    method: "POST",
    query: { fromSrc: "-", repo: opts.repo, tag: opts.tag, changes: opts.changes },
    body: source,
    contentType: "application/x-tar",
    signal: opts.signal,
    timeoutMs: IMAGE_TIMEOUT_MS,
  });
  const summary = await readProgress(res.body ?? [], ctx);
  if (summary.imageId) return summary.imageId;
  const info = await inspectImage(t, ref, opts);
  if (!info) {
    throw new DockerError(`Cannot import image "${ref}": the Engine reported no image`, {
      op: ctx.op,
      hint: "check that the archive is a valid tar of a root filesystem",
    });
  }
  return info.Id;
}

/** `POST /build` with a tar context (classic builder); returns the image id. */
export async function buildImage(
  t: EngineTransport,
  context: TarSource,
  opts: BuildImageOptions,
): Promise<string> {
  const ctx = { op: "image.build", action: `build image "${opts.tag}"` };
  const res = await t.request(ctx, "/build", {
    method: "POST",
    query: {
      t: opts.tag,
      dockerfile: opts.dockerfile,
      buildargs: opts.buildArgs ? JSON.stringify(opts.buildArgs) : undefined,
      labels: opts.labels ? JSON.stringify(opts.labels) : undefined,
      nocache: opts.noCache,
      rm: true,
      forcerm: true, // no intermediate containers left behind by a failed step
    },
    body: context,
    contentType: "application/x-tar",
    signal: opts.signal,
    timeoutMs: IMAGE_TIMEOUT_MS,
  });
  const summary = await readProgress(res.body ?? [], ctx, opts.onProgress);
  if (summary.imageId) return summary.imageId;
  const info = await inspectImage(t, opts.tag, opts);
  if (!info) {
    throw new DockerError(`Cannot build image "${opts.tag}": the Engine reported no image`, {
      op: ctx.op,
      hint: "see the build output for the last step that ran",
    });
  }
  return info.Id;
}

/** `POST /images/create?fromImage=…&tag=…`, reading progress to the end. */
export async function pullImage(
  t: EngineTransport,
  ref: string,
  opts: PullImageOptions = {},
): Promise<void> {
  const ctx = { op: "image.pull", action: `pull image "${ref}"`, image: ref };
  const { name, tag } = splitImageRef(ref);
  const res = await t.request(ctx, "/images/create", {
    method: "POST",
    query: { fromImage: name, tag },
    signal: opts.signal,
    timeoutMs: IMAGE_TIMEOUT_MS,
  });
  await readProgress(res.body ?? [], ctx, opts.onProgress);
}

/** `DELETE /images/{ref}`; false on 404. */
export async function removeImage(
  t: EngineTransport,
  ref: string,
  opts: { force?: boolean | undefined } & SignalOptions = {},
): Promise<boolean> {
  const ctx = { op: "image.remove", action: `remove image "${ref}"` };
  const status = await t.send(ctx, `/images/${encodeURIComponent(ref)}`, {
    method: "DELETE",
    query: { force: opts.force },
    allow: [404],
    signal: opts.signal,
  });
  return status !== 404;
}

/**
 * Splits `registry:5000/repo/name:tag` / `name@sha256:…` into the `fromImage` and `tag` the pull
 * endpoint wants; a missing tag means `latest` (an empty tag would pull every tag).
 */
export function splitImageRef(ref: string): { name: string; tag: string } {
  const at = ref.indexOf("@");
  if (at >= 0) return { name: ref.slice(0, at), tag: ref.slice(at + 1) };
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: "latest" };
}
