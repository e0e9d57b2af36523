/**
 * The `pylon construct --from` templates, rendered as commented YAML so the file teaches the
 * user what each part does. Pure: name + answers in, text out.
 *
 * @module
 */

/** Everything a template may be filled with. */
export interface ConstructAnswers {
  name: string;
  /** RFC 3339 timestamp written to `created`. */
  created: string;
  trigger: "webhook" | "cron";
  path?: string | undefined;
  cron?: string | undefined;
  timezone?: string | undefined;
  workspace: "git-clone" | "git-worktree" | "local" | "none";
  repo?: string | undefined;
  ref?: string | undefined;
  localPath?: string | undefined;
  description: string;
  prompt: string;
  topic?: string | undefined;
  message?: string | undefined;
  approval: boolean;
  timeout: string;
  agentType?: "claude" | "opencode" | undefined;
  /** `trigger.when`: which events become jobs. */
  when?: string | undefined;
  /** `trigger.dedupe`: repeats of one alert count on one job. */
  dedupe?: string | undefined;
  /** The comment above `dedupe`. */
  dedupeNote?: string | undefined;
  /** `trigger.supersede`, and the comment above it. */
  supersede?: string | undefined;
  supersedeNote?: string | undefined;
  /** `trigger.supersede_running`. */
  supersedeRunning?: boolean | undefined;
  /** Lines placed first under `channel:` (its type and connection), with their comments. */
  channelLines?: string[] | undefined;
  /** Commented lines placed under `trigger:`. */
  triggerNotes?: string[];
  /**
   * The webhook is signed: `secret: "${<envVar>}"` and `signature_header`, with comment lines
   * above them. `generated`: `pylon construct` writes a random secret to the pylon's `.env`;
   * otherwise the sender makes one (Sentry) and the user pastes it there.
   */
  signature?: WebhookSignature | undefined;
  /** `workspace.allowed_repos`, with comment lines above it (templated `repo`). */
  allowedRepos?: { patterns: string[]; note: string[] } | undefined;
  /** Lines placed last under `agent:` (tools, MCP servers), with their comments. */
  agentLines?: string[] | undefined;
}

/** How a template's webhook is signed. */
export interface WebhookSignature {
  envVar: string;
  header: string;
  generated: boolean;
  note: string[];
  /** What to tell the user after `construct`: where the secret goes on the sender's side. */
  instructions: string[];
}

/** Names accepted by `--from`. */
export const TEMPLATE_NAMES = ["sentry", "github-pr", "cron-audit", "blank"] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** Flags that fill the fields a template leaves open. */
export interface TemplateFlags {
  repo?: string | undefined;
  ref?: string | undefined;
  path?: string | undefined;
  cron?: string | undefined;
  timezone: string;
}

