/**
 * `pylon test <name> [--payload <json|@file> | --sample] [--dry-run] [--json]`: sends a test
 * event to the running daemon, or renders a pylon's templates against it without a daemon, so
 * users see exactly what the agent and the channel get. Without `--payload` the event is the
 * sample of the template the pylon looks made from (`construct_templates.ts`), with its headers.
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
  unsupportedSettingsNote,
} from "../../config/mod.ts";
import { systemTimezone } from "../../cron/mod.ts";
import { renderTemplate } from "../../template/mod.ts";
import type { Command, CommandContext } from "../command.ts";
import { loadNamedPylon } from "../shared.ts";
import { fromCaller } from "../caller.ts";
import { sampleEvent, sampleKindOf } from "../construct_templates.ts";
import { explainWhen, formatWhenExplanation } from "./test_when.ts";
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
  usage:
    "test <name> [--payload JSON|@FILE | --sample] [--header 'NAME: VALUE']… [--dry-run] [--json]",
  description: `Without --dry-run: POSTs the payload to the pylon's webhook on the running daemon
(signed with the pylon's secret when it has one) and prints the response; for a cron pylon,
asks the daemon to run it now. Exits 1 when the daemon answers with an error.

With --dry-run: renders agent.prompt, channel.topic, channel.message, workspace.repo and
workspace.ref the way a job would, without a daemon, and says what the daemon would do with the
event: accept it, ignore it (trigger.when), or count it on an existing job (trigger.dedupe,
looked up in the pylon's job database). A template error exits 1 and names the field, line and
column.

Without --payload (or with --sample), the sample event of the pylon's kind is used, with the
headers its sender sends: a GitHub pull_request event (X-GitHub-Event: pull_request) for a
github-pr pylon, a Sentry issue alert for a sentry pylon, the scheduler's payload
{"pylon","scheduled_at"} for a cron pylon, else a small generic event. --header adds or
overrides headers. A relative @FILE is read from the folder you run pylon in.`,
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
    sample: {
      type: "boolean",
      description: "Use the sample event of the pylon's template (the default without --payload)",
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
    const payload = args.values.payload as string | undefined;
    if (payload !== undefined && args.values.sample) {
      throw new UsageError("Use either --payload or --sample, not both");
    }
    const sample = payload === undefined
      ? sampleEvent(
        sampleKindOf(pylon.config),
        name,
        ctx.clock.now(),
        pylon.config.workspace.allowed_repos ?? [],
      )
      : undefined;
    const body = sample ? sample.body : await readPayload(ctx, payload!);
    const headers = {
      ...sample?.headers,
      ...parseHeaders((args.values.header as string[] | undefined) ?? []),
    };
    if (sample && !args.values.json) {
      const shown = Object.entries(sample.headers).map(([k, v]) => `${k}: ${v}`).join(", ");
      ctx.io.err(
        `Using the ${sample.kind === "blank" ? "generic" : sample.kind} sample event` +
          `${shown ? ` (headers: ${shown})` : ""}; pass --payload to send your own\n`,
      );
    }
    if (!args.values["dry-run"]) {
      return await sendToDaemon(ctx, pylon.config, global.config, body, {
        json: Boolean(args.values.json),
        payloadGiven: payload !== undefined,
        headers,
      });
    }
    const resolved = resolvePylon(pylon.config, global.config, {
      env: pylon.env,
      systemTimezone: systemTimezone(ctx.env),
    });
    const data = { body, headers };
    const verdict = evaluateWhen(pylon.config.trigger.when, data);
    const whenText = verdict.run
      ? "accepted"
      : "error" in verdict
      ? `refused with 422: ${verdict.error}`
      : "ignored (trigger.when is false for this payload)";
    const outcome = verdict.run ? await dedupeOutcome(ctx, pylon.config, data) : undefined;
    const why = !verdict.run && pylon.config.trigger.when
      ? explainWhen(pylon.config.trigger.when, data)
      : undefined;
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
            when_explained: why ?? null,
            dedupe_key: outcome?.key ?? null,
            ...rendered,
            repo_refused: repoProblem ?? null,
            ignored_agent_settings: resolved.agent.unsupported,
          },
          null,
          2,
        ) + "\n",
      );
      return 0;
    }
    printHuman(ctx, name, resolved.config.trigger.type, rendered);
    const ignored = unsupportedSettingsNote(resolved.agent.type, resolved.agent.unsupported);
    if (ignored) ctx.io.out(`Note: ${ignored}\n`);
    if (repoProblem) ctx.io.out(`Repo refused: ${repoProblem}\n`);
    if (pylon.config.trigger.when) ctx.io.out(`When: ${whenText}\n`);
    if (why) ctx.io.out(formatWhenExplanation(why));
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

/** The `--payload` value: JSON text, or `@file` read from the caller's folder. */
async function readPayload(ctx: CommandContext, value: string): Promise<unknown> {
  let text = value;
  let source = "--payload";
  if (value.startsWith("@")) {
    source = fromCaller(ctx, value.slice(1));
    try {
      text = await Deno.readTextFile(source);
    } catch (e) {
      const reason = e instanceof Deno.errors.NotFound
        ? "no such file"
        : e instanceof Error
        ? e.message
        : String(e);
      throw new PylonError(`Cannot read the payload file ${source}: ${reason}`, {
        cause: e,
        hint: "a relative @FILE is read from the folder you run pylon in",
      });
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
