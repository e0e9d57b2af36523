/**
 * The pylons as their files describe them (workspace, agent, channel, prompt, templates): the
 * part of the detail view the daemon's API does not carry. Read on every refresh, so an edit in
 * `$EDITOR` shows at once, with or without a daemon. Also writes the message template builder's
 * `channel.message`, keeping the file's comments.
 *
 * @module
 */

import {
  loadAllPylons,
  loadGlobalConfig,
  type PylonPaths,
  rawTriggerPath,
  readRawPylon,
  resolvePylon,
} from "../config/mod.ts";
import { basename, dirname, join } from "node:path";
import { isMap, parseDocument } from "yaml";
import { describeCron, nextRuns } from "../cron/mod.ts";
import { ConfigError } from "../errors.ts";
import type { PylonView, TriggerView } from "./model.ts";

/** Reads every pylon folder; a broken file is a pylon with a `problem`, never an exception. */
export async function readPylonFiles(
  paths: PylonPaths,
  env: Record<string, string>,
  now: Date,
): Promise<PylonView[]> {
  const global = await loadGlobalConfig(paths, env);
  const zone = env.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const out: PylonView[] = [];
  for (const r of await loadAllPylons(paths, global)) {
    if (!r.ok) {
      out.push(brokenPylon(r.name, r.error.message, r.error.hint, await rawPath(paths, r.name)));
      continue;
    }
    const resolved = resolvePylon(r.pylon.config, global.config, {
      env: r.pylon.env,
      systemTimezone: zone,
    });
    const c = resolved.config;
    const ws = c.workspace;
    const agent = resolved.agent;
    out.push({
      name: r.name,
      state: c.disabled ? "disabled" : "active",
      description: c.description ?? "",
      trigger: triggerOf(c.trigger, resolved.timezone, now),
      webhookUrl: resolved.webhookUrl ?? null,
      workspace: [ws.type, ws.repo, ws.ref, ws.path].filter((s) => s).join(" "),
      agent: agent.type === "custom"
        ? `custom (image ${agent.image})`
        : `${agent.type} (${agent.auth === "api_key" ? "API key" : agent.auth})`,
      channel: resolved.channel.types.join(", "),
      topic: resolved.channel.topic ?? null,
      message: resolved.channel.message ?? null,
      autoRun: !(resolved.channel.approval && c.trigger.type === "webhook"),
      prompt: agent.prompt,
      problem: null,
      costToday: null,
      costMonth: null,
      successRate: null,
    });
  }
  return out;
}

function triggerOf(
  t: { type: string; path?: string | undefined; cron?: string | undefined },
  timezone: string,
  now: Date,
): TriggerView {
  if (t.type !== "cron" || t.cron === undefined) return { type: "webhook", path: t.path ?? null };
  let description: string | null = null;
  let next: Date | null = null;
  try {
    description = describeCron(t.cron);
    next = nextRuns(t.cron, { timezone, from: now, count: 1 })[0] ?? null;
  } catch {
    // a schedule that loaded describes itself; without one the raw expression still shows
  }
  return { type: "cron", cron: t.cron, description, timezone, nextRun: next };
}

async function rawPath(paths: PylonPaths, name: string): Promise<string | null> {
  try {
    return rawTriggerPath(readRawPylon(await Deno.readTextFile(paths.pylonConfig(name)))) ?? null;
  } catch {
    return null;
  }
}

function brokenPylon(
  name: string,
  message: string,
  hint: string | undefined,
  path: string | null,
): PylonView {
  return {
    name,
    state: "not_loaded",
    description: "",
    trigger: path ? { type: "webhook", path } : null,
    webhookUrl: null,
    workspace: "",
    agent: "",
    channel: "",
    topic: null,
    message: null,
    autoRun: true,
    prompt: "",
    problem: hint ? `${message} (fix: ${hint})` : message,
    costToday: null,
    costMonth: null,
    successRate: null,
  };
}

/**
 * Sets `channel.message` in the pylon file `file` to `template`, keeping its comments and
 * layout (`yaml`'s document model changes the one key), and replaces the file atomically so the
 * daemon's hot reload never reads half a file.
 *
 * @throws {ConfigError} when the file is not a regular file or not a YAML mapping
 */
export async function writeChannelMessage(file: string, template: string): Promise<void> {
  const info = await Deno.lstat(file);
  if (!info.isFile) {
    throw new ConfigError(`Cannot change ${file}: it is not a regular file`, {
      file,
      hint: "set channel.message in the file it points to by hand (e to edit)",
    });
  }
  const doc = parseDocument(await Deno.readTextFile(file));
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    throw new ConfigError(`Cannot change ${file}: it is not a valid YAML mapping`, {
      file,
      hint: "fix it with e (edit), then build the template again",
    });
  }
  const channel = doc.get("channel");
  if (channel !== undefined && channel !== null && !isMap(channel)) {
    throw new ConfigError(`Cannot set channel.message in ${file}: channel is not a mapping`, {
      file,
      hint: "fix channel with e (edit), then build the template again",
    });
  }
  doc.setIn(["channel", "message"], template);
  const tmp = join(dirname(file), `.${basename(file)}.${crypto.randomUUID().slice(0, 8)}.tmp`);
  try {
    await Deno.writeTextFile(tmp, doc.toString({ lineWidth: 0, flowCollectionPadding: false }), {
      createNew: true,
      ...(info.mode === null ? {} : { mode: info.mode & 0o777 }),
    });
    await Deno.rename(tmp, file);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
