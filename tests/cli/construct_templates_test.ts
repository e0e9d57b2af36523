import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  renderPylonYaml,
  TEMPLATE_NAMES,
  templateAnswers,
} from "../../src/cli/construct_templates.ts";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { claudeArgs } from "../../src/runner/agent_args.ts";

function rendered(template: (typeof TEMPLATE_NAMES)[number]) {
  const yaml = renderPylonYaml(
    templateAnswers(template, "t", "2026-11-24T00:00:00Z", {
      timezone: "UTC",
      repo: "https://github.com/acme/app.git",
    }),
  );
  // ${VAR} references are expanded by the loader; the schema sees them as written here.
  return pylonConfigSchema.parse(parse(yaml));
}

Deno.test("renderPylonYaml() writes every template as a valid pylon.yaml", () => {
  for (const name of TEMPLATE_NAMES) assert.equal(rendered(name).name, "t");
});

Deno.test("renderPylonYaml() gives the sentry template Sentry's MCP server and no git push", () => {
  const agent = rendered("sentry").agent;
  assert.equal(agent.mcp_servers?.sentry?.command, "npx");
  assert.equal(agent.mcp_servers?.sentry?.env?.SENTRY_ACCESS_TOKEN, "${SENTRY_ACCESS_TOKEN:-}");
  assert.deepEqual(agent.disallowed_tools, ["Bash(git push:*)"]);
});

Deno.test("renderPylonYaml() limits the github-pr review pylon to read-only tools", () => {
  const config = rendered("github-pr");
  const pylon = resolvePylon(config, globalConfigSchema.parse({}), {
    env: {},
    systemTimezone: "UTC",
  });
  const args = claudeArgs(pylon.agent.settings);
  assert.deepEqual(args.slice(0, 2), ["--tools", "Read,Grep,Glob,Bash"]);
  assert.ok(args.includes("dontAsk"), "git rules need permissions that refuse other commands");
  for (const tool of ["Edit", "Write", "WebFetch"]) assert.ok(!args[1]!.includes(tool));
});

Deno.test("renderPylonYaml() keeps the github-pr reviewer to GitHub and npm (egress: [default])", () => {
  const config = rendered("github-pr");
  const pylon = resolvePylon(config, globalConfigSchema.parse({}), {
    env: {},
    systemTimezone: "UTC",
  });
  assert.deepEqual(pylon.agent.settings.egress, ["default"]);
  // The other templates leave it to the user: their agents' needs vary (MCP servers, registries).
  assert.equal(rendered("sentry").agent.egress, undefined);
});
