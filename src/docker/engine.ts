/**
 * `EngineClient`: the real {@linkcode DockerClient}, talking HTTP to a Docker Engine through
 * {@linkcode EngineTransport}. Each method delegates to the operation files, so this class stays a
 * table of contents.
 *
 * @module
 */

import { type ExecSession, type ExecSessionOptions, openExecSession } from "./_attach.ts";
import * as configs from "./_configs.ts";
import * as containers from "./_containers.ts";
import * as exec from "./_exec.ts";
import * as images from "./_images.ts";
import * as networks from "./_networks.ts";
import * as secrets from "./_secrets.ts";
import * as services from "./_services.ts";
import type {
  BuildImageOptions,
  ContainerWaitHandle,
  DockerClient,
  ImportImageOptions,
  ListContainersOptions,
  LogsOptions,
  NetworksApi,
  PullImageOptions,
  SignalOptions,
  SwarmApi,
  TarSource,
  WaitOptions,
} from "./client.ts";
import { DockerError } from "./errors.ts";
import type { EngineTransport } from "./transport.ts";
import type {
  ContainerInfo,
  ContainerSpec,
  ContainerSummary,
  EngineVersion,
  ExecResult,
  ExecSpec,
  ImageInfo,
  LogChunk,
} from "./types.ts";

/** A {@linkcode DockerClient} backed by the Docker Engine HTTP API. */
export class EngineClient implements DockerClient {
  #t: EngineTransport;

  /** Swarm services, tasks and secrets (`_services.ts`, `_secrets.ts`). */
  readonly swarm: SwarmApi;
  /** Networks (`_networks.ts`). */
  readonly networks: NetworksApi;

  constructor(transport: EngineTransport) {
    this.#t = transport;
    const t = transport;
    this.swarm = {
      state: (o) => services.swarmState(t, o),
      nodes: (o) => services.listNodes(t, o),
      createService: (spec, o) => services.createService(t, spec, o),
      inspectService: (id, o) => services.inspectService(t, id, o),
      listServices: (o) => services.listServices(t, o),
      removeService: (id, o) => services.removeService(t, id, o),
      serviceLogs: (id, o) => services.serviceLogs(t, id, o),
      tasks: (id, o) => services.serviceTasks(t, id, o),
      createSecret: (name, data, o) => secrets.createSecret(t, name, data, o),
      removeSecret: (id, o) => secrets.removeSecret(t, id, o),
      listSecrets: (o) => secrets.listSecrets(t, o),
      createConfig: (name, data, o) => configs.createConfig(t, name, data, o),
      listConfigs: (o) => configs.listConfigs(t, o),
      removeConfig: (id, o) => configs.removeConfig(t, id, o),
      tagImage: (ref, repo, tag, o) => services.tagImage(t, ref, repo, tag, o),
      pushImage: (ref, o) => services.pushImage(t, ref, o),
    };
    this.networks = {
      inspect: (name, o) => networks.inspectNetwork(t, name, o),
      create: (spec, o) => networks.createNetwork(t, spec, o),
      connect: (network, container, o) => networks.connectNetwork(t, network, container, o),
    };
  }

  /** Starts an interactive command with a TTY in a running container. */
  openExecSession(containerId: string, opts: ExecSessionOptions): Promise<ExecSession> {
    return openExecSession(this.#t, containerId, opts);
  }

  /** Where this client sends requests, as shown to users. */
  get endpoint(): string {
    return this.#t.endpoint.display;
  }

  async ping(opts: SignalOptions = {}): Promise<void> {
    const ctx = { op: "ping", action: "reach the Docker Engine" };
    const res = await this.#t.request(ctx, "/_ping", { versioned: false, signal: opts.signal });
    const text = await res.text();
    if (text.trim() !== "OK") {
      throw new DockerError(
        `Cannot reach the Docker Engine: /_ping answered "${text.slice(0, 80)}"`,
        {
          op: "ping",
          status: res.status,
          hint: `check that ${this.#t.endpoint.display} is a Docker Engine`,
        },
      );
    }
  }

  async version(opts: SignalOptions = {}): Promise<EngineVersion> {
    const ctx = { op: "version", action: "read the Docker Engine version" };
    return await this.#t.json(ctx, "/version", { versioned: false, signal: opts.signal });
  }

  inspectImage(ref: string, opts?: SignalOptions): Promise<ImageInfo | null> {
    return images.inspectImage(this.#t, ref, opts);
  }

  importImage(source: TarSource, opts: ImportImageOptions): Promise<string> {
    return images.importImage(this.#t, source, opts);
  }

  buildImage(context: TarSource, opts: BuildImageOptions): Promise<string> {
    return images.buildImage(this.#t, context, opts);
  }

  pullImage(ref: string, opts?: PullImageOptions): Promise<void> {
    return images.pullImage(this.#t, ref, opts);
  }

  removeImage(
    ref: string,
    opts?: { force?: boolean | undefined } & SignalOptions,
  ): Promise<boolean> {
    return images.removeImage(this.#t, ref, opts);
  }

  createContainer(
    spec: ContainerSpec,
    opts?: { name?: string | undefined } & SignalOptions,
  ): Promise<string> {
    return containers.createContainer(this.#t, spec, opts);
  }

  putArchive(id: string, path: string, tar: Uint8Array, opts?: SignalOptions): Promise<void> {
    return containers.putArchive(this.#t, id, path, tar, opts);
  }

  startContainer(id: string, opts?: SignalOptions): Promise<void> {
    return containers.startContainer(this.#t, id, opts);
  }

  armWait(id: string, opts?: WaitOptions): Promise<ContainerWaitHandle> {
    return containers.armWait(this.#t, id, opts);
  }

  async waitContainer(id: string, opts?: WaitOptions): Promise<number> {
    const handle = await containers.armWait(this.#t, id, opts);
    return await handle.exitCode;
  }

  containerLogs(id: string, opts?: LogsOptions): AsyncIterable<LogChunk> {
    return containers.containerLogs(this.#t, id, opts);
  }

  killContainer(id: string, signal?: string, opts?: SignalOptions): Promise<void> {
    return containers.killContainer(this.#t, id, signal, opts);
  }

  removeContainer(
    id: string,
    opts?: { force?: boolean | undefined; volumes?: boolean | undefined } & SignalOptions,
  ): Promise<boolean> {
    return containers.removeContainer(this.#t, id, opts);
  }

  inspectContainer(id: string, opts?: SignalOptions): Promise<ContainerInfo | null> {
    return containers.inspectContainer(this.#t, id, opts);
  }

  listContainers(opts?: ListContainersOptions): Promise<ContainerSummary[]> {
    return containers.listContainers(this.#t, opts);
  }

  createExec(containerId: string, spec: ExecSpec, opts?: SignalOptions): Promise<string> {
    return exec.createExec(this.#t, containerId, spec, opts);
  }

  startExec(execId: string, opts?: SignalOptions): Promise<ExecResult> {
    return exec.startExec(this.#t, execId, opts);
  }

  close(): void {
    this.#t.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
