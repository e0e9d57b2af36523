/**
 * Golden cases: realistic pylon templates (agent prompts, channel topics and messages,
 * workspace repo/ref) against Sentry and GitHub webhook payloads.
 *
 * @module
 */

import { add, deviates } from "./case_list.ts";
import { GH_ISSUE, GH_PR, GH_PUSH, SENTRY } from "./fixtures.ts";

const SENTRY_PROMPT = `You are fixing a production error reported by Sentry.

Error: {{ .body.data.event.title }}
Culprit: {{ .body.data.event.culprit }}
Level: {{ .body.data.event.level }} ({{ .body.data.event.environment }})
{{- with .body.data.event.release }}
Release: {{ . }}
{{- end }}
Link: {{ .body.data.event.web_url }}

{{- $ex := index .body.data.event.exception.values 0 }}
Exception: {{ $ex.type }}: {{ $ex.value }}
Stack trace (in-app frames):
{{- range $i, $f := $ex.stacktrace.frames }}
{{- if $f.in_app }}
  {{ $i }}. {{ $f.function }} at {{ $f.filename }}:{{ $f.lineno }}
{{- end }}
{{- end }}

Tags:
{{ range .body.data.event.tags }}- {{ index . 0 }}={{ index . 1 }}
{{ end -}}
{{ if .body.data.event.user }}User: {{ .body.data.event.user.email }}{{ else }}No user{{ end }}
Rule: {{ .body.data.triggered_rule | printf "%q" }}`;

add("prompt/sentry-full", SENTRY_PROMPT, SENTRY);
add(
  "prompt/sentry-topic",
  `[{{ .body.data.event.level | printf "%.4s" }}] {{ .body.data.event.title | printf "%.40s" }}…`,
  SENTRY,
  {
    templateName: "channel.topic",
  },
);
add(
  "prompt/sentry-missing-fields",
  '{{ .body.data.event.nope }} / {{ .body.data.issue.title }} / {{ or .body.data.event.server_name "unknown host" }}',
  SENTRY,
);
add(
  "prompt/sentry-null-context",
  "{{ with .body.data.event.contexts }}{{ .os }}{{ else }}no contexts{{ end }}",
  SENTRY,
);
add(
  "prompt/sentry-empty-collections",
  "extra={{ len .body.data.event.extra }} fp={{ len .body.data.event.fingerprint }}{{ range .body.data.event.fingerprint }}x{{ else }} (none){{ end }}",
  SENTRY,
);
add(
  "prompt/sentry-lineno",
  "line {{ (index (index .body.data.event.exception.values 0).stacktrace.frames 2).lineno }}",
  SENTRY,
);
add(
  "prompt/sentry-lineno-printf",
  `{{ $f := index (index .body.data.event.exception.values 0).stacktrace.frames 2 }}{{ printf "%s:%v:%v" $f.filename $f.lineno $f.colno }}`,
  SENTRY,
);
deviates(
  "prompt/sentry-timestamp",
  "ts={{ .body.data.event.timestamp }} count={{ .body.data.event.count }}",
  "number-format",
  "ts=1700000000.123 count=1234567",
  SENTRY,
);
add("prompt/sentry-header", `{{ index .headers "sentry-hook-resource" }}`, SENTRY);
add(
  "prompt/sentry-level-switch",
  `{{ $l := .body.data.event.level }}{{ if eq $l "fatal" }}🔥{{ else if eq $l "error" }}❗{{ else }}ℹ️{{ end }} {{ .body.data.event.title }}`,
  SENTRY,
);

const ISSUE_PROMPT = `{{- /* GitHub issue triage prompt */ -}}
Repository: {{ .body.repository.full_name }} (default branch {{ .body.repository.default_branch }})
Issue #{{ .body.issue.number }}: {{ .body.issue.title }}
Opened by @{{ .body.issue.user.login }}{{ if .body.issue.user.site_admin }} (admin){{ end }}
{{ with .body.issue.labels -}}
Labels: {{ range $i, $l := . }}{{ if $i }}, {{ end }}{{ $l.name }}{{ end }}
{{ end -}}
{{ if not .body.issue.assignees }}Nobody is assigned.{{ end }}
Comments: {{ .body.issue.comments }}

{{ .body.issue.body }}

Reply with a plan; link {{ .body.issue.html_url }}.`;

