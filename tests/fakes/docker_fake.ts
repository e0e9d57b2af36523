/**
 * An in-memory {@linkcode DockerClient} for unit tests of code that drives containers (runner,
 * queue, CLI). It records every call and plays scripted container runs: exit code, output, and
 * whether the container exits at once or runs until killed. Whatever a test relies on here is also
 * covered against the real Engine in `tests/integration/`.
 *
 * @module
 */

import {
  type ContainerInfo,
  type ContainerSpec,
  type ContainerSummary,
  type ContainerWaitHandle,
  type DockerClient,
  DockerError,
  type EngineVersion,
  type ExecResult,
  type ExecSpec,
  type ImageInfo,
  type ListContainersOptions,
  type LogChunk,
  type LogsOptions,
  type WaitOptions,
} from "../../src/docker/mod.ts";

/** How a fake container behaves once started. */
export interface FakeRun {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Keep running until killed (exit 137) instead of exiting at start. */
  untilKilled?: boolean;
}

interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  run: FakeRun;
  state: "created" | "running" | "exited";
  exitCode: number;
  exited: PromiseWithResolvers<number>;
}

const enc = new TextEncoder();

/** A scripted, recording Docker client. */
export class FakeDockerClient implements DockerClient {
  /** Every call, in order: method name and arguments. */
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** Present images by reference. */
  readonly images = new Map<string, ImageInfo>();
  /** Decides each container's run from its spec; default exit 0 with no output. */
  script: (spec: ContainerSpec) => FakeRun = () => ({ exitCode: 0 });
  /** Decides each exec's result. */
  execScript: (spec: ExecSpec) => ExecResult = () => ({
    exitCode: 0,
    stdout: new Uint8Array(),
    stderr: new Uint8Array(),
  });
  /** When set, `pullImage` fails with this Engine message. */
  pullError: string | undefined;
  #containers = new Map<string, FakeContainer>();
  #execs = new Map<string, ExecSpec>();
  #seq = 0;

  /** Adds an image as if it had been built or pulled. */
  addImage(ref: string, config: NonNullable<ImageInfo["Config"]> = {}): void {
    const id = `sha256:${(++this.#seq).toString(16).padStart(64, "0")}`;
    this.images.set(ref, { Id: id, RepoTags: [ref], Created: "", Size: 0, Config: config });
  }

  /** The spec a container was created with. */
  specOf(id: string): ContainerSpec | undefined {
    return this.#containers.get(id)?.spec;
  }

  ping(): Promise<void> {
    return this.#record("ping", []);
  }
  async version(): Promise<EngineVersion> {
    await this.#record("version", []);
    return { Version: "fake", ApiVersion: "1.47", Os: "linux", Arch: "amd64" };
  }
  async inspectImage(ref: string): Promise<ImageInfo | null> {
    await this.#record("inspectImage", [ref]);
    return this.images.get(ref) ?? null;
  }
  async importImage(_source: unknown, opts: { repo: string; tag: string }): Promise<string> {
    await this.#record("importImage", [opts]);
    this.addImage(`${opts.repo}:${opts.tag}`);
    return this.images.get(`${opts.repo}:${opts.tag}`)!.Id;
  }
  async buildImage(_context: unknown, opts: { tag: string }): Promise<string> {
    await this.#record("buildImage", [opts]);
    this.addImage(opts.tag);
    return this.images.get(opts.tag)!.Id;
  }
  async pullImage(ref: string): Promise<void> {
    await this.#record("pullImage", [ref]);
    if (this.pullError) {
      throw new DockerError(`Cannot pull image "${ref}": ${this.pullError}`, { op: "image.pull" });
    }
    this.addImage(ref);
  }
  async removeImage(ref: string): Promise<boolean> {
    await this.#record("removeImage", [ref]);
    return this.images.delete(ref);
  }

