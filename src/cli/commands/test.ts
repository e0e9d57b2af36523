/**
 * `pylon test <name> --payload <json|@file> --dry-run [--json]`: renders a pylon's templates
 * against a payload without a daemon, so users see exactly what the agent and the channel get.
 *
 * @module
 */

import { ConfigError, PylonError, TemplateError, UsageError } from "../../errors.ts";
import {
  type LoadedGlobal,
  type LoadedPylon,
  loadGlobalConfig,
  loadPylon,
  resolvePylon,
} from "../../config/mod.ts";
import { systemTimezone } from "../../cron/mod.ts";
import { renderTemplate } from "../../template/mod.ts";
import type { Command, CommandContext } from "../command.ts";
import { loadNamedPylon } from "../shared.ts";
import { sendToDaemon } from "./test_send.ts";
import { evaluateWhen, renderDedupeKey } from "../../daemon/when.ts";
import { parseDuration, type PylonConfig } from "../../config/mod.ts";
import { openStoresForReading } from "../job_stores.ts";
import { shortId } from "../../errors.ts";
import {
  checkPayloadRepo,
  redactUrl,
  WorkspaceError,
  workspaceSpecOf,
} from "../../workspace/mod.ts";

export const testCommand: Command = {
  name: "test",
  summary: "Send a test event to the running daemon, or render the templates with --dry-run",
  usage: "test <name> [--payload JSON|@FILE] [--header 'NAME: VALUE']… [--dry-run] [--json]",
  description: `Without --dry-run: POSTs the payload to the pylon's webhook on the running daemon
(signed with the pylon's secret when it has one) and prints the response; for a cron pylon,
asks the daemon to run it now. Exits 1 when the daemon answers with an error.

With --dry-run: renders agent.prompt, channel.topic, channel.message, workspace.repo and
workspace.ref the way a job would, without a daemon, and says what the daemon would do with the
event: accept it, ignore it (trigger.when), or count it on an existing job (trigger.dedupe,
looked up in the pylon's job database). A template error exits 1 and names the field, line and
column.

Without --payload, a small sample payload is used.`,
  options: {
    payload: {
      type: "string",
      description: "Webhook body as JSON text, or @path/to/file.json",
      valueName: "JSON|@FILE",
    },
    header: {
      type: "string",
      multiple: true,
      description: "A request header, e.g. 'X-GitHub-Event: pull_request' (repeatable)",
      valueName: "'NAME: VALUE'",
    },
    "dry-run": { type: "boolean", description: "Only render, send nothing" },
    json: { type: "boolean", description: "Print the rendered fields as a JSON object" },
  },
  positionals: { min: 1, max: 1, completion: "pylon" },
  async run(args, ctx) {
    const name = args.positionals[0]!;
    const { global, pylon } = args.values["dry-run"]
      ? await loadWithoutSecret(ctx, name)
      : await loadNamedPylon(ctx, name);
    const body = await readPayload(args.values.payload as string | undefined, name);
    if (!args.values["dry-run"]) {
      return await sendToDaemon(ctx, pylon.config, global.config, body, {
        json: Boolean(args.values.json),
        payloadGiven: args.values.payload !== undefined,
        headers: parseHeaders((args.values.header as string[] | undefined) ?? []),
      });
    }
    const resolved = resolvePylon(pylon.config, global.config, {
      env: pylon.env,
      systemTimezone: systemTimezone(ctx.env),
    });
    const headers = parseHeaders((args.values.header as string[] | undefined) ?? []);
    const data = { body, headers };
    const verdict = evaluateWhen(pylon.config.trigger.when, data);
    const whenText = verdict.run
      ? "accepted"
      : "error" in verdict
      ? `refused with 422: ${verdict.error}`
      : "ignored (trigger.when is false for this payload)";
    const outcome = verdict.run ? await dedupeOutcome(ctx, pylon.config, data) : undefined;
    const fields = {
      prompt: resolved.agent.prompt,
      topic: resolved.channel.topic,
      message: resolved.channel.message,
      repo: pylon.config.workspace.repo,
      ref: pylon.config.workspace.ref,
    };
    const names: Record<keyof typeof fields, string> = {
      prompt: "agent.prompt",
      topic: "channel.topic",
      message: "channel.message",
      repo: "workspace.repo",
      ref: "workspace.ref",
    };
    const rendered: Record<string, string | null> = {};
    for (const key of Object.keys(fields) as (keyof typeof fields)[]) {
      const text = fields[key];
      try {
        rendered[key] = text === undefined ? null : renderTemplate(names[key], text, data);
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        ctx.io.err(
          `Error: cannot render ${
            names[key]
          } of pylon "${name}" at line ${e.line}, column ${e.column}: ` +
            `${e.message}\n`,
        );
        return 1;
      }
    }
    // Credentials in a repository URL are never shown; a repository the event picked is checked.
    const repoProblem = repoRefusal(pylon.config.workspace, rendered);
    if (rendered.repo) rendered.repo = redactUrl(rendered.repo);
    if (args.values.json) {
      ctx.io.out(
        JSON.stringify(
          {
            pylon: name,
            outcome: outcome?.text ?? whenText,
            when: whenText,
            dedupe_key: outcome?.key ?? null,
            ...rendered,
            repo_refused: repoProblem ?? null,
          },
          null,
          2,
        ) + "\n",
      );
      return 0;
    }
    printHuman(ctx, name, resolved.config.trigger.type, rendered);
    if (repoProblem) ctx.io.out(`Repo refused: ${repoProblem}\n`);
    if (pylon.config.trigger.when) ctx.io.out(`When: ${whenText}\n`);
    if (outcome?.key) ctx.io.out(`Dedupe key: ${outcome.key}\n`);
    ctx.io.out(`Outcome: ${outcome?.text ?? whenText}\n`);
    return 0;
  },
};

