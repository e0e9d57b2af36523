/**
 * Wire types of the Docker Engine API, limited to the fields pylon reads or writes. Field names
 * are the Engine's own (PascalCase) so a spec can be compared with the API reference directly and
 * no translation layer can drift from it.
 *
 * @module
 */

/** `GET /version`. */
export interface EngineVersion {
  Version: string;
  ApiVersion: string;
  MinAPIVersion?: string;
  Os: string;
  Arch: string;
  KernelVersion?: string;
}

/** `GET /images/{name}/json` (subset). */
export interface ImageInfo {
  Id: string;
  RepoTags: string[] | null;
  Created: string;
  Size: number;
  Config: {
    User?: string;
    Env?: string[] | null;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string> | null;
  } | null;
}

/** One entry of `HostConfig.Mounts`. */
export interface MountSpec {
  Type: "bind" | "volume" | "tmpfs";
  /** Host path (bind) or volume name; absent for tmpfs. */
  Source?: string | undefined;
  Target: string;
  ReadOnly?: boolean | undefined;
}

/** `HostConfig` of a container create request (subset). */
export interface HostConfig {
  /** `host:container[:ro]` bind mounts. */
  Binds?: string[] | undefined;
  Mounts?: MountSpec[] | undefined;
  AutoRemove?: boolean | undefined;
  /** `bridge` (default), `host`, `none` or a network name. */
  NetworkMode?: string | undefined;
  CapAdd?: string[] | undefined;
  CapDrop?: string[] | undefined;
  /** e.g. `no-new-privileges`. */
  SecurityOpt?: string[] | undefined;
  PidsLimit?: number | undefined;
  /** Bytes. */
  Memory?: number | undefined;
  /** Memory plus swap, bytes; equal to `Memory`: no swap; -1: unlimited swap. */
  MemorySwap?: number | undefined;
  /** CPU quota in units of 1e-9 CPUs. */
  NanoCpus?: number | undefined;
  /** `name:ip` entries, e.g. `host.docker.internal:host-gateway`. */
  ExtraHosts?: string[] | undefined;
  ReadonlyRootfs?: boolean | undefined;
  Init?: boolean | undefined;
  /** Mount point → options, e.g. `{ "/tmp": "rw,size=64m" }`. */
  Tmpfs?: Record<string, string> | undefined;
  /** The container's log driver, e.g. `{ Type: "json-file", Config: { "max-size": "10m" } }`. */
  LogConfig?: { Type: string; Config?: Record<string, string> | undefined } | undefined;
  /** What the Engine does when the container exits (or the Engine restarts). */
  RestartPolicy?: { Name: "no" | "always" | "unless-stopped" | "on-failure" } | undefined;
}

/** Body of `POST /containers/create` (subset). */
export interface ContainerSpec {
  Image: string;
  Cmd?: string[] | undefined;
  Entrypoint?: string[] | undefined;
  /** `KEY=value` entries. Never echoed in errors. */
  Env?: string[] | undefined;
  User?: string | undefined;
  WorkingDir?: string | undefined;
  Labels?: Record<string, string> | undefined;
  /** Allocates a TTY; logs are then one raw stream instead of stdout/stderr frames. */
  Tty?: boolean | undefined;
  OpenStdin?: boolean | undefined;
  StdinOnce?: boolean | undefined;
  AttachStdin?: boolean | undefined;
  AttachStdout?: boolean | undefined;
  AttachStderr?: boolean | undefined;
  StopSignal?: string | undefined;
  /** Seconds between the stop signal and SIGKILL. */
  StopTimeout?: number | undefined;
  HostConfig?: HostConfig | undefined;
}

/** `State` of an inspected container. */
export interface ContainerState {
  Status: "created" | "running" | "paused" | "restarting" | "removing" | "exited" | "dead";
  Running: boolean;
  Paused: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

/** `GET /containers/{id}/json` (subset). */
export interface ContainerInfo {
  Id: string;
  /** With the leading slash, as the Engine returns it. */
  Name: string;
  Created: string;
  Image: string;
  State: ContainerState;
  Config: {
    Image: string;
    Tty: boolean;
    User: string;
    Labels: Record<string, string> | null;
    Cmd: string[] | null;
  };
  HostConfig: HostConfig;
}

/** One entry of `GET /containers/json` (subset). */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  /** Unix seconds. */
  Created: number;
  State: string;
  Status: string;
  Labels: Record<string, string> | null;
}

