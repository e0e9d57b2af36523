/**
 * Rules that span fields or need other modules: trigger/workspace/channel/agent combinations,
 * cron syntax, time zones, templates and volume entries. Run after the schema has passed.
 *
 * `config/` otherwise imports nothing of ours but `errors.ts`; `cron/` and `template/` are pure
 * leaf modules, so checking them here, at load time, keeps the dependency graph acyclic.
 *
 * @module
 */

import { isAbsolute } from "node:path";
import { allowedRepoProblem } from "../allowed_repos.ts";
import { blockedMountTarget } from "../host_paths.ts";
import type { ConfigIssue } from "../errors.ts";
import { TemplateError } from "../errors.ts";
import { isValidTimezone, parseCron } from "../cron/mod.ts";
import { parseTemplate } from "../template/mod.ts";
import { keyPathString, type PositionFinder } from "./issues.ts";
import type { ChannelType, DefaultChannelConfig, GlobalConfig, PylonConfig } from "./schema.ts";
import { channelTypes } from "./resolve.ts";
import { parseDuration } from "./duration.ts";
import { reservedPathProblem } from "./path_clash.ts";

/** Collects issues at key paths, positioned in the file. */
class IssueList {
  readonly issues: ConfigIssue[] = [];
  readonly #finder: PositionFinder;

  constructor(finder: PositionFinder) {
    this.#finder = finder;
  }

  add(path: PropertyKey[], message: string): void {
    const pos = this.#finder.valueAt(path);
    this.issues.push({
      keyPath: keyPathString(path),
      message,
      line: pos?.line,
      column: pos?.column,
    });
  }
}

/** A `.` or `..` path segment, which URL parsing removes before a request is routed. */
const DOT_SEGMENT_REGEXP = /(^|\/)\.\.?(\/|$)/;

const WEBHOOK_ONLY = [
  "path",
  "secret",
  "signature_header",
  "delivery_header",
  "public_url",
  "supersede",
] as const;

/**
 * Checks a pylon config that passed its schema. `dirName` is the folder it was loaded from;
 * `defaultAgentType` is config.yaml's `defaults.agent.type`, the agent of a pylon that names none.
 */
export function validatePylon(
  config: PylonConfig,
  dirName: string,
  finder: PositionFinder,
  defaultAgentType: GlobalConfig["defaults"]["agent"]["type"] = "claude",
): ConfigIssue[] {
  const list = new IssueList(finder);
  if (config.name !== dirName) {
    list.add(
      ["name"],
      `is "${config.name}" but the pylon's folder is "${dirName}"; set name: ${dirName}`,
    );
  }
  checkTrigger(config, list);
  checkWorkspace(config, list);
  if (config.channel) checkChannelSections(config.channel, ["channel"], list);
  checkGithubAllowedRepos(config.channel, ["channel"], list);
  checkAgent(config, defaultAgentType, list);
  checkTemplates(config, list);
  return list.issues;
}

/**
 * A signed webhook needs a secret that is there: an empty one (`"${X:-}"` with X unset) or a
 * missing one would turn verification off without a word.
 */
function checkSecret(trigger: PylonConfig["trigger"], list: IssueList): void {
  const unsigned = "or remove secret and signature_header to accept unsigned requests";
  if (trigger.secret !== undefined && trigger.secret.trim() === "") {
    list.add(
      ["trigger", "secret"],
      "is empty, so no signature would be checked: set the variable it names (in the pylon's " +
        `.env, which only this pylon reads) to the secret the sender signs with, ${unsigned}`,
    );
  } else if (trigger.secret === undefined && trigger.signature_header) {
    list.add(
      ["trigger", "secret"],
      "is required when trigger.signature_header is set, or no signature is checked: add " +
        'secret: "${MY_SECRET}" and MY_SECRET=<the secret the sender signs with> to the ' +
        `pylon's .env, ${unsigned}`,
    );
  }
}

function checkTrigger({ trigger }: PylonConfig, list: IssueList): void {
  if (trigger.type === "webhook") {
    if (!trigger.path) {
      list.add(["trigger"], "a webhook trigger needs `path`, e.g. path: /my-pylon");
    } else if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trigger.path)) {
      list.add(
        ["trigger", "path"],
        `"${trigger.path}" is not a URL path; start it with / and use letters, digits, - _ . ~ /`,
      );
    } else if (DOT_SEGMENT_REGEXP.test(trigger.path)) {
      list.add(
        ["trigger", "path"],
        `"${trigger.path}" cannot be reached: URLs resolve . and .. segments; write the path without them`,
      );
    } else if (reservedPathProblem(trigger.path) !== undefined) {
      list.add(["trigger", "path"], reservedPathProblem(trigger.path)!);
    }
    checkSecret(trigger, list);
    if (trigger.secret && !trigger.signature_header) {
      list.add(
        ["trigger", "signature_header"],
        "is required when trigger.secret is set: name the header the sender signs with, " +
          "e.g. X-Hub-Signature-256 (GitHub) or Sentry-Hook-Signature (Sentry)",
      );
    }
    if (trigger.supersede_running && !trigger.supersede) {
      list.add(
        ["trigger", "supersede_running"],
        "needs trigger.supersede, the key of the jobs a new one replaces, e.g. " +
          'supersede: "{{ .body.repository.full_name }}#{{ .body.number }}"',
      );
    }
    for (const key of ["cron", "timezone"] as const) {
      if (trigger[key] !== undefined) {
        list.add(["trigger", key], "only applies to cron triggers; remove it or set type: cron");
      }
    }
    return;
  }
  for (const key of WEBHOOK_ONLY) {
    if (trigger[key] !== undefined) {
      list.add(
        ["trigger", key],
        "only applies to webhook triggers; remove it or set type: webhook",
      );
    }
  }
  if (!trigger.cron) {
    list.add(["trigger"], 'a cron trigger needs `cron`, e.g. cron: "0 9 * * 1-5"');
  } else {
    try {
      parseCron(trigger.cron);
    } catch (e) {
      list.add(["trigger", "cron"], e instanceof Error ? e.message : String(e));
    }
  }
  if (trigger.timezone !== undefined && !isValidTimezone(trigger.timezone)) {
    list.add(
      ["trigger", "timezone"],
      `"${trigger.timezone}" is not an IANA time zone; use a name like Europe/Berlin or UTC`,
    );
  }
}

