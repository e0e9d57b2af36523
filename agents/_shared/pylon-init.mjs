// pylon's init step for jobs without host mounts (docker.mounts: none), in every built-in agent
// image (/usr/local/lib/pylon/pylon-init.mjs). The same file ships in agents/claude and
// agents/opencode. It runs first in the container, as the agent's uid, and talks to the daemon
// only through the job's channel (/agent/v1/jobs/<id>/…, a per-job token):
//
//   1. reads the token from $PYLON_TOKEN_FILE (put there before the container started, never in
//      the environment or argv) and removes the file once the workspace is ready;
//   2. fetches the job bundle (prompt, settings files) and writes its files; on Swarm, copies the
//      files holding secrets (MCP config, OAuth files) from their Swarm secrets instead;
//   3. clones the repository at the job's ref into /workspace; git asks this script for the
//      credential (`pylon-init.mjs credential`, a git credential helper), which fetches it from
//      the channel: it never appears in argv, the environment, a URL or a repository's config;
//   4. restores the saved agent state (a follow-up) into $PYLON_STATE;
//   5. runs the image's entrypoint (the arguments after `--`), forwarding signals, and sends
//      the tool events of $PYLON_OUT/events.ndjson as they are written;
//   6. sends result.json and the agent state (a tar of regular files and folders), then exits
//      with the entrypoint's status.
//
//   node pylon-init.mjs run -- <entrypoint> [args…]
//   node pylon-init.mjs credential get           (git credential helper; reads git's request)
//
// The credential helper is also how the agent pushes (`workspace.push`, issue 19 item 4), in
// both mount modes: the workspace's config names it for the repository's URL alone, and it asks
// the channel with the job's token ($PYLON_AGENT_TOKEN, else $PYLON_TOKEN_FILE) for the
// credential, which it gives git only for the repository's own scheme, host and path. The
// credential is never written anywhere in the container; the daemon stops serving it (and
// deletes it) when the job ends. This file is root's, in the image: the agent cannot change it
// (it can, with its token, ask the channel itself while the job runs: see the README).

import { spawn } from "node:child_process";
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

const OUT = process.env.PYLON_OUT || "/pylon/out";
const STATE = process.env.PYLON_STATE || "/pylon/state";
const WORKSPACE = "/workspace";
const TOKEN_FILE = process.env.PYLON_TOKEN_FILE || "/.pylon-agent/token";
/** How often tool events are sent while the agent runs. */
const EVENTS_EVERY_MS = 1000;
/** The most of events.ndjson sent in one request (the daemon takes 256 KiB). */
const EVENTS_CHUNK = 200 * 1024;
const STATE_MAX = 256 * 1024 * 1024;
/** How long a request to the channel is retried (network errors, 5xx). */
const RETRY_MS = 60_000;

function log(text) {
  process.stderr.write(`[pylon-init] [${(process.env.JOB_ID || "").slice(0, 8)}] ${text}\n`);
}

/** The channel's base URL of this job. */
function jobUrl() {
  const base = (process.env.PYLON_AGENT_URL || "").replace(/\/+$/, "");
  if (!base || !process.env.JOB_ID) throw new Error("PYLON_AGENT_URL and JOB_ID must be set");
  return `${base}/agent/v1/jobs/${encodeURIComponent(process.env.JOB_ID)}`;
}

function readToken() {
  return readFileSync(TOKEN_FILE, "utf8").trim();
}

/** One request to the channel, retried on network errors and 5xx (not on 4xx). */
export async function call(token, method, path, body, contentType) {
  let last;
  // A daemon restart (the job is re-attached) must not lose the result: retry for a minute.
  const until = Date.now() + RETRY_MS;
  for (let attempt = 0; attempt === 0 || Date.now() < until; attempt++) {
    try {
      const res = await fetch(jobUrl() + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(contentType ? { "content-type": contentType } : {}),
        },
        ...(body === undefined ? {} : { body }),
        signal: AbortSignal.timeout(method === "PUT" && path === "/state" ? 300_000 : 30_000),
      });
      if (res.status < 500) return res;
      last = new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 5000)));
  }
  throw last;
}