/** The answers a template gives for `name`, with the flags applied. */
export function templateAnswers(
  template: TemplateName,
  name: string,
  created: string,
  flags: TemplateFlags,
): ConstructAnswers {
  const webhook = { trigger: "webhook" as const, path: flags.path ?? `/${name}` };
  switch (template) {
    case "sentry":
      return {
        name,
        created,
        ...webhook,
        description: "Investigate Sentry error alerts",
        dedupe:
          "{{ with .body.data.issue }}{{ .id }}{{ else }}{{ .body.data.event.issue_id }}{{ end }}",
        dedupeNote: "Repeats of one Sentry issue within the hour count on one job.",
        signature: {
          envVar: "SENTRY_CLIENT_SECRET",
          header: "Sentry-Hook-Signature",
          generated: false,
          note: [
            "Only requests Sentry signed run: put the Client Secret of your Sentry integration in",
            "this pylon's .env as SENTRY_CLIENT_SECRET=<secret>. Until then the path answers 503.",
          ],
          instructions: [
            "In Sentry: Settings → Developer Settings → your internal integration: set the",
            "Webhook URL above, then copy its Client Secret into",
          ],
        },
        workspace: "git-clone",
        repo: flags.repo ?? "",
        ref: flags.ref ?? "main",
        topic: "{{ .body.data.event.title }}",
        message: "{{ .body.data.event.title }}\n{{ .body.data.event.culprit }}\n" +
          "{{ .body.data.event.web_url }}\n",
        approval: true,
        prompt: "Investigate this Sentry error and suggest a fix.\n\n" +
          "Title: {{ .body.data.event.title }}\nCulprit: {{ .body.data.event.culprit }}\n" +
          "Level: {{ .body.data.event.level }}\nPlatform: {{ .body.data.event.platform }}\n" +
          "Sentry URL: {{ .body.data.event.web_url }}\n",
        timeout: "10m",
        agentLines: [
          "# Sentry's MCP server lets the agent read the issue's events, stack traces and tags.",
          "# Add SENTRY_ACCESS_TOKEN=<a Sentry user auth token> to this pylon's .env (it is",
          "# written to a private file for the job, never to its logs); without it the server",
          "# does not start and the agent works from the alert alone.",
          "mcp_servers:",
          "  sentry:",
          "    command: npx",
          '    args: ["-y", "@sentry/mcp-server@latest"]',
          "    env:",
          '      SENTRY_ACCESS_TOKEN: "${SENTRY_ACCESS_TOKEN:-}"',
          "# Suggest, never publish: refused even though the agent needs no permission prompts.",
          'disallowed_tools: ["Bash(git push:*)"]',
        ],
      };
    case "github-pr":
      return {
        name,
        created,
        ...webhook,
        description: "Review GitHub pull requests",
        when: '{{ and (eq (index .headers "x-github-event") "pull_request") ' +
          '(or (eq .body.action "opened") (eq .body.action "synchronize") (eq .body.action "reopened")) ' +
          "(not .body.pull_request.draft) }}",
        dedupe:
          "{{ .body.repository.full_name }}#{{ .body.number }}@{{ .body.pull_request.head.sha }}",
        dedupeNote: "One run per commit of a pull request, however often GitHub sends it.",
        supersede: "{{ .body.repository.full_name }}#{{ .body.number }}",
        supersedeNote:
          "A new commit replaces the pull request's older runs, stopping a running one.",
        supersedeRunning: true,
        channelLines: [
          "# Results go back to the pull request: one comment, edited by every later run, and a",
          `# pylon/${name} commit status. Add GITHUB_TOKEN=<a token that may write pull requests,`,
          "# issues and commit statuses> to this pylon's .env. To be told in chat as well, list",
          "# that channel too, e.g. type: [github, telegram].",
          "type: [github]",
          "github:",
          '  token: "${GITHUB_TOKEN}"',
          "  # A comment containing this word on a reviewed pull request asks a follow-up question.",
          '  # mention: "@pylon"',
        ],
        signature: {
          envVar: "GITHUB_WEBHOOK_SECRET",
          header: "X-Hub-Signature-256",
          generated: true,
          note: [
            "Only requests GitHub signed run (anyone else gets 401): `pylon construct` wrote a",
            "random GITHUB_WEBHOOK_SECRET to this pylon's .env; give GitHub the same value.",
          ],
          instructions: [
            "On GitHub: the repository's (or organization's) Settings → Webhooks → Add webhook:",
            "Payload URL: the webhook above; Content type: application/json; events: Pull",
            "requests; Secret: the value of GITHUB_WEBHOOK_SECRET in",
          ],
        },
        workspace: "git-clone",
        repo: flags.repo ?? "{{ .body.repository.clone_url }}",
        ...(flags.repo ? {} : {
          allowedRepos: {
            patterns: ["your-org/*"],
            note: [
              "The event names the repository to review: only these may be cloned, and the",
              "github channel comments only on them (owner/name globs for GitHub, or URLs).",
              "Replace your-org with your account or organization.",
            ],
          },
        }),
        ref: flags.ref ?? "{{ .body.pull_request.head.sha }}",
        topic: "PR #{{ .body.number }}: {{ .body.pull_request.title }}",
        message: "New PR from {{ .body.pull_request.user.login }}\n" +
          "{{ .body.pull_request.html_url }}\n",
        approval: false,
        prompt: "Review pull request #{{ .body.number }}: {{ .body.pull_request.title }}.\n" +
          "Check for bugs, security issues, and suggest improvements.\n" +
          "Focus on the diff; do not rewrite files unless there is a clear defect.\n",
        timeout: "15m",
        agentLines: [
          "# A reviewer reads: these are the only tools the agent has (no Edit, Write or other",
          "# commands; a Bash call no rule allows is refused). The review itself is the answer,",
          "# which the github channel posts.",
          'allowed_tools: [Read, Grep, Glob, "Bash(git diff:*)", "Bash(git log:*)", ' +
          '"Bash(git show:*)"]',
          "# Anyone who opens a pull request writes part of the prompt: the agent may reach only",
          "# GitHub and npm (`default`), never send the code elsewhere; the model is reached through",
          "# pylon's gateway. `any` would allow every host.",
          "egress: [default]",
        ],
      };
    case "cron-audit":
      return {
        name,
        created,
        trigger: "cron",
        cron: flags.cron ?? "0 9 * * 1",
        timezone: flags.timezone,
        description: "Weekly codebase security audit",
        workspace: "git-clone",
        repo: flags.repo ?? "",
        ref: flags.ref ?? "main",
        message: "Weekly codebase audit\n",
        approval: false,
        prompt: "Audit this codebase for security vulnerabilities, outdated dependencies,\n" +
          "and code quality issues. Provide a summary report.\n",
        timeout: "30m",
      };
    case "blank":
      return {
        name,
        created,
        ...webhook,
        description: "",
        workspace: flags.repo ? "git-clone" : "none",
        repo: flags.repo,
        ref: flags.repo ? flags.ref ?? "main" : undefined,
        approval: false,
        prompt: "This event triggered the run:\n\n{{ .body }}\n\nExplain what happened.\n",
        timeout: "15m",
      };
  }
}

