/**
 * A temp pylon home with one running job whose pylon approves tools, the real approval files,
 * and the real hook (`node pylon-approve.mjs`) run as the container would run it.
 */

import { join } from "node:path";
import {
  createPylonPaths,
  globalConfigSchema,
  pylonConfigSchema,
  type ResolvedPylon,
  resolvePylon,
} from "../../src/config/mod.ts";
import { type ApprovalFolders, writeApprovalFiles } from "../../src/runner/mod.ts";
import { createStoreRegistry, type Job, type StoreRegistry } from "../../src/store/mod.ts";
import { ToolApprovalService } from "../../src/tools/mod.ts";
import type { ToolCallDecided, ToolCallRequest } from "../../src/tools/mod.ts";
import { ManualClock } from "../store/_helpers.ts";
import { createLogger } from "../../src/log/mod.ts";

export { ManualClock };

/** A home with a running job of pylon `alpha` (approve_tools as given, approve_timeout 1m). */
export interface ApprovalHome extends AsyncDisposable {
  root: string;
  jobsDir: string;
  stores: StoreRegistry;
  job: Job;
  folders: ApprovalFolders;
  pylon: ResolvedPylon;
  clock: ManualClock;
  requested: ToolCallRequest[];
  decided: ToolCallDecided[];
  /** The jobs published because their waiting calls changed (the event stream). */
  changed: Job[];
  /** A service over this home (a new one after a "restart"). */
  service(): ToolApprovalService;
}

export async function approvalHome(
  rules: string[] = ["Bash(git push:*)", "Bash(rm:*)"],
  options: { timeout?: string; uid?: number | undefined; type?: "claude" | "opencode" } = {},
): Promise<ApprovalHome> {
  const root = await Deno.makeTempDir({ prefix: "pylon-tools-" });
  const paths = createPylonPaths(root);
  const clock = new ManualClock();
  const stores = createStoreRegistry(paths, { clock });
  const store = await stores.open("alpha");
  const { job: queued } = await store.insert({
    id: crypto.randomUUID(),
    pylon: "alpha",
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
  });
  const job = (await store.transition(queued.id, "queued", "running"))!;
  const pylon = resolvePylon(
    pylonConfigSchema.parse({
      name: "alpha",
      trigger: { type: "webhook", path: "/alpha" },
      agent: {
        ...(options.type ? { type: options.type } : {}),
        prompt: "p",
        "approve_tools": rules,
        "approve_timeout": options.timeout ?? "1m",
      },
    }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
  const folders = (await writeApprovalFiles(paths.jobsDir, job.id, pylon, { uid: options.uid }))!;
  const requested: ToolCallRequest[] = [];
  const decided: ToolCallDecided[] = [];
  const changed: Job[] = [];
  const services: ToolApprovalService[] = [];
  return {
    root,
    jobsDir: paths.jobsDir,
    stores,
    job,
    folders,
    pylon,
    clock,
    requested,
    decided,
    changed,
    service() {
      const s = new ToolApprovalService({
        stores,
        clock,
        log: createLogger({ level: "error", write: () => {} }),
        listener: { requested: (r) => requested.push(r), decided: (d) => decided.push(d) },
        onWaitingChanged: (job) => changed.push(job),
        intervalMs: 60_000, // the tests call tick() themselves
      });
      services.push(s);
      return s;
    },
    async [Symbol.asyncDispose]() {
      for (const s of services) s.close();
      await stores.closeAll();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** The hook, run as Claude Code runs it for one tool call. */
export interface HookRun {
  /** What it printed (a deny decision) once it exits; "" means passed on. */
  output: Promise<{ code: number; stdout: string; stderr: string }>;
}

export function runHook(
  folders: ApprovalFolders,
  tool: string,
  input: Record<string, unknown>,
  env: Record<string, string> = {},
): HookRun {
  const child = new Deno.Command("node", {
    // The hook reads its config beside itself (folders.dir), never from the environment.
    args: [join(folders.dir, "pylon-approve.mjs")],
    env: { PYLON_TOOL_REQUESTS: folders.requests, ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  void writer.write(new TextEncoder().encode(JSON.stringify({
    "hook_event_name": "PreToolUse",
    "tool_name": tool,
    "tool_input": input,
    "tool_use_id": "toolu_1",
  }))).then(() => writer.close());
  return {
    output: child.output().then((o) => ({
      code: o.code,
      stdout: new TextDecoder().decode(o.stdout),
      stderr: new TextDecoder().decode(o.stderr),
    })),
  };
}

/** Ticks `service` until `check` holds (at most 10 s). */
export async function tickUntil(
  service: ToolApprovalService,
  check: () => boolean,
  what: string,
  /** How long to wait at most (a bound, not a measurement). */
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    await service.tick();
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

/** The deny reason the hook printed, or null when it passed the call on. */
export function denyReason(stdout: string): string | null {
  if (stdout.trim() === "") return null;
  const out = JSON.parse(stdout);
  return out.hookSpecificOutput.permissionDecision === "deny"
    ? out.hookSpecificOutput.permissionDecisionReason
    : null;
}
