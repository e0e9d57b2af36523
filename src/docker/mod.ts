/**
 * The Docker area: a typed client for the Docker Engine HTTP API (`DockerClient`,
 * `createDockerClient`), its error type, the stream demultiplexer and a tar writer for build
 * contexts and imported root filesystems.
 *
 * Owns every conversation with Docker; nothing else in pylon opens the socket or runs the docker
 * CLI. It imports nothing of pylon's except `../errors.ts`.
 *
 * @module
 */

export { createDockerClient, MAX_API_VERSION, MIN_API_VERSION } from "./client.ts";
export type {
  BuildImageOptions,
  ContainerWaitHandle,
  CreateDockerClientOptions,
  DockerClient,
  ImportImageOptions,
  ListContainersOptions,
  LogsOptions,
  NetworksApi,
  PullImageOptions,
  SignalOptions,
  SwarmApi,
  TarSource,
  WaitCondition,
  WaitOptions,
} from "./client.ts";
export { DockerError, HINT_NOT_RUNNING, HINT_PERMISSION } from "./errors.ts";
export type { DockerErrorOptions } from "./errors.ts";
export { DEFAULT_DOCKER_SOCKET, parseDockerHost } from "./host.ts";
export type { DockerEndpoint } from "./host.ts";
export type { DockerTlsOptions } from "./transport.ts";
export { Demuxer, demuxStream } from "./demux.ts";
export { splitImageRef } from "./_images.ts";
export { tarBytes, tarStream } from "./tar.ts";
export type { TarBytesEntry, TarEntry } from "./tar.ts";
export type {
  ContainerInfo,
  ContainerSpec,
  ContainerState,
  ContainerSummary,
  EngineVersion,
  ExecResult,
  ExecSpec,
  HostConfig,
  ImageInfo,
  LogChunk,
  MountSpec,
  ProgressEvent,
  ServiceContainerSpec,
  ServiceInfo,
  ServiceSpec,
  SwarmNode,
  TaskInfo,
} from "./types.ts";
export type { ExecSession, ExecSessionOptions } from "./_attach.ts";
export type { NetworkCreateSpec, NetworkInfo } from "./_networks.ts";
export type { ConfigInfo } from "./_configs.ts";