/** Renders answers as a commented pylon.yaml. */
export function renderPylonYaml(a: ConstructAnswers): string {
  const out: string[] = [];
  const q = (s: string) => JSON.stringify(s);
  out.push(
    `# Pylon "${a.name}". Reference: pylon.yaml in the README. Edit with: pylon edit ${a.name}`,
  );
  out.push(`name: ${a.name}`);
  if (a.description) out.push(`description: ${q(a.description)}`);
  out.push(`created: ${q(a.created)}`, "");
  out.push("trigger:", `  type: ${a.trigger}`);
  if (a.trigger === "webhook") {
    out.push(`  # Events are POSTed to this path on the daemon's port.`, `  path: ${q(a.path!)}`);
    if (a.dedupe) {
      if (a.dedupeNote) out.push(`  # ${a.dedupeNote}`);
      out.push(`  dedupe: ${q(a.dedupe)}`);
    }
    if (a.supersede) {
      if (a.supersedeNote) out.push(`  # ${a.supersedeNote}`);
      out.push(`  supersede: ${q(a.supersede)}`);
      if (a.supersedeRunning) out.push("  supersede_running: true");
    }
    if (a.when) {
      out.push(
        "  # Only these events become jobs (opened/updated pull requests that are not drafts).",
        "  # On a public repository anyone can open one, and the agent then works on their code:",
        '  # add (eq .body.pull_request.author_association "OWNER" "MEMBER" "COLLABORATOR") to',
        "  # the `and`, or set channel.approval: true.",
      );
      out.push(`  when: ${q(a.when)}`);
    }
    for (const note of a.triggerNotes ?? []) out.push(`  # ${note}`);
    if (a.signature) {
      for (const note of a.signature.note) out.push(`  # ${note}`);
      out.push(`  secret: "\${${a.signature.envVar}}"`);
      out.push(`  signature_header: ${a.signature.header}`);
    }
  } else {
    out.push(
      `  # minute hour day-of-month month day-of-week; explain it with: pylon cron "<expr>"`,
    );
    out.push(`  cron: ${q(a.cron!)}`);
    if (a.timezone) out.push(`  timezone: ${q(a.timezone)}`);
  }
  out.push("", "workspace:", `  type: ${a.workspace}`);
  if (a.workspace === "git-clone" || a.workspace === "git-worktree") {
    if (!a.repo) out.push("  # Set the repository to clone (SSH or HTTPS URL).");
    out.push(`  repo: ${q(a.repo ?? "")}`);
    if (a.allowedRepos) {
      for (const note of a.allowedRepos.note) out.push(`  # ${note}`);
      out.push(`  allowed_repos: [${a.allowedRepos.patterns.map(q).join(", ")}]`);
    }
    if (a.ref) out.push(`  ref: ${q(a.ref)}`);
  }
  if (a.workspace === "local") out.push(`  path: ${q(a.localPath ?? "")}`);
  const channel: string[] = (a.channelLines ?? []).map((l) => `  ${l}`);
  if (a.topic) channel.push(`  topic: ${q(a.topic)}`);
  if (a.message) channel.push(...block("message", a.message));
  channel.push(`  # true: wait for Investigate/Ignore before the agent runs.`);
  channel.push(`  approval: ${a.approval}`);
  if (!a.channelLines) {
    out.push("", "# Uses defaults.channel from config.yaml unless a type is set here.");
  } else out.push("");
  out.push("channel:");
  out.push(...channel);
  out.push("", "agent:");
  if (a.agentType) out.push(`  type: ${a.agentType}`);
  out.push("  # A Go text/template; the webhook body is .body, e.g. {{ .body.action }}.");
  out.push(...block("prompt", a.prompt));
  out.push(`  timeout: ${a.timeout}`);
  for (const line of a.agentLines ?? []) out.push(`  ${line}`);
  return out.join("\n") + "\n";
}