async function ok(res, what) {
  if (res.ok) return res;
  throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 500)}`);
}

function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "inherit", "inherit"], ...options });
    child.on("error", (e) => resolve({ code: 127, error: e }));
    child.on("close", (code, signal) => resolve({ code: code ?? 1, signal }));
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin?.end();
  });
}

/** Writes the bundle's files (prompt, MCP config, OAuth files). */
function writeBundleFiles(bundle) {
  for (const f of bundle.files ?? []) {
    if (typeof f.path !== "string" || !f.path.startsWith("/pylon/")) {
      throw new Error(`the bundle names a file outside /pylon: ${JSON.stringify(f.path)}`);
    }
    mkdirSync(dirname(f.path), { recursive: true });
    rmSync(f.path, { force: true });
    writeFileSync(f.path, Buffer.from(f.content_base64, "base64"), { mode: f.mode ?? 0o600 });
  }
}

/**
 * Swarm (docker.backend: swarm): the files holding secrets (MCP config, OAuth files) are Swarm
 * secrets, read-only under /run/secrets ($PYLON_SECRET_FILES: dest=source,…), not bundle files:
 * copied where the agent expects them, writable by it (Claude Code refreshes its OAuth files).
 */
function copySecretFiles() {
  for (const pair of (process.env.PYLON_SECRET_FILES || "").split(",").filter(Boolean)) {
    const i = pair.indexOf("=");
    const dest = pair.slice(0, i);
    if (!dest.startsWith("/pylon/")) {
      throw new Error(`PYLON_SECRET_FILES names a file outside /pylon: ${JSON.stringify(dest)}`);
    }
    mkdirSync(dirname(dest), { recursive: true });
    rmSync(dest, { force: true });
    writeFileSync(dest, readFileSync(pair.slice(i + 1)), { mode: 0o600 });
  }
  delete process.env.PYLON_SECRET_FILES;
}

const HELPER = `!node ${JSON.stringify(new URL(import.meta.url).pathname)} credential`;

async function clone(repo) {
  const auth = repo.credential
    ? [
      "-c",
      "credential.helper=",
      "-c",
      `credential.helper=${HELPER}`,
      "-c",
      "credential.useHttpPath=true",
    ]
    : [];
  log(`cloning ${repo.url}${repo.ref ? ` at ${repo.ref}` : ""}`);
  // /workspace itself is the image's (root's): git would call the clone's owner dubious.
  const env = {
    ...process.env,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: "safe.directory",
    GIT_CONFIG_VALUE_0: WORKSPACE,
  };
  const cloned = await run("git", [...auth, "clone", "--quiet", "--", repo.url, WORKSPACE], {
    env,
  });
  if (cloned.code !== 0) throw new Error(`git clone failed (exit ${cloned.code})`);
  if (repo.ref) {
    // A branch becomes a local branch tracking the remote one; a tag or a commit is detached.
    const branch = await run("git", [
      "-C",
      WORKSPACE,
      "rev-parse",
      "--verify",
      "--quiet",
      `refs/remotes/origin/${repo.ref}`,
    ], { env, stdio: ["pipe", "ignore", "ignore"] });
    const args = branch.code === 0
      ? ["checkout", "--quiet", "-B", repo.ref, "--track", `origin/${repo.ref}`]
      : ["checkout", "--quiet", "--detach", repo.ref];
    const checkout = await run("git", ["-C", WORKSPACE, ...args], { env });
    if (checkout.code !== 0) throw new Error(`git checkout ${repo.ref} failed`);
  }
}

/**
 * `workspace.push`: the workspace's config names this file as the credential helper of the
 * repository's URL alone (the URL carries no credential).
 */
async function configurePush(repo) {
  const section = `credential.${repo.url}`;
  for (const [key, value] of [[`${section}.helper`, ""], [`${section}.helper`, HELPER]]) {
    const done = await run("git", ["-C", WORKSPACE, "config", "--add", key, value]);
    if (done.code !== 0) throw new Error(`git config ${key} failed`);
  }
  const done = await run("git", ["-C", WORKSPACE, "config", `${section}.useHttpPath`, "true"]);
  if (done.code !== 0) throw new Error(`git config ${section}.useHttpPath failed`);
}

/** Lets the agent's git work in /workspace (owned by root, cloned by the agent's uid). */
async function trustWorkspace() {
  const list = await new Promise((resolve) => {
    let out = "";
    const child = spawn("git", ["config", "--global", "--get-all", "safe.directory"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    child.stdout.on("data", (c) => (out += c));
    child.on("error", () => resolve(""));
    child.on("close", () => resolve(out));
  });
  const lines = String(list).split("\n");
  if (lines.includes(WORKSPACE) || lines.includes("*")) return;
  await run("git", ["config", "--global", "--add", "safe.directory", WORKSPACE]);
}

async function restoreState(token) {
  const res = await ok(await call(token, "GET", "/state"), "fetching the agent state");
  if (res.status === 204) return;
  const tar = Buffer.from(await res.arrayBuffer());
  mkdirSync(STATE, { recursive: true });
  // The image's own folders (/pylon/state/home) are root's: keep their owner, mode and times.
  const done = await run("tar", [
    "-x",
    "--no-same-owner",
    "--no-overwrite-dir",
    "-m",
    "-C",
    STATE,
    "-f",
    "-",
  ], {
    input: tar,
  });
  if (done.code !== 0) throw new Error("extracting the agent state failed");
  log(`restored the agent state (${tar.length} bytes)`);
}

/** Sends what was appended to events.ndjson since `offset` (whole lines); returns the offset. */
async function sendEvents(token, offset) {
  const file = join(OUT, "events.ndjson");
  let fd;
  try {
    fd = openSync(file, "r");
  } catch {
    return offset;
  }
  try {
    for (;;) {
      const buf = Buffer.alloc(EVENTS_CHUNK);
      const n = readSync(fd, buf, 0, EVENTS_CHUNK, offset);
      if (n === 0) return offset;
      const end = buf.subarray(0, n).lastIndexOf(0x0a);
      if (end < 0) return n === EVENTS_CHUNK ? offset + n : offset; // an overlong line: dropped
      await call(token, "POST", "/events", buf.subarray(0, end + 1), "application/x-ndjson");
      offset += end + 1;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The regular files and folders under `root` (relative, `./…`); links and other kinds are left
 * out (the daemon would refuse the archive), and so are folders the image made (root's, e.g.
 * `home`): the next container has them already and could not set their mode.
 */
export function stateEntries(root, rel = ".", uid = process.getuid?.()) {
  const out = [];
  for (const entry of readdirSync(join(root, rel), { withFileTypes: true })) {
    const path = `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (lstatSync(join(root, path)).uid === uid) out.push(path);
      out.push(...stateEntries(root, path, uid));
    } else if (entry.isFile()) out.push(path);
  }
  return out;
}