  async createContainer(spec: ContainerSpec, opts: { name?: string | undefined } = {}) {
    await this.#record("createContainer", [spec, opts]);
    if (!this.images.has(spec.Image)) {
      throw new DockerError(`Cannot create container: No such image: ${spec.Image}`, {
        op: "container.create",
        status: 404,
      });
    }
    const id = (++this.#seq).toString(16).padStart(64, "0");
    const name = opts.name ?? `fake_${this.#seq}`;
    const run = this.script(spec);
    this.#containers.set(id, {
      id,
      name,
      spec,
      run,
      state: "created",
      exitCode: 0,
      exited: Promise.withResolvers<number>(),
    });
    return id;
  }
  async startContainer(id: string): Promise<void> {
    await this.#record("startContainer", [id]);
    const c = this.#get(id, "container.start");
    if (c.state !== "created") return;
    c.state = "running";
    if (!c.run.untilKilled) this.#exit(c, c.run.exitCode ?? 0);
  }
  async armWait(id: string, _opts?: WaitOptions): Promise<ContainerWaitHandle> {
    await this.#record("armWait", [id]);
    return { exitCode: this.#get(id, "container.wait").exited.promise };
  }
  async waitContainer(id: string, _opts?: WaitOptions): Promise<number> {
    await this.#record("waitContainer", [id]);
    return await this.#get(id, "container.wait").exited.promise;
  }
  async *containerLogs(id: string, opts: LogsOptions = {}): AsyncIterable<LogChunk> {
    await this.#record("containerLogs", [id, opts]);
    const c = this.#get(id, "container.logs");
    if (opts.follow) await c.exited.promise;
    if (c.state === "created") return;
    if (c.run.stdout && opts.stdout !== false) {
      yield { stream: "stdout", data: enc.encode(c.run.stdout) };
    }
    if (c.run.stderr && opts.stderr !== false) {
      yield { stream: "stderr", data: enc.encode(c.run.stderr) };
    }
  }
  async killContainer(id: string, signal = "SIGKILL"): Promise<void> {
    await this.#record("killContainer", [id, signal]);
    const c = this.#get(id, "container.kill");
    if (c.state !== "running") {
      throw new DockerError(`Cannot kill container: it is not running`, {
        op: "container.kill",
        status: 409,
      });
    }
    this.#exit(c, 137);
  }
  async removeContainer(id: string, opts: { force?: boolean | undefined } = {}): Promise<boolean> {
    await this.#record("removeContainer", [id, opts]);
    const c = this.#find(id);
    if (!c) return false;
    if (c.state === "running" && !opts.force) {
      throw new DockerError("Cannot remove container: it is running", {
        op: "container.remove",
        status: 409,
      });
    }
    if (c.state === "running") this.#exit(c, 137);
    this.#containers.delete(c.id);
    return true;
  }
  async inspectContainer(id: string): Promise<ContainerInfo | null> {
    await this.#record("inspectContainer", [id]);
    const c = this.#find(id);
    if (!c) return null;
    return {
      Id: c.id,
      Name: `/${c.name}`,
      Created: "",
      Image: c.spec.Image,
      State: {
        Status: c.state,
        Running: c.state === "running",
        Paused: false,
        OOMKilled: false,
        Dead: false,
        Pid: 0,
        ExitCode: c.exitCode,
        Error: "",
        StartedAt: "",
        FinishedAt: "",
      },
      Config: {
        Image: c.spec.Image,
        Tty: c.spec.Tty ?? false,
        User: c.spec.User ?? "",
        Labels: c.spec.Labels ?? {},
        Cmd: c.spec.Cmd ?? null,
      },
      HostConfig: c.spec.HostConfig ?? {},
    };
  }
  async listContainers(opts: ListContainersOptions = {}): Promise<ContainerSummary[]> {
    await this.#record("listContainers", [opts]);
    const wanted = Object.entries(opts.labels ?? {});
    return [...this.#containers.values()]
      .filter((c) => opts.all || c.state === "running")
      .filter((c) =>
        wanted.every(([k, v]) => v === true ? k in (c.spec.Labels ?? {}) : c.spec.Labels?.[k] === v)
      )
      .map((c) => ({
        Id: c.id,
        Names: [`/${c.name}`],
        Image: c.spec.Image,
        ImageID: this.images.get(c.spec.Image)?.Id ?? "",
        Command: (c.spec.Cmd ?? []).join(" "),
        Created: 0,
        State: c.state,
        Status: c.state,
        Labels: c.spec.Labels ?? {},
      }));
  }
  async createExec(containerId: string, spec: ExecSpec): Promise<string> {
    await this.#record("createExec", [containerId, spec]);
    const id = `exec${++this.#seq}`;
    this.#execs.set(id, spec);
    return id;
  }
  async startExec(execId: string): Promise<ExecResult> {
    await this.#record("startExec", [execId]);
    return this.execScript(this.#execs.get(execId)!);
  }
  close(): void {
    this.calls.push({ method: "close", args: [] });
  }
  [Symbol.dispose](): void {
    this.close();
  }

  #record(method: string, args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    return Promise.resolve();
  }
  #find(id: string): FakeContainer | undefined {
    return this.#containers.get(id) ??
      [...this.#containers.values()].find((c) => c.name === id || c.id.startsWith(id));
  }
  #get(id: string, op: string): FakeContainer {
    const c = this.#find(id);
    if (!c) {
      throw new DockerError(`Cannot use container ${id}: No such container`, { op, status: 404 });
    }
    return c;
  }
  #exit(c: FakeContainer, code: number): void {
    c.state = "exited";
    c.exitCode = code;
    c.exited.resolve(code);
  }
}
