/**
 * The `DockerClient` interface pylon uses to drive a Docker Engine, and its factory.
 *
 * Design note (why the client looks like this):
 * - Transport: Deno's own `fetch` with `Deno.createHttpClient({ proxy: { transport: "unix" } })`,
 *   not `npm:docker-modem`. Both work under Deno 2.9.6; fetch gives web streams (logs, tar bodies)
 *   and AbortSignal natively, keeps the compiled binary free of Node stream shims and the
 *   `ssh2`/`cpu-features` optional natives modem drags in, and its errors carry the OS error
 *   (`os error 2`/`13`/`111`) we turn into hints. TCP endpoints use the same fetch with an
 *   ordinary (optionally TLS) HttpClient.
 * - API version: negotiated once per client from the unversioned `GET /version`: the newest of
 *   the Engine's `ApiVersion` and ours ({@linkcode MAX_API_VERSION}, Docker 27), refusing engines
 *   older than {@linkcode MIN_API_VERSION} (Docker 20.10 = Debian bookworm's docker.io). One fixed
 *   prefix cannot serve both: bookworm's engine stops at 1.41 and Docker 29 starts at 1.44.
 *   `DOCKER_API_VERSION` or the `apiVersion` option pins it, as with the docker CLI.
 * - Waiting: `armWait` resolves only once the Engine has answered the wait request's headers,
 *   i.e. the wait is registered. Arm it before `startContainer` (`condition: "next-exit"`) and the
 *   exit can never slip between start and wait — the race the Go reference had when it waited only
 *   after the log stream ended (with AutoRemove, the container could be gone by then).
 * - Wire types keep the Engine's field names (see `types.ts`); options are camelCase.
 *
 * @module
 */

import type { ConfigInfo } from "./_configs.ts";
import type { NetworkCreateSpec, NetworkInfo } from "./_networks.ts";
import { parseDockerHost } from "./host.ts";
import {
  DEFAULT_TIMEOUT_MS,
  type DockerTlsOptions,
  EngineTransport,
  MAX_API_VERSION,
  MIN_API_VERSION,
} from "./transport.ts";
import { EngineClient } from "./engine.ts";
import type { ExecSession, ExecSessionOptions } from "./_attach.ts";
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerSummary,
  EngineVersion,
  ExecResult,
  ExecSpec,
  ImageInfo,
  LogChunk,
  ProgressEvent,
  ServiceInfo,
  ServiceSpec,
  SwarmNode,
  TaskInfo,
} from "./types.ts";

/** Bytes of a tar archive, in memory or streamed. */
export type TarSource = Uint8Array | ReadableStream<Uint8Array>;

/** Cancellation, accepted by every call; an aborted call rejects with the signal's reason. */
export interface SignalOptions {
  signal?: AbortSignal | undefined;
}

/** Options of {@linkcode DockerClient.importImage}. */
export interface ImportImageOptions extends SignalOptions {
  repo: string;
  tag: string;
  /** Dockerfile instructions applied to the image, e.g. `CMD ["/bin/sh"]`, `LABEL a=b`. */
  changes?: string[] | undefined;
}

/** Options of {@linkcode DockerClient.buildImage}. */
export interface BuildImageOptions extends SignalOptions {
  /** `name:tag` given to the result. */
  tag: string;
  /** Path of the Dockerfile inside the context; default `Dockerfile`. */
  dockerfile?: string | undefined;
  buildArgs?: Record<string, string> | undefined;
  labels?: Record<string, string> | undefined;
  noCache?: boolean | undefined;
  onProgress?: ((event: ProgressEvent) => void) | undefined;
}

/** Options of {@linkcode DockerClient.pullImage}. */
export interface PullImageOptions extends SignalOptions {
  onProgress?: ((event: ProgressEvent) => void) | undefined;
}

/** When a wait completes. */
export type WaitCondition = "not-running" | "next-exit" | "removed";

/** Options of {@linkcode DockerClient.armWait} and {@linkcode DockerClient.waitContainer}. */
export interface WaitOptions extends SignalOptions {
  /** Default `not-running`; use `next-exit` when arming before start. */
  condition?: WaitCondition | undefined;
}

/** A registered wait; `exitCode` settles when the condition is met. */
export interface ContainerWaitHandle {
  exitCode: Promise<number>;
}