async function uploadState(token) {
  const list = join("/tmp", `pylon-state-${process.pid}.list`);
  writeFileSync(list, stateEntries(STATE).join("\0"));
  const chunks = [];
  let size = 0;
  const code = await new Promise((resolve) => {
    const child = spawn("tar", [
      "-c",
      "--format=posix",
      "-C",
      STATE,
      "--no-recursion",
      "--null",
      "-T",
      list,
    ], { stdio: ["ignore", "pipe", "inherit"], cwd: STATE });
    child.stdout.on("data", (c) => {
      size += c.length;
      if (size <= STATE_MAX) chunks.push(c);
    });
    child.on("error", () => resolve(127));
    child.on("close", (c) => resolve(c ?? 1));
  });
  rmSync(list, { force: true });
  if (code !== 0) throw new Error(`tar of the agent state failed (exit ${code})`);
  if (size > STATE_MAX) throw new Error(`the agent state is larger than ${STATE_MAX} bytes`);
  await ok(
    await call(token, "PUT", "/state", Buffer.concat(chunks), "application/x-tar"),
    "saving the agent state",
  );
  log(`saved the agent state (${size} bytes)`);
}

async function sendResult(token) {
  let text;
  try {
    text = readFileSync(join(OUT, "result.json"), "utf8");
  } catch {
    return;
  }
  await ok(await call(token, "PUT", "/result", text, "application/json"), "sending result.json");
}

async function failEarly(token, message) {
  log(message);
  const body = JSON.stringify({ status: "failed", result: "", error: message });
  if (token) await call(token, "PUT", "/result", body, "application/json").catch(() => {});
  process.exit(70);
}

/** The proxy variables, which the clone needs before the other secrets are exported. */
const PROXY_VARIABLES = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"];

/**
 * Swarm: what the agent needs in its environment arrives as secret files
 * ($PYLON_SECRET_ENV: VAR=path,…); exports them (only `names`, when given).
 */
function exportSecretEnv(names) {
  for (const pair of (process.env.PYLON_SECRET_ENV || "").split(",").filter(Boolean)) {
    const i = pair.indexOf("=");
    const name = pair.slice(0, i);
    if (names && !names.includes(name)) continue;
    try {
      process.env[name] = readFileSync(pair.slice(i + 1), "utf8");
    } catch (e) {
      log(`Cannot read the secret for ${name}: ${e.message}`);
    }
  }
}