function checkWorkspace({ workspace }: PylonConfig, list: IssueList): void {
  const needsRepo = workspace.type === "git-clone" || workspace.type === "git-worktree";
  if (needsRepo && workspace.repo === "") {
    list.add(["workspace", "repo"], `is empty; a ${workspace.type} workspace needs a repository`);
  } else if (needsRepo && !workspace.repo) {
    list.add(["workspace"], `a ${workspace.type} workspace needs \`repo\``);
  }
  if (workspace.type === "local") {
    if (!workspace.path) list.add(["workspace"], "a local workspace needs `path`");
    else if (!isAbsolute(workspace.path) && !workspace.path.startsWith("~")) {
      list.add(["workspace", "path"], "must be an absolute path or start with ~");
    }
  }
  if (!needsRepo) {
    for (const key of ["repo", "ref"] as const) {
      if (workspace[key] !== undefined) {
        list.add(["workspace", key], `is not used by a ${workspace.type} workspace; remove it`);
      }
    }
  }
  if (workspace.type !== "local" && workspace.path !== undefined) {
    list.add(["workspace", "path"], `is only used by a local workspace; remove it`);
  }
  checkAllowedRepos(workspace, list);
}

/**
 * A templated `repo` is picked by whoever sends the event: a git-clone one must be limited by
 * `allowed_repos`, and a git-worktree one (a folder on this machine) cannot be a template.
 */
function checkAllowedRepos(workspace: PylonConfig["workspace"], list: IssueList): void {
  const templated = workspace.repo?.includes("{{") ?? false;
  if (workspace.type === "git-worktree" && templated) {
    list.add(
      ["workspace", "repo"],
      "cannot be a template: a git-worktree repository is a folder on this machine, and an " +
        "event may not pick one; write the path, or use git-clone with workspace.allowed_repos",
    );
  }
  if (workspace.type === "git-clone" && templated && !workspace.allowed_repos) {
    list.add(
      ["workspace", "repo"],
      "is a template, so the event picks the repository: list the ones it may pick in " +
        "workspace.allowed_repos, e.g. allowed_repos: [acme/*] (GitHub) or " +
        "[https://gitlab.example.com/team/*]",
    );
  }
  if (workspace.allowed_repos !== undefined && workspace.type !== "git-clone") {
    list.add(["workspace", "allowed_repos"], "is only used by a git-clone workspace; remove it");
  }
  if (workspace.push && workspace.type !== "git-clone") {
    list.add(["workspace", "push"], "is only used by a git-clone workspace; remove it");
  }
  workspace.allowed_repos?.forEach((entry, i) => {
    const problem = allowedRepoProblem(entry);
    if (problem) list.add(["workspace", "allowed_repos", i], problem);
  });
}

function checkGithubAllowedRepos(
  channel: DefaultChannelConfig | undefined,
  at: PropertyKey[],
  list: IssueList,
): void {
  channel?.github?.allowed_repos?.forEach((entry, i) => {
    const problem = allowedRepoProblem(entry);
    if (problem) list.add([...at, "github", "allowed_repos", i], problem);
  });
}

/** A section for another channel type than the chosen one is almost always a mistake. */
function checkChannelSections(
  channel: DefaultChannelConfig,
  at: PropertyKey[],
  list: IssueList,
): void {
  if (!channel.type) return;
  const types = channelTypes(channel.type);
  for (const other of ["telegram", "slack", "webhook", "github"] as const) {
    if (!types.includes(other) && channel[other] !== undefined) {
      list.add(
        [...at, other],
        `is set but the channel type is ${types.join(", ")}; remove it or add ${other} to type`,
      );
    }
  }
}

/** Checks that the effective channel has what its type needs. */
export function channelProblems(
  type: ChannelType | ChannelType[],
  channel: DefaultChannelConfig,
): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  for (const one of channelTypes(type)) out.push(...typeProblems(one, channel));
  return out;
}