/** Options of {@linkcode DockerClient.containerLogs}. */
export interface LogsOptions extends SignalOptions {
  follow?: boolean | undefined;
  /** Default true. */
  stdout?: boolean | undefined;
  /** Default true. */
  stderr?: boolean | undefined;
  /** Only output after this time (a Date or Unix seconds). */
  since?: Date | number | undefined;
  /** Number of lines from the end, or `all`. */
  tail?: number | "all" | undefined;
  /** Whether the container has a TTY; looked up when left out. */
  tty?: boolean | undefined;
}

/** Options of {@linkcode DockerClient.listContainers}. */
export interface ListContainersOptions extends SignalOptions {
  /** Label filters: a value matches `key=value`, `true` matches any container having the key. */
  labels?: Record<string, string | true> | undefined;
  /** Include stopped containers; default false. */
  all?: boolean | undefined;
}

/**
 * Everything pylon does with a Docker Engine. Fakes implement this in tests. Every call takes a
 * `signal` and, in the real client, a timeout (see {@linkcode CreateDockerClientOptions.timeoutMs}):
 * a hung Engine cannot hold a caller forever.
 */
export interface DockerClient extends Disposable {
  /** Checks that the Engine answers. */
  ping(opts?: SignalOptions): Promise<void>;
  /** Engine and API versions. */
  version(opts?: SignalOptions): Promise<EngineVersion>;

  /** Inspects an image; null when it does not exist. */
  inspectImage(ref: string, opts?: SignalOptions): Promise<ImageInfo | null>;
  /** Creates an image from a root filesystem tarball; returns its id. */
  importImage(source: TarSource, opts: ImportImageOptions): Promise<string>;
  /** Builds an image from a context tarball; returns its id. */
  buildImage(context: TarSource, opts: BuildImageOptions): Promise<string>;
  /** Pulls an image (`name`, `name:tag` or `name@sha256:…`). */
  pullImage(ref: string, opts?: PullImageOptions): Promise<void>;
  /** Removes an image; false when it did not exist. */
  removeImage(
    ref: string,
    opts?: { force?: boolean | undefined } & SignalOptions,
  ): Promise<boolean>;

  /** Creates a container; returns its id. */
  createContainer(
    spec: ContainerSpec,
    opts?: { name?: string | undefined } & SignalOptions,
  ): Promise<string>;
  /** Starts a container (a no-op when it already runs). */
  startContainer(id: string, opts?: SignalOptions): Promise<void>;
  /** Registers a wait with the Engine; resolves once registered. */
  armWait(id: string, opts?: WaitOptions): Promise<ContainerWaitHandle>;
  /** Waits for a container (default: until not running); returns its exit code. */
  waitContainer(id: string, opts?: WaitOptions): Promise<number>;
  /** Streams a container's output, demultiplexed into stdout and stderr. */
  containerLogs(id: string, opts?: LogsOptions): AsyncIterable<LogChunk>;
  /** Sends a signal (default SIGKILL) to a running container. */
  killContainer(id: string, signal?: string, opts?: SignalOptions): Promise<void>;
  /** Removes a container; false when it did not exist. */
  removeContainer(
    id: string,
    opts?: { force?: boolean | undefined; volumes?: boolean | undefined } & SignalOptions,
  ): Promise<boolean>;
  /** Inspects a container; null when it does not exist. */
  inspectContainer(id: string, opts?: SignalOptions): Promise<ContainerInfo | null>;
  /** Lists containers, optionally filtered by labels. */
  listContainers(opts?: ListContainersOptions): Promise<ContainerSummary[]>;

  /** Prepares a command to run in a running container; returns the exec id. */
  createExec(containerId: string, spec: ExecSpec, opts?: SignalOptions): Promise<string>;
  /** Runs a prepared exec to its end and captures its output and exit code. */
  startExec(execId: string, opts?: SignalOptions): Promise<ExecResult>;

  /**
   * `PUT /containers/{id}/archive`: extracts a tar into a (created, not yet started) container
   * at `path`, e.g. a job's channel token (never in `docker inspect`); fakes may leave it out.
   */
  putArchive?(id: string, path: string, tar: Uint8Array, opts?: SignalOptions): Promise<void>;

  /** Swarm services, tasks and secrets (`docker.backend: swarm`); fakes may leave it out. */
  swarm?: SwarmApi | undefined;

  /** Networks (the egress job network, `src/egress/`); fakes may leave it out. */
  networks?: NetworksApi | undefined;

  /** Starts an interactive command with a TTY (`pylon attach`); fakes may leave it out. */
  openExecSession?(containerId: string, opts: ExecSessionOptions): Promise<ExecSession>;

