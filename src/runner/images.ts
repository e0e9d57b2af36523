/**
 * Agent images. Built-in ones (`pylon/agent-<type>`) are built locally from the build contexts
 * embedded in the binary (`embedded.ts`, generated from `agents/`) and are never pulled: that
 * name on a public registry is not ours. Their tag is a digest of everything that goes into the
 * build (the embedded files, the `BASE_IMAGE` build argument, the CA certificates), so an upgrade
 * that changes any of them builds a new image exactly once and an unchanged one is reused after a
 * single inspect. Custom images (`defaults.agent.<type>.image`) are pulled when missing.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { basename } from "node:path";
import {
  type DockerClient,
  DockerError,
  HINT_NOT_RUNNING,
  HINT_PERMISSION,
  type ProgressEvent,
  tarBytes,
  type TarBytesEntry,
} from "../docker/mod.ts";
import { PylonError } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import { EMBEDDED_AGENT_FILES, type EmbeddedFile } from "./embedded.ts";

/** Agent types with a built-in image; `mock` is the scriptable test agent. */
export const AGENT_IMAGE_TYPES = ["claude", "opencode", "mock"] as const;
/** A type of {@linkcode AGENT_IMAGE_TYPES}. */
export type AgentImageType = (typeof AGENT_IMAGE_TYPES)[number];
export type { EmbeddedFile };