/**
 * What the daemon would do with an event `trigger.when` accepts: count it on an existing job
 * (`trigger.dedupe`), or accept it, replacing waiting jobs (`trigger.supersede`). Read from the
 * pylon's job database.
 */
async function dedupeOutcome(
  ctx: CommandContext,
  config: PylonConfig,
  data: { body: unknown; headers: Record<string, string> },
): Promise<{ key: string | null; text: string }> {
  const key = renderDedupeKey(config.trigger.dedupe, data) || null;
  const supersedeKey = renderDedupeKey(config.trigger.supersede, data);
  if (!key && !supersedeKey) return { key, text: "accepted" };
  await using open = await openStoresForReading(ctx);
  const store = open.stores.get(config.name);
  if (!store) return { key, text: "accepted (the pylon has no jobs yet)" };
  if (key) {
    const windowMs = parseDuration(config.trigger.dedupe_window) ?? 3_600_000;
    const since = new Date(ctx.clock.now().getTime() - windowMs);
    const same = await store.findDedupe(key, since);
    if (same) {
      return {
        key,
        text:
          `deduplicated: counted on job ${
            shortId(same.id)
          } (${same.status}, seen ${same.repeats}×), ` +
          `which has the same dedupe key within ${config.trigger.dedupe_window}`,
      };
    }
  }
  let text = key ? "accepted (no job has this dedupe key)" : "accepted";
  if (supersedeKey) {
    const statuses = config.trigger.supersede_running
      ? ["queued", "awaiting_approval", "running"] as const
      : ["queued", "awaiting_approval"] as const;
    const older = (await store.list({ status: statuses, limit: 1000 }))
      .filter((j) => j.supersedeKey === supersedeKey);
    if (older.length > 0) {
      text += `; it supersedes ${older.map((j) => `${shortId(j.id)} (${j.status})`).join(", ")}, ` +
        `same supersede key ${JSON.stringify(supersedeKey)}`;
    }
  }
  return { key, text };
}

function printHuman(
  ctx: CommandContext,
  name: string,
  trigger: string,
  rendered: Record<string, string | null>,
): void {
  const section = (title: string, value: string | null) => {
    if (value === null) return `${title}: (not set)\n`;
    if (!value.includes("\n")) return `${title}: ${value}\n`;
    return `${title}:\n${
      value.replace(/\n$/, "").split("\n").map((l) => (l ? `  ${l}` : "")).join("\n")
    }\n`;
  };
  ctx.io.out(`Dry run of pylon "${name}" (${trigger} trigger); nothing was sent.\n\n`);
  ctx.io.out(section("Prompt", rendered.prompt ?? null));
  ctx.io.out(section("Topic", rendered.topic ?? null));
  ctx.io.out(section("Message", rendered.message ?? null));
  ctx.io.out(section("Repo", rendered.repo ?? null));
  ctx.io.out(section("Ref", rendered.ref ?? null));
}

/**
 * Loads a pylon for a dry run, which sends nothing and so needs no webhook secret: a
 * `trigger.secret` whose variable is not set yet (right after `construct --from sentry`) is
 * filled with a placeholder, and the user is told the daemon will not serve the pylon as is.
 */
async function loadWithoutSecret(
  ctx: CommandContext,
  name: string,
): Promise<{ global: LoadedGlobal; pylon: LoadedPylon }> {
  try {
    return await loadNamedPylon(ctx, name);
  } catch (e) {
    if (!(e instanceof ConfigError) || e.issues.length === 0) throw e;
    const missing = e.issues.map((i) =>
      i.keyPath === "trigger.secret"
        ? /references \$\{(\w+)\} but it is not set/.exec(i.message)?.[1]
        : undefined
    );
    if (missing.some((v) => v === undefined)) throw e;
    const global = await loadGlobalConfig(ctx.paths, ctx.env);
    const env = { ...global.env };
    for (const v of missing) env[v!] = "(dry run: not set)";
    ctx.io.err(
      `Note: trigger.secret is not set (${missing.join(", ")}): the daemon does not serve ` +
        `pylon "${name}" until it is\n`,
    );
    return { global, pylon: await loadPylon(ctx.paths, name, { ...global, env }) };
  }
}

/** Why the job would refuse the rendered repository, or undefined. */
function repoRefusal(
  workspace: PylonConfig["workspace"],
  rendered: Record<string, string | null>,
): string | undefined {
  try {
    checkPayloadRepo(
      workspaceSpecOf(workspace, {
        repo: rendered.repo || undefined,
        ref: rendered.ref || undefined,
      }),
    );
    return undefined;
  } catch (e) {
    if (e instanceof WorkspaceError) return e.message;
    throw e;
  }
}

async function readPayload(value: string | undefined, name: string): Promise<unknown> {
  if (value === undefined) {
    return {
      error: `Test error from pylon test ${name}`,
      issue: { title: `Test issue for ${name}`, culprit: "app.ts:42" },
    };
  }
  let text = value;
  let source = "--payload";
  if (value.startsWith("@")) {
    source = value.slice(1);
    try {
      text = await Deno.readTextFile(source);
    } catch (e) {
      throw new PylonError(`Cannot read the payload file ${source}`, { cause: e });
    }
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`The payload in ${source} is not valid JSON: ${(e as Error).message}`, {
      hint: `pass a JSON object, e.g. --payload '{"action":"opened"}' or --payload @event.json`,
    });
  }
}

/** `Name: value` pairs into lower-cased names (as templates see them). @throws {UsageError} */
function parseHeaders(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new UsageError(`Invalid --header "${line}": write it as 'Name: value'`);
    }
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