  /** Releases pooled connections. */
  close(): void;
}

/** Bridge networks (`_networks.ts`). */
export interface NetworksApi {
  /** Null when there is no such network. */
  inspect(name: string, opts?: SignalOptions): Promise<NetworkInfo | null>;
  /** Creates a network (bridge unless `driver`); `internal` gives it no route out. Its id. */
  create(spec: NetworkCreateSpec, opts?: SignalOptions): Promise<string>;
  /** Joins `container` to `network` as well (the egress relay of a remote Engine). */
  connect?(network: string, container: string, opts?: SignalOptions): Promise<void>;
}

/** What the Swarm backend does with the Engine of a Swarm manager (`_services.ts`, `_secrets.ts`). */
export interface SwarmApi {
  /** `Swarm.LocalNodeState` of the Engine (`worker` when it is active but not a manager). */
  state(opts?: SignalOptions): Promise<string>;
  nodes(opts?: SignalOptions): Promise<SwarmNode[]>;
  createService(spec: ServiceSpec, opts?: SignalOptions): Promise<string>;
  inspectService(id: string, opts?: SignalOptions): Promise<ServiceInfo | null>;
  listServices(
    opts?: { labels?: Record<string, string | true> | undefined } & SignalOptions,
  ): Promise<ServiceInfo[]>;
  removeService(id: string, opts?: SignalOptions): Promise<boolean>;
  serviceLogs(id: string, opts?: LogsOptions): AsyncIterable<LogChunk>;
  tasks(serviceId: string, opts?: SignalOptions): Promise<TaskInfo[]>;
  createSecret(
    name: string,
    data: Uint8Array,
    opts?: { labels?: Record<string, string> | undefined } & SignalOptions,
  ): Promise<string>;
  removeSecret(id: string, opts?: SignalOptions): Promise<boolean>;
  listSecrets(
    opts?: { labels?: Record<string, string> | undefined } & SignalOptions,
  ): Promise<{ ID: string; Spec: { Name: string; Labels?: Record<string, string> } }[]>;
  /** `POST /configs/create`; null when a config of that name exists (`_configs.ts`). */
  createConfig(
    name: string,
    data: Uint8Array,
    opts?: { labels?: Record<string, string> | undefined } & SignalOptions,
  ): Promise<string | null>;
  listConfigs(
    opts?:
      & { labels?: Record<string, string> | undefined; name?: string | undefined }
      & SignalOptions,
  ): Promise<ConfigInfo[]>;
  /** False on 404; throws when a service still uses it. */
  removeConfig(id: string, opts?: SignalOptions): Promise<boolean>;
  /** `POST /images/{ref}/tag`. */
  tagImage(ref: string, repo: string, tag: string, opts?: SignalOptions): Promise<void>;
  /** `POST /images/{ref}/push` (a registry without login). */
  pushImage(ref: string, opts?: SignalOptions): Promise<void>;
}

/** Options of {@linkcode createDockerClient}. */
export interface CreateDockerClientOptions {
  /** `unix:///path`, `tcp://host:port`, `http(s)://…`; default `env.DOCKER_HOST`, then the socket. */
  host?: string | undefined;
  /** Environment to read `DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_API_VERSION` from. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Pins the API version (skips negotiation). */
  apiVersion?: string | undefined;
  /** Certificates for a TLS TCP endpoint. */
  tls?: DockerTlsOptions | undefined;
  /**
   * How long a call waits for the Engine's answer (streams: their headers) unless it passes its
   * own. Every call also takes the caller's `signal`.
   * @default {@linkcode DEFAULT_TIMEOUT_MS} (60 s)
   */
  timeoutMs?: number | undefined;
}

/**
 * Creates a client for the Engine at `host`/`DOCKER_HOST`. Does no I/O; the first call connects.
 *
 * @throws {DockerError} when `DOCKER_HOST` has an unsupported form
 */
export function createDockerClient(opts: CreateDockerClientOptions = {}): DockerClient {
  const env = opts.env ?? {};
  const endpoint = parseDockerHost(opts.host, env);
  const pinned = opts.apiVersion ?? (env.DOCKER_API_VERSION || undefined);
  return new EngineClient(new EngineTransport(endpoint, pinned, opts.tls, opts.timeoutMs));
}

export { DEFAULT_TIMEOUT_MS, MAX_API_VERSION, MIN_API_VERSION };