async function runJob(argv) {
  let token;
  try {
    token = readToken();
  } catch (e) {
    log(`Cannot read the job token at ${TOKEN_FILE}: ${e.message}`);
    process.exit(70);
  }
  const started = Date.now();
  // The egress proxy's address carries the job's proxy credential: git needs it for the clone.
  exportSecretEnv(PROXY_VARIABLES);
  let bundle;
  try {
    bundle = await (await ok(await call(token, "GET", "/bundle"), "fetching the bundle")).json();
    writeBundleFiles(bundle);
    copySecretFiles();
    if (bundle.repo) await clone(bundle.repo);
    if (bundle.restore_state) await restoreState(token);
    if (bundle.repo) await trustWorkspace();
    if (bundle.repo?.push && bundle.repo.credential) await configurePush(bundle.repo);
    else if (bundle.repo?.credential) {
      // Cloned, no push: the daemon stops serving the credential (the agent may hold the job's
      // token for the model gateway).
      const res = await call(token, "DELETE", "/git-credential");
      if (!res.ok) log(`the daemon kept the git credential: HTTP ${res.status}`);
      await res.body?.cancel();
    }
  } catch (e) {
    return await failEarly(token, `pylon init: ${e.message}`);
  }
  try {
    rmSync(TOKEN_FILE, { force: true });
  } catch {
    // A Swarm secret (docker.backend: swarm) is read-only; it goes with the task.
  }
  exportSecretEnv();
  delete process.env.PYLON_SECRET_ENV;
  mkdirSync(OUT, { recursive: true });
  log(`ready in ${Date.now() - started} ms; starting the agent`);
  const [cmd, ...args] = argv;
  // With workspace.push the agent's git helper needs the job's token (the credential itself
  // stays with the daemon); otherwise the token stays in this process alone.
  // So does the tool approval hook (agent.approve_tools: its root-owned config names the channel).
  const approval = (() => {
    try {
      return Boolean(JSON.parse(readFileSync("/pylon/approval/config.json", "utf8")).channel);
    } catch {
      return false;
    }
  })();
  const env = bundle.repo?.push || approval
    ? { ...process.env, PYLON_AGENT_TOKEN: token }
    : process.env;
  const child = spawn(cmd, args, { stdio: "inherit", cwd: WORKSPACE, env });
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  let offset = 0;
  let sending = Promise.resolve();
  const timer = setInterval(() => {
    sending = sending.then(() => sendEvents(token, offset)).then((o) => {
      offset = o;
    }, (e) => log(`sending tool events failed: ${e.message}`));
  }, EVENTS_EVERY_MS);
  const exit = await new Promise((resolve) => {
    child.on("error", (e) => resolve({ code: 127, error: e }));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1) }));
  });
  clearInterval(timer);
  await sending;
  const ended = Date.now();
  let code = exit.code;
  try {
    offset = await sendEvents(token, offset);
    if (exit.error) {
      writeFileSync(
        join(OUT, "result.json"),
        JSON.stringify({
          status: "failed",
          result: "",
          error: `Cannot start ${cmd}: ${exit.error.message}`,
        }),
      );
    }
    await sendResult(token);
    await uploadState(token);
    log(`sent the events, result and state in ${Date.now() - ended} ms`);
  } catch (e) {
    log(e.message);
    if (code === 0) code = 70;
  }
  process.exit(code);
}

/** Whether git's credential request is for the repository `c` names (origin and path). */
export function credentialMatches(request, c) {
  if (`${request.protocol}://${request.host}` !== c.origin) return false;
  if (typeof c.path !== "string") return true;
  const trim = (p) => String(p ?? "").replace(/^\/+|\/+$/g, "");
  return trim(request.path) === trim(c.path);
}

/**
 * git credential helper: answers `get` with the channel's credential for the job's repository
 * (its origin and, when git names one, its path), nothing for any other request.
 */
async function credential(action) {
  if (action !== "get") return;
  const request = Object.fromEntries(
    readFileSync(0, "utf8").split("\n").filter((l) => l.includes("=")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
  const token = process.env.PYLON_AGENT_TOKEN || readToken();
  const res = await call(token, "GET", "/git-credential");
  if (!res.ok) return;
  const c = await res.json();
  if (!credentialMatches(request, c)) return;
  process.stdout.write(`username=${c.username}\npassword=${c.password}\n`);
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === "run") return await runJob(rest[0] === "--" ? rest.slice(1) : rest);
  if (command === "credential") return await credential(rest[0]);
  process.stderr.write(`pylon-init: unknown command ${JSON.stringify(command ?? "")}\n`);
  process.exit(2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