add("prompt/github-issue", ISSUE_PROMPT, GH_ISSUE);
add(
  "prompt/github-event-switch",
  `{{ $e := index .headers "x-github-event" }}{{ if eq $e "issues" }}issue {{ .body.action }}{{ else if eq $e "pull_request" }}PR{{ else }}other: {{ $e }}{{ end }}`,
  GH_ISSUE,
);
add(
  "prompt/github-event-switch-pr",
  `{{ $e := index .headers "x-github-event" }}{{ if eq $e "issues" }}issue{{ else if eq $e "pull_request" }}PR #{{ .body.number }} {{ .body.action }}{{ else }}other{{ end }}`,
  GH_PR,
);
add(
  "prompt/github-title-html",
  "{{ html .body.issue.title }} | {{ js .body.issue.title }} | {{ urlquery .body.issue.title }}",
  GH_ISSUE,
);
add("prompt/github-body-quoted", `{{ printf "%q" .body.issue.body }}`, GH_ISSUE);
add(
  "prompt/github-milestone-null",
  `{{ if .body.issue.milestone }}{{ .body.issue.milestone.title }}{{ else }}no milestone{{ end }}`,
  GH_ISSUE,
);
add(
  "prompt/github-labels-contains",
  `{{ range .body.issue.labels }}{{ if eq .name "bug" }}is-bug{{ end }}{{ end }}`,
  GH_ISSUE,
);
deviates(
  "prompt/github-repo-id",
  "repo {{ .body.repository.id }} user {{ .body.issue.user.id }} stars {{ .body.repository.stargazers_count }}",
  "number-format",
  "repo 123456789 user 583231 stars 80",
  GH_ISSUE,
);
deviates(
  "prompt/github-topics",
  "topics: {{ .body.repository.topics }}",
  "json-print",
  `topics: ["web","typescript"]`,
  GH_ISSUE,
);
add(
  "prompt/github-topics-joined",
  `topics: {{ range $i, $t := .body.repository.topics }}{{ if $i }}, {{ end }}{{ $t }}{{ end }}`,
  GH_ISSUE,
);
add(
  "prompt/github-private",
  `{{ if .body.repository.private }}private{{ else }}public{{ end }} {{ not .body.repository.private }}`,
  GH_ISSUE,
);
add("prompt/github-workspace-repo", "{{ .body.repository.clone_url }}", GH_ISSUE, {
  templateName: "workspace.repo",
});
add("prompt/github-pr-ref", "{{ .body.pull_request.head.ref }}", GH_PR, {
  templateName: "workspace.ref",
});
add(
  "prompt/github-pr-message",
  `PR #{{ .body.number }} {{ .body.action }}: {{ .body.pull_request.title }}
+{{ .body.pull_request.additions }}/-{{ .body.pull_request.deletions }} in {{ .body.pull_request.changed_files }} files
{{- if .body.pull_request.draft }} (draft){{ end }}
Reviewers: {{ range $i, $r := .body.pull_request.requested_reviewers }}{{ if $i }}, {{ end }}@{{ $r.login }}{{ else }}none{{ end }}
Head: {{ slice .body.pull_request.head.sha 0 7 }}`,
  GH_PR,
  { templateName: "channel.message" },
);
add(
  "prompt/github-pr-size",
  `{{ $n := .body.pull_request.additions }}{{ if gt $n 100.0 }}large{{ else }}small{{ end }}`,
  GH_PR,
);
deviates(
  "prompt/github-pr-size-int-literal",
  `{{ if gt .body.pull_request.additions 100 }}large{{ else }}small{{ end }}`,
  "numeric-compare",
  "large",
  GH_PR,
);
add(
  "prompt/github-push",
  `Push to {{ .body.ref }} by {{ .body.pusher.name }} ({{ len .body.commits }} commits)
{{ range .body.commits }}* {{ slice .id 0 7 }} {{ .message | printf "%.20s" }} — {{ .author.name }}
{{ end }}`,
  GH_PUSH,
);
add(
  "prompt/github-push-branch",
  `{{ if eq .body.ref "refs/heads/main" }}main{{ else }}{{ slice .body.ref 11 }}{{ end }}`,
  GH_PUSH,
);
add(
  "prompt/github-push-created",
  "{{ if and .body.created (not .body.forced) }}new branch{{ end }}",
  GH_PUSH,
);
add("prompt/github-first-commit", "{{ (index .body.commits 0).message }}", GH_PUSH);
add(
  "prompt/github-last-commit",
  "{{ $c := .body.commits }}{{ (index $c (len $c | print | len)).id }}",
  GH_PUSH,
);
add("prompt/missing-body", "Issue: {{ .body.issue.title }} ({{ .body.issue.number }})", {
  headers: {},
});
add("prompt/no-data", 'Static prompt with {{ "literal" }} only.', null);
add(
  "prompt/multiline-trim",
  `Task:
  {{- if .body.action }}
  action={{ .body.action }}
  {{- end }}
  {{- range .body.issue.labels }}
  - {{ .name }}
  {{- end }}
Done.`,
  GH_ISSUE,
);
add(
  "prompt/define-sections",
  `{{ define "header" }}== {{ . }} =={{ end -}}
{{ template "header" "Summary" }}
{{ .body.issue.title }}
{{ template "header" "Details" }}
{{ .body.issue.body | printf "%.30s" }}`,
  GH_ISSUE,
);
add(
  "prompt/block-default-footer",
  `{{ .body.action }}{{ block "footer" . }}
-- sent by pylon for {{ .body.repository.full_name }}{{ end }}`,
  GH_ISSUE,
);
add("prompt/index-missing-header", `[{{ index .headers "x-missing" }}]`, GH_ISSUE);
add("prompt/println-list", "{{ range .body.issue.labels }}{{ println .name }}{{ end }}", GH_ISSUE);