function block(key: string, text: string): string[] {
  // A block scalar cannot start with an indented line without an indentation indicator.
  if (/^[ \t]/.test(text) || /[\t\r]/.test(text)) return [`  ${key}: ${JSON.stringify(text)}`];
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const indicator = text.endsWith("\n") ? "|" : "|-";
  return [`  ${key}: ${indicator}`, ...body.split("\n").map((l) => (l === "" ? "" : `    ${l}`))];
}

/** A sample event of a template: the body and the headers its sender sends. */
export interface SampleEvent {
  /** Which sample this is, e.g. `github-pr` (shown to the user). */
  kind: TemplateName | "cron";
  body: unknown;
  /** Lower-cased header names, as templates see them. */
  headers: Record<string, string>;
}

/** The parts of a pylon's config that tell which template it most likely came from. */
export interface TemplateClues {
  trigger: {
    type: string;
    when?: string | undefined;
    dedupe?: string | undefined;
    "signature_header"?: string | undefined;
  };
}

/**
 * The sample that fits a pylon: the cron payload for a cron pylon, the GitHub or Sentry one when
 * its signature header or templates read that sender's fields, else a generic event.
 */
export function sampleKindOf(config: TemplateClues): SampleEvent["kind"] {
  const t = config.trigger;
  if (t.type === "cron") return "cron";
  const header = t.signature_header?.toLowerCase();
  const text = `${t.when ?? ""} ${t.dedupe ?? ""}`;
  if (header === "x-hub-signature-256" || header === "x-hub-signature" || /x-github-/.test(text)) {
    return "github-pr";
  }
  if (header === "sentry-hook-signature" || /\.body\.data\.(issue|event)\b/.test(text)) {
    return "sentry";
  }
  return "blank";
}