/** Body of `POST /containers/{id}/exec` (subset); output is always captured. */
export interface ExecSpec {
  Cmd: string[];
  /** `KEY=value` entries. Never echoed in errors. */
  Env?: string[] | undefined;
  User?: string | undefined;
  WorkingDir?: string | undefined;
  Tty?: boolean | undefined;
  Privileged?: boolean | undefined;
}

/** What a non-interactive exec printed and how it ended. */
export interface ExecResult {
  exitCode: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

/** One piece of container output. With a TTY everything arrives as `stdout`. */
export interface LogChunk {
  stream: "stdout" | "stderr";
  data: Uint8Array;
}

/** One JSON line of a build, pull or import progress stream. */
export interface ProgressEvent {
  /** Build output text. */
  stream?: string;
  /** Pull/import status, e.g. `Downloading`. */
  status?: string;
  /** Layer id the status is about. */
  id?: string;
  progress?: string;
  /** Build results, e.g. `{ ID: "sha256:..." }`. */
  aux?: { ID?: string } & Record<string, unknown>;
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/** A secret or config file of a Swarm task (`ContainerSpec.Secrets[].File`). */
export interface SwarmFileTarget {
  /** Path in the task: absolute, or relative to `/run/secrets`. */
  Name: string;
  UID: string;
  GID: string;
  Mode: number;
}

/** `TaskTemplate.ContainerSpec` of a Swarm service (subset; API 1.41). */
export interface ServiceContainerSpec {
  Image: string;
  Labels?: Record<string, string> | undefined;
  /** The entrypoint. */
  Command?: string[] | undefined;
  Args?: string[] | undefined;
  /** `KEY=value` entries. Never echoed in errors. */
  Env?: string[] | undefined;
  Dir?: string | undefined;
  User?: string | undefined;
  Init?: boolean | undefined;
  ReadOnly?: boolean | undefined;
  /** `IP hostname` entries (`/etc/hosts`). */
  Hosts?: string[] | undefined;
  CapabilityDrop?: string[] | undefined;
  CapabilityAdd?: string[] | undefined;
  Privileges?: { NoNewPrivileges?: boolean } | undefined;
  Mounts?: MountSpec[] | undefined;
  Secrets?: { File: SwarmFileTarget; SecretID: string; SecretName: string }[] | undefined;
  Configs?: { File: SwarmFileTarget; ConfigID: string; ConfigName: string }[] | undefined;
  /** Nanoseconds between the stop signal and SIGKILL. */
  StopGracePeriod?: number | undefined;
}

/** Body of `POST /services/create` (subset). */
export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string> | undefined;
  TaskTemplate: {
    ContainerSpec: ServiceContainerSpec;
    Resources?: {
      Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number } | undefined;
      Reservations?: { NanoCPUs?: number; MemoryBytes?: number } | undefined;
    } | undefined;
    RestartPolicy?: { Condition: "none" | "on-failure" | "any"; MaxAttempts?: number };
    Placement?: { Constraints?: string[] | undefined } | undefined;
    Networks?: { Target: string }[] | undefined;
    LogDriver?: { Name: string; Options?: Record<string, string> | undefined } | undefined;
  };
  /** `dnsrr`: the service's name resolves to its tasks' addresses, no virtual IP. */
  EndpointSpec?: { Mode: "vip" | "dnsrr" } | undefined;
  Mode:
    | { ReplicatedJob: { MaxConcurrent: number; TotalCompletions: number } }
    | { Replicated: { Replicas: number } }
    | { Global: Record<string, never> };
}

/** `GET /services/{id}` and one entry of `GET /services` (subset). */
export interface ServiceInfo {
  ID: string;
  CreatedAt: string;
  Spec: ServiceSpec;
}

/** One entry of `GET /tasks` (subset). */
export interface TaskInfo {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  DesiredState: string;
  Status: {
    /** `new` … `running`, then `complete`, `failed`, `shutdown`, `rejected`, `orphaned`. */
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
}

/** `GET /swarm` subset, `GET /info` Swarm subset. */
export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Role?: string; Availability?: string; Labels?: Record<string, string> };
  Status?: { State?: string; Addr?: string };
}
