/**
 * Real repositories for the workspace tests: a working repository whose default branch is
 * `trunk` (not main) with a `feature` branch and tags, a bare copy of it to serve, and
 * `git daemon` serving that folder on loopback. Git runs with no user or system config.
 */

import { join } from "node:path";
import { createLogger, type Logger } from "../../src/log/mod.ts";
import { createGitRunner, type GitRunner } from "../../src/workspace/mod.ts";

/** Environment that makes git ignore the machine's config and sign commits predictably. */
export const HERMETIC_ENV: Record<string, string> = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Pylon Test",
  GIT_AUTHOR_EMAIL: "test@pylon.invalid",
  GIT_COMMITTER_NAME: "Pylon Test",
  GIT_COMMITTER_EMAIL: "test@pylon.invalid",
  NO_PROXY: "127.0.0.1,localhost",
  "no_proxy": "127.0.0.1,localhost",
};

/** The runner the tests give to pylon: the real one, hermetic. */
export function testGit(): GitRunner {
  return createGitRunner({ env: HERMETIC_ENV });
}

/** A runner that records every argument vector before running it. */
export function recordingGit(inner: GitRunner = testGit()): GitRunner & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run(args, opts) {
      calls.push(args);
      return inner.run(args, opts);
    },
  };
}

/** A logger that keeps its lines. */
export function memoryLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ write: (l) => lines.push(l), level: "debug" }), { lines });
}

const decoder = new TextDecoder();

/** Runs git for a test's own setup; throws on failure. */
export async function git(args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    ...(cwd ? { cwd } : {}),
    env: HERMETIC_ENV,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`Test setup failed: git ${args.join(" ")}: ${decoder.decode(out.stderr)}`);
  }
  return decoder.decode(out.stdout).trim();
}

/** Commits `content` as `file` in `dir`; returns the new commit. */
export async function commit(dir: string, file: string, content: string): Promise<string> {
  await Deno.writeTextFile(join(dir, file), content);
  await git(["add", "--", file], dir);
  await git(["commit", "--quiet", "-m", `edit ${file}`], dir);
  return await git(["rev-parse", "HEAD"], dir);
}

/** The repositories of one test. */
export interface Fixture extends AsyncDisposable {
  root: string;
  /** Working repository (default branch `trunk`). */
  work: string;
  /** Folder served by git daemon; holds `app.git`. */
  served: string;
  /** The bare repository `served/app.git`. */
  bare: string;
  /** Commits: c1 (tag v1.0, annotated) → c2 on trunk; c3 on feature (from c2). */
  shas: { c1: string; c2: string; c3: string };
  /** Job folders go here. */
  jobs: string;
  reposDir: string;
  /** Adds a commit on trunk and pushes it to the served repository; returns it. */
  pushCommit(content: string): Promise<string>;
}

/** Builds the repositories in a new temp folder (removed on dispose). */
export async function createFixture(): Promise<Fixture> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "pylon-ws-" }));
  const work = join(root, "work");
  const served = join(root, "served");
  const bare = join(served, "app.git");
  await git(["init", "--quiet", "--initial-branch=trunk", work]);
  const c1 = await commit(work, "README.md", "# app\n");
  await git(["tag", "-a", "v1.0", "-m", "release 1.0"], work);
  const c2 = await commit(work, "main.ts", "console.log(1);\n");
  await git(["checkout", "--quiet", "-b", "feature"], work);
  const c3 = await commit(work, "feature.ts", "export const f = 1;\n");
  await git(["checkout", "--quiet", "trunk"], work);
  await Deno.mkdir(served);
  await git(["clone", "--quiet", "--bare", work, bare]);
  await git(["remote", "add", "served", bare], work);
  return {
    root,
    work,
    served,
    bare,
    shas: { c1, c2, c3 },
    jobs: join(root, "jobs"),
    reposDir: join(root, "repos"),
    async pushCommit(content) {
      const sha = await commit(work, "main.ts", content);
      await git(["push", "--quiet", "served", "trunk"], work);
      return sha;
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** `git daemon` serving `baseDir` on a free loopback port. */
export interface GitDaemon extends AsyncDisposable {
  /** `git://127.0.0.1:<port>/<name>`. */
  url(name: string): string;
}

/** Starts `git daemon --export-all` on 127.0.0.1 and waits until it accepts connections. */
export async function startGitDaemon(baseDir: string): Promise<GitDaemon> {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command("git", {
    args: [
      "daemon",
      "--listen=127.0.0.1",
      `--port=${port}`,
      "--export-all",
      "--reuseaddr",
      "--informative-errors",
      `--base-path=${baseDir}`,
      baseDir,
    ],
    env: HERMETIC_ENV,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0;; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      break;
    } catch (e) {
      if (i > 100) {
        child.kill();
        await child.status;
        throw e;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    url: (name) => `git://127.0.0.1:${port}/${name}`,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** Job folder `n` of the fixture. */
export function jobDir(fx: Fixture, n: number | string): string {
  return join(fx.jobs, `job-${n}`);
}