/** Changing this renames every built-in image (use it if the digest input format changes). */
const DIGEST_FORMAT = "pylon-agent-image/1";
const TAG_LENGTH = 12;
const PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----";
const OUTPUT_TAIL_LINES = 12;
// deno-lint-ignore no-control-regex
const ANSI_ESCAPE_REGEXP = /\u001b\[[0-9;]*[A-Za-z]/g;

/** A CA certificate to add to an image: its file name inside `ca/` and its PEM bytes. */
export interface CaCertificate {
  name: string;
  data: Uint8Array;
}

/** What besides the embedded files decides an image's content. */
export interface AgentImageInputs {
  /** The `BASE_IMAGE` build argument; default: the Dockerfile's own default. */
  baseImage?: string | undefined;
  caCertificates?: readonly CaCertificate[] | undefined;
}

/** Progress and logging shared by the ensure functions. */
interface ImageCallOptions {
  docker: DockerClient;
  /** Human-readable progress lines (build output, pull status), without newlines. */
  onProgress?: ((line: string) => void) | undefined;
  log?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

/** Options of {@linkcode ensureAgentImage}. */
export interface EnsureAgentImageOptions extends ImageCallOptions {
  type: AgentImageType;
  /** Host paths of PEM CA certificates (`docker.ca_certificates`); `~/` means `home`. */
  caCertificates?: readonly string[] | undefined;
  /** `BASE_IMAGE` build argument (e.g. a local or mirrored Debian/Node image). */
  baseImage?: string | undefined;
  /** Home folder for `~/` in `caCertificates`. */
  home?: string | undefined;
  /** Build even if the image exists, without the build cache (`pylon rebuild-images`). */
  force?: boolean | undefined;
  /** Called when a build starts (not when the image is already there). */
  onBuild?: ((ref: string, baseImage: string) => void) | undefined;
  /** The build contexts; default: the embedded ones. Tests pass edited copies. */
  files?: Readonly<Record<string, readonly EmbeddedFile[]>> | undefined;
}

/** The embedded build context of `type`. */
export function agentFiles(
  type: AgentImageType,
  files: Readonly<Record<string, readonly EmbeddedFile[]>> = EMBEDDED_AGENT_FILES,
): readonly EmbeddedFile[] {
  const list = files[type];
  if (!list || list.length === 0) {
    throw new PylonError(`Cannot build agent image for "${type}": no embedded build context`, {
      hint: `known agent types: ${AGENT_IMAGE_TYPES.join(", ")}`,
    });
  }
  return list;
}

/** Hex sha256 over the files' paths, modes and contents plus `inputs` (stable across runs). */
export function agentImageDigest(
  files: readonly EmbeddedFile[],
  inputs: AgentImageInputs = {},
): string {
  const hash = createHash("sha256").update(`${DIGEST_FORMAT}\n`);
  const sorted = [...files].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  for (const f of sorted) {
    const sha = createHash("sha256").update(f.content).digest("hex");
    hash.update(`file ${JSON.stringify(f.path)} ${f.mode.toString(8)} ${sha}\n`);
  }
  if (inputs.baseImage) hash.update(`arg BASE_IMAGE=${JSON.stringify(inputs.baseImage)}\n`);
  for (const ca of inputs.caCertificates ?? []) {
    hash.update(
      `ca ${JSON.stringify(ca.name)} ${createHash("sha256").update(ca.data).digest("hex")}\n`,
    );
  }
  return hash.digest("hex");
}

/** `pylon/agent-<type>:<12 hex of the digest>`: the image built from `files` and `inputs`. */
export function agentImageRef(
  type: AgentImageType,
  files: readonly EmbeddedFile[] = agentFiles(type),
  inputs: AgentImageInputs = {},
): string {
  return `pylon/agent-${type}:${agentImageDigest(files, inputs).slice(0, TAG_LENGTH)}`;
}

/** The agent type when `ref` names a built-in image (`pylon/agent-<type>[:tag]`), else undefined. */
export function builtinAgentType(ref: string): AgentImageType | undefined {
  const m = /^pylon\/agent-([a-z]+)(?::[\w][\w.-]*)?$/.exec(ref);
  return AGENT_IMAGE_TYPES.find((t) => t === m?.[1]);
}

/** The build context: the agent's files plus `ca/<name>` for each certificate, as a tar. */
export function agentBuildContext(
  files: readonly EmbeddedFile[],
  caCertificates: readonly CaCertificate[] = [],
): Uint8Array {
  const entries: TarBytesEntry[] = files.map((f) => ({
    type: "file",
    path: f.path,
    data: f.content,
    mode: f.mode,
  }));
  if (caCertificates.length > 0) {
    entries.push({ type: "dir", path: "ca" });
    for (const ca of caCertificates) {
      entries.push({ type: "file", path: `ca/${ca.name}`, data: ca.data, mode: 0o644 });
    }
  }
  return tarBytes(entries);
}

/**
 * Reads PEM CA certificates from host paths, named `<n>-<file>.crt` for the build context
 * (`update-ca-certificates` only takes `.crt` files).
 *
 * @throws {PylonError} when a file is missing, unreadable or not a PEM certificate
 */
export async function readCaCertificates(
  paths: readonly string[],
  home?: string,
): Promise<CaCertificate[]> {
  const out: CaCertificate[] = [];
  for (const [i, raw] of paths.entries()) {
    const path = home && raw.startsWith("~/") ? `${home}${raw.slice(1)}` : raw;
    let data: Uint8Array;
    try {
      data = await Deno.readFile(path);
    } catch (e) {
      throw new PylonError(
        `Cannot read CA certificate "${raw}": ${e instanceof Error ? e.message : String(e)}`,
        { hint: "fix docker.ca_certificates in config.yaml (host paths of PEM files)", cause: e },
      );
    }
    if (!new TextDecoder().decode(data).includes(PEM_CERTIFICATE)) {
      throw new PylonError(`Cannot use CA certificate "${raw}": it is not a PEM certificate`, {
        hint: "docker.ca_certificates takes PEM files (-----BEGIN CERTIFICATE-----); convert " +
          "DER with `openssl x509 -inform der -in cert.der -out cert.crt`",
      });
    }
    const stem = basename(path).replace(/\.(crt|pem|cer)$/i, "").replace(/[^A-Za-z0-9._-]/g, "_");
    out.push({ name: `${i + 1}-${stem || "ca"}.crt`, data });
  }
  return out;
}

// Concurrent callers (start-up preparation and a first job) share one build per client and ref.
// A WeakMap keyed by the client keeps this from being a process-wide cache.
const inFlight = new WeakMap<DockerClient, Map<string, Promise<string>>>();

/**
 * Returns the built-in image of `type`, building it from the embedded context when it is missing
 * (or always, with `force`). Never pulls the image itself; the build pulls its base image.
 *
 * @throws {PylonError} naming the image, with a hint (base image, CA certificates, network)
 */
export async function ensureAgentImage(opts: EnsureAgentImageOptions): Promise<string> {
  const files = agentFiles(opts.type, opts.files);
  const caCertificates = await readCaCertificates(opts.caCertificates ?? [], opts.home);
  const ref = agentImageRef(opts.type, files, { baseImage: opts.baseImage, caCertificates });
  const pending = inFlight.get(opts.docker) ?? new Map<string, Promise<string>>();
  inFlight.set(opts.docker, pending);
  const running = pending.get(ref);
  if (running && !opts.force) return await running;
  const work = (async () => {
    if (!opts.force && await opts.docker.inspectImage(ref, { signal: opts.signal })) {
      opts.log?.debug("image.present", { image: ref });
      return ref;
    }
    await buildAgentImage(opts, ref, files, caCertificates);
    return ref;
  })();
  pending.set(ref, work);
  try {
    return await work;
  } finally {
    if (pending.get(ref) === work) pending.delete(ref);
  }
}

async function buildAgentImage(
  opts: EnsureAgentImageOptions,
  ref: string,
  files: readonly EmbeddedFile[],
  caCertificates: readonly CaCertificate[],
): Promise<void> {
  const started = performance.now();
  const base = opts.baseImage ?? dockerfileDefaultBase(files);
  opts.log?.info("image.build.started", {
    image: ref,
    base,
    ca_certificates: caCertificates.length,
    no_cache: opts.force === true,
  });
  opts.onBuild?.(ref, base);
  const output: string[] = [];
  let lastStep = "";
  try {
    await opts.docker.buildImage(agentBuildContext(files, caCertificates), {
      tag: ref,
      buildArgs: opts.baseImage ? { BASE_IMAGE: opts.baseImage } : undefined,
      labels: { "pylon.agent": opts.type, "pylon.digest": ref.slice(ref.indexOf(":") + 1) },
      noCache: opts.force === true,
      signal: opts.signal,
      onProgress(event) {
        for (const line of progressLines(event)) {
          if (/^Step \d+\/\d+ : /.test(line)) lastStep = line;
          output.push(line);
          if (output.length > OUTPUT_TAIL_LINES) output.shift();
          opts.onProgress?.(line);
        }
      },
    });
  } catch (e) {
    if (isConnectionError(e) || opts.signal?.aborted) throw e;
    const error = buildError(opts.type, ref, base, lastStep, output, e);
    opts.log?.error("image.build.failed", { image: ref, error: error.message.split("\n")[0] });
    throw error;
  }
  const ms = Math.round(performance.now() - started);
  opts.log?.info("image.build.finished", { image: ref, ms });
}

/**
 * Returns `ref`, pulling it when it is not present.
 *
 * @throws {PylonError} naming the image when the pull fails (the caller adds the pylon)
 */
export async function ensureCustomImage(ref: string, opts: ImageCallOptions): Promise<string> {
  if (await opts.docker.inspectImage(ref, { signal: opts.signal })) {
    opts.log?.debug("image.present", { image: ref });
    return ref;
  }
  const started = performance.now();
  opts.log?.info("image.pull.started", { image: ref });
  try {
    await opts.docker.pullImage(ref, {
      signal: opts.signal,
      onProgress(event) {
        for (const line of progressLines(event)) opts.onProgress?.(line);
      },
    });
  } catch (e) {
    if (isConnectionError(e)) throw e;
    const detail = engineDetail(e);
    opts.log?.error("image.pull.failed", { image: ref, error: detail });
    throw new PylonError(`Cannot pull agent image "${ref}": ${detail}`, {
      hint: `check the image name and that its registry is reachable (\`docker pull ${ref}\`); ` +
        "a private registry needs `docker login`",
      cause: e,
    });
  }
  opts.log?.info("image.pull.finished", {
    image: ref,
    ms: Math.round(performance.now() - started),
  });
  return ref;
}

/** Options of {@linkcode rebuildAgentImages}. */
export interface RebuildAgentImagesOptions extends ImageCallOptions {
  types: readonly AgentImageType[];
  caCertificates?: readonly string[] | undefined;
  /** `BASE_IMAGE` per type. */
  baseImages?: Partial<Record<AgentImageType, string>> | undefined;
  home?: string | undefined;
  /** Called when each type's build starts. */
  onBuild?: ((type: AgentImageType, ref: string, baseImage: string) => void) | undefined;
}

/** How one forced rebuild ended. */
export type RebuildResult =
  | { type: AgentImageType; ok: true; image: string; ms: number }
  | { type: AgentImageType; ok: false; error: PylonError };

/** Rebuilds each type's image without the build cache, one after the other; never throws. */
export async function rebuildAgentImages(
  opts: RebuildAgentImagesOptions,
): Promise<RebuildResult[]> {
  const results: RebuildResult[] = [];
  for (const type of opts.types) {
    const started = performance.now();
    try {
      const image = await ensureAgentImage({
        ...opts,
        type,
        baseImage: opts.baseImages?.[type],
        force: true,
        onBuild: (ref, base) => opts.onBuild?.(type, ref, base),
      });
      results.push({ type, ok: true, image, ms: Math.round(performance.now() - started) });
    } catch (e) {
      const error = e instanceof PylonError
        ? e
        : new PylonError(`Cannot build agent image for "${type}": ${String(e)}`, { cause: e });
      results.push({ type, ok: false, error });
    }
  }
  return results;
}

/** Turns one build/pull progress event into display lines (progress bars and noise dropped). */
export function progressLines(event: ProgressEvent): string[] {
  if (typeof event.stream === "string") {
    // The classic builder colours a step's stderr with terminal escapes.
    const text = event.stream.replace(ANSI_ESCAPE_REGEXP, "");
    return text.split("\n").map((l) => l.trimEnd()).filter((l) =>
      l.trim() !== "" && !/^ ---> |^Removing intermediate container /.test(l)
    );
  }
  if (typeof event.status === "string" && !event.progress) {
    return [event.id ? `${event.id}: ${event.status}` : event.status];
  }
  return [];
}

function dockerfileDefaultBase(files: readonly EmbeddedFile[]): string {
  const dockerfile = files.find((f) => f.path === "Dockerfile")?.content ?? "";
  return /^ARG BASE_IMAGE=(\S+)/m.exec(dockerfile)?.[1] ?? "(Dockerfile default)";
}

function isConnectionError(e: unknown): boolean {
  return e instanceof DockerError && (e.hint === HINT_NOT_RUNNING || e.hint === HINT_PERMISSION);
}

/** The Engine's own words, without the client's `Cannot build image "…": ` prefix. */
function engineDetail(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.replace(/^Cannot (build|pull) image "[^"]*": /, "");
}

function buildError(
  type: AgentImageType,
  ref: string,
  base: string,
  lastStep: string,
  output: readonly string[],
  e: unknown,
): PylonError {
  const detail = engineDetail(e);
  const text = `${detail}\n${output.join("\n")}`;
  const atFrom = /^Step \d+\/\d+ : FROM /i.test(lastStep);
  let hint = `see the build output; retry with \`pylon rebuild-images ${type}\``;
  if (atFrom) {
    hint = `the base image "${base}" could not be pulled: set defaults.agent.${type}.base_image ` +
      "in config.yaml (or `pylon rebuild-images --base-image`) to an image available here, or " +
      "check registry access and proxy settings of the Docker daemon";
  } else if (/x509|certificate|SSL|self[- ]signed|UNABLE_TO_(GET|VERIFY)|CERT_/i.test(text)) {
    hint = "HTTPS from the build failed certificate checks (a TLS-intercepting proxy?): list " +
      "its CA certificates (PEM) under docker.ca_certificates in config.yaml";
  } else if (
    /Temporary failure resolving|Could not resolve|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|network is unreachable/i
      .test(text)
  ) {
    hint = "the build could not reach a package server (Debian or npm): check the network and " +
      "proxy settings of the Docker daemon";
  }
  const tail = output.length > 0 ? `\nLast build output:\n  ${output.join("\n  ")}` : "";
  return new PylonError(`Cannot build agent image "${ref}": ${detail}${tail}`, { hint, cause: e });
}