/**
 * The sample event of `kind` for pylon `name`; `now` dates the cron payload. A GitHub sample
 * comes from a repository `allowedRepos` lets in (`acme/*` → `acme/your-repo`), so the sample
 * of a pylon set up as the README says is not refused for its repository.
 */
export function sampleEvent(
  kind: SampleEvent["kind"],
  name: string,
  now: Date,
  allowedRepos: readonly string[] = [],
): SampleEvent {
  switch (kind) {
    case "cron":
      // What the scheduler sends (src/daemon/scheduler.ts).
      return { kind, body: { pylon: name, scheduled_at: now.toISOString() }, headers: {} };
    case "github-pr":
      return {
        kind,
        body: inRepository(GITHUB_PULL_REQUEST, sampleRepository(allowedRepos)),
        headers: { "x-github-event": "pull_request" },
      };
    case "sentry":
      return { kind, body: SENTRY_EVENT_ALERT, headers: { "sentry-hook-resource": "event_alert" } };
    case "cron-audit":
    case "blank":
      return {
        kind: "blank",
        body: { event: "test", message: `Test event from pylon test ${name}` },
        headers: {},
      };
  }
}

/** The sample's `owner/name`: from the first `owner/name` pattern of `allowedRepos`. */
function sampleRepository(allowedRepos: readonly string[]): string {
  for (const pattern of allowedRepos) {
    const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.*-]+?)(\.git)?$/.exec(pattern);
    if (m) return `${m[1]}/${m[2]!.includes("*") ? "your-repo" : m[2]}`;
  }
  return "your-org/your-repo";
}

/** `event` with its repository `your-org/your-repo` replaced by `fullName`. */
function inRepository<T>(event: T, fullName: string): T {
  const [owner, repo] = fullName.split("/") as [string, string];
  return JSON.parse(
    JSON.stringify(event).replaceAll("your-org/your-repo", fullName)
      .replaceAll('"your-repo"', JSON.stringify(repo)).replaceAll(
        '"your-org"',
        JSON.stringify(owner),
      ),
  );
}

/** A GitHub `pull_request` event (action `opened`), trimmed to the fields templates use. */
const GITHUB_PULL_REQUEST = {
  action: "opened",
  number: 42,
  "pull_request": {
    number: 42,
    title: "Fix off-by-one in pagination",
    state: "open",
    draft: false,
    html_url: "https://github.com/your-org/your-repo/pull/42",
    body: "The last page was dropped when the total was a multiple of the page size.",
    author_association: "MEMBER",
    user: { login: "octocat" },
    head: {
      ref: "fix-pagination",
      sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
      repo: { full_name: "your-org/your-repo" },
    },
    base: { ref: "main", repo: { full_name: "your-org/your-repo" } },
  },
  repository: {
    name: "your-repo",
    full_name: "your-org/your-repo",
    private: false,
    html_url: "https://github.com/your-org/your-repo",
    clone_url: "https://github.com/your-org/your-repo.git",
    ssh_url: "git@github.com:your-org/your-repo.git",
    default_branch: "main",
    owner: { login: "your-org" },
  },
  sender: { login: "octocat" },
};

/** A Sentry issue-alert webhook (`Sentry-Hook-Resource: event_alert`), trimmed. */
const SENTRY_EVENT_ALERT = {
  action: "triggered",
  data: {
    event: {
      event_id: "1f8a3c2e9b6d4e0fa7c5b3d1e2f4a6b8",
      issue_id: "4212345678",
      title: "TypeError: Cannot read properties of undefined (reading 'id')",
      culprit: "app/routes/orders.ts in loadOrder",
      level: "error",
      platform: "javascript",
      web_url:
        "https://your-org.sentry.io/issues/4212345678/events/1f8a3c2e9b6d4e0fa7c5b3d1e2f4a6b8/",
    },
    triggered_rule: "Send a notification for new issues",
  },
  actor: { type: "application", id: "sentry", name: "Sentry" },
};