function typeProblems(
  type: ChannelType,
  channel: DefaultChannelConfig,
): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  const need = (
    section: "telegram" | "slack" | "webhook" | "github",
    field: string,
    example: string,
  ) => {
    const settings = channel[section] as Record<string, unknown> | undefined;
    if (!settings || settings[field] === undefined || settings[field] === "") {
      out.push({
        field: `${section}.${field}`,
        message: `is required for a ${type} channel, e.g. ${field}: ${example}`,
      });
    }
  };
  if (type === "telegram") need("telegram", "bot_token", '"${TELEGRAM_BOT_TOKEN}"');
  if (type === "slack") {
    need("slack", "bot_token", '"${SLACK_BOT_TOKEN}"');
    need("slack", "app_token", '"${SLACK_APP_TOKEN}"');
    need("slack", "channel_id", "C0123456789");
  }
  if (type === "webhook") need("webhook", "url", "https://example.com/pylon-events");
  if (type === "github") need("github", "token", '"${GITHUB_TOKEN}"');
  return out;
}

function checkAgent(
  { agent }: PylonConfig,
  defaultType: GlobalConfig["defaults"]["agent"]["type"],
  list: IssueList,
): void {
  const type = agent.type ?? defaultType;
  // Without agent.type, the type comes from config.yaml: say so, or the message blames a line
  // the user never wrote.
  const from = agent.type === undefined
    ? ` (agent.type is ${type}: config.yaml defaults.agent.type)`
    : "";
  if (type === "custom" && !agent.image) {
    list.add(
      ["agent"],
      `a custom agent needs \`image\` (and optionally \`command\`)${from}; ` +
        "set agent.image, e.g. image: ghcr.io/you/agent:1",
    );
  }
  if (type !== "custom" && agent.command !== undefined) {
    list.add(["agent", "command"], `only applies to custom agents (type: custom)${from}`);
  }
  if (agent.timeout !== undefined && (parseDuration(agent.timeout) ?? 0) <= 0) {
    list.add(["agent", "timeout"], "must be longer than zero, e.g. 10m");
  }
  agent.volumes.forEach((entry, i) => {
    const problem = volumeProblem(entry);
    if (problem) list.add(["agent", "volumes", i], problem);
  });
}

/**
 * Checks one `source:target[:ro|rw]` volume entry by its text: its shape and its target
 * (ARCHITECTURE.md §3.8). Its source is checked against the host by `mounts.ts` when the pylon
 * loads, and again by the runner right before the container is created.
 */
export function volumeProblem(entry: string): string | undefined {
  const parts = entry.split(":");
  if (parts.length < 2 || parts.length > 3) {
    return `"${entry}" is not source:target[:ro|rw]`;
  }
  const [source, target, mode] = parts as [string, string, string?];
  if (source === "") return `"${entry}" has an empty source path`;
  if (!source.startsWith("/") && !source.startsWith("~")) {
    return `"${entry}": the source must be an absolute path or start with ~`;
  }
  if (!target.startsWith("/")) return `"${entry}": the target must be an absolute path`;
  if (mode !== undefined && mode !== "ro" && mode !== "rw") {
    return `"${entry}": the mode must be ro or rw, not "${mode}"`;
  }
  const reserved = blockedMountTarget(target);
  return reserved ? `"${entry}": mounting it there is not allowed: ${reserved}` : undefined;
}

function checkTemplates(config: PylonConfig, list: IssueList): void {
  const fields: [PropertyKey[], string | undefined][] = [
    [["trigger", "when"], config.trigger.when],
    [["trigger", "dedupe"], config.trigger.dedupe],
    [["trigger", "supersede"], config.trigger.supersede],
    [["agent", "prompt"], config.agent.prompt],
    [["channel", "topic"], config.channel?.topic],
    [["channel", "message"], config.channel?.message],
    [["workspace", "repo"], config.workspace.repo],
    [["workspace", "ref"], config.workspace.ref],
  ];
  for (const [path, text] of fields) {
    if (!text) continue;
    try {
      parseTemplate(path.join("."), text);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const reason = e.message.replace(/^template: [^:]*:\d+(:\d+)?: /, "");
      list.add(
        path,
        `template error at line ${e.line}, column ${e.column} of the template: ${reason}`,
      );
    }
  }
}

/** Checks a global config that passed its schema. */
export function validateGlobal(config: GlobalConfig, finder: PositionFinder): ConfigIssue[] {
  const list = new IssueList(finder);
  const tz = config.defaults.timezone;
  if (tz !== undefined && !isValidTimezone(tz)) {
    list.add(
      ["defaults", "timezone"],
      `"${tz}" is not an IANA time zone; use a name like Europe/Berlin or UTC`,
    );
  }
  checkChannelSections(config.defaults.channel, ["defaults", "channel"], list);
  checkGithubAllowedRepos(config.defaults.channel, ["defaults", "channel"], list);
  const type = config.defaults.channel.type;
  if (type) {
    for (const p of channelProblems(type, config.defaults.channel)) {
      list.add(["defaults", "channel", ...p.field.split(".")], p.message);
    }
  }
  return list.issues;
}
