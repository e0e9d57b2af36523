/**
 * Template engine benchmark: a realistic Sentry agent prompt, rendered with the Go-compatible
 * engine (pre-parsed and parse+execute) against a baseline that substitutes the same
 * placeholders with `String.prototype.replaceAll`. Compare the `template/*` rows with the
 * `baseline` row (Deno prints the ratio in its summary).
 */

import { parseTemplate, renderTemplate } from "../src/template/mod.ts";

const DATA = {
  body: {
    action: "triggered",
    data: {
      event: {
        title: "TypeError: Cannot read properties of undefined (reading 'id')",
        culprit: "app/routes/user.ts in getUser",
        level: "error",
        environment: "production",
        release: "web@1.4.2",
        web_url: "https://sentry.io/organizations/acme/issues/4011/events/9f3c2b1a/",
        tags: [["browser", "Chrome 120"], ["environment", "production"], ["level", "error"]],
        exception: {
          values: [{
            type: "TypeError",
            value: "Cannot read properties of undefined (reading 'id')",
            stacktrace: {
              frames: Array.from({ length: 20 }, (_, i) => ({
                filename: i % 3 === 0 ? "node_modules/express/lib/router.js" : `app/mod${i}.ts`,
                function: `fn${i}`,
                lineno: 10 + i,
                in_app: i % 3 !== 0,
              })),
            },
          }],
        },
        user: { email: "ada@example.com" },
      },
      triggered_rule: "Notify pylon",
    },
  },
  headers: { "sentry-hook-resource": "event_alert" },
};

const PROMPT = `You are fixing a production error reported by Sentry.

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
User: {{ .body.data.event.user.email }}
Rule: {{ .body.data.triggered_rule | printf "%q" }}`;

const TEMPLATE = parseTemplate("agent.prompt", PROMPT);

/** The same prompt built by plain placeholder substitution (no loops, no conditionals). */
const BASELINE_TEXT = `You are fixing a production error reported by Sentry.

Error: {title}
Culprit: {culprit}
Level: {level} ({environment})
Release: {release}
Link: {web_url}
Exception: {type}: {value}
Stack trace (in-app frames):
{frames}
Tags:
{tags}
User: {email}
Rule: "{rule}"`;

function baseline(): string {
  const event = DATA.body.data.event;
  const ex = event.exception.values[0]!;
  const frames = ex.stacktrace.frames
    .map((f, i) => f.in_app ? `  ${i}. ${f.function} at ${f.filename}:${f.lineno}` : "")
    .filter((line) => line !== "")
    .join("\n");
  return BASELINE_TEXT
    .replaceAll("{title}", event.title)
    .replaceAll("{culprit}", event.culprit)
    .replaceAll("{level}", event.level)
    .replaceAll("{environment}", event.environment)
    .replaceAll("{release}", event.release)
    .replaceAll("{web_url}", event.web_url)
    .replaceAll("{type}", ex.type)
    .replaceAll("{value}", ex.value)
    .replaceAll("{frames}", frames)
    .replaceAll("{tags}", event.tags.map(([k, v]) => `- ${k}=${v}`).join("\n"))
    .replaceAll("{email}", event.user.email)
    .replaceAll("{rule}", DATA.body.data.triggered_rule);
}

Deno.bench("baseline: replaceAll of the same placeholders", {
  group: "sentry prompt",
  baseline: true,
}, () => {
  baseline();
});

Deno.bench("template: execute a parsed template", { group: "sentry prompt" }, () => {
  TEMPLATE.execute(DATA);
});

Deno.bench("template: parse and execute", { group: "sentry prompt" }, () => {
  renderTemplate("agent.prompt", PROMPT, DATA);
});

Deno.bench("template: parse only", { group: "parse" }, () => {
  parseTemplate("agent.prompt", PROMPT);
});
