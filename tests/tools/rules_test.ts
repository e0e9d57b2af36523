import assert from "node:assert/strict";
import { matchingRule, permissionRuleProblem } from "../../src/config/mod.ts";
import { pylonConfigSchema } from "../../src/config/schema.ts";
// The hook's own copy of the rules, as it runs in the container.
import { matchingRule as hookMatchingRule } from "../../agents/_shared/pylon-approve.mjs";

const RULES = ["Bash(git push:*)", "Bash(rm:*)", "WebFetch(domain:github.com)", "mcp__github__*"];

/** [tool, input, the rule that must match (or undefined)]. */
const CASES: [string, Record<string, unknown>, string | undefined][] = [
  ["Bash", { command: "git push origin main" }, "Bash(git push:*)"],
  ["Bash", { command: "git  push" }, "Bash(git push:*)"],
  ["Bash", { command: "cd /workspace && git push --force" }, "Bash(git push:*)"],
  ["Bash", { command: "GIT_TRACE=1 git push" }, "Bash(git push:*)"],
  ["Bash", { command: "echo hi; sudo rm -rf /" }, "Bash(rm:*)"],
  ["Bash", { command: "ls | xargs echo $(rm x)" }, "Bash(rm:*)"],
  ["Bash", { command: "git status" }, undefined],
  ["Bash", { command: "echo git push" }, undefined],
  ["WebFetch", { url: "https://api.github.com/x" }, "WebFetch(domain:github.com)"],
  ["WebFetch", { url: "https://example.com/" }, undefined],
  ["WebFetch", { url: "not a url" }, "WebFetch(domain:github.com)"],
  ["mcp__github__create_pr", { title: "x" }, "mcp__github__*"],
  ["mcp__sentry__get_issue", {}, undefined],
  ["Read", { file_path: "/workspace/a" }, undefined],
];

Deno.test("matchingRule() finds the approve_tools rule a call matches, the same in the daemon and the hook", () => {
  for (const [tool, input, want] of CASES) {
    assert.equal(matchingRule(RULES, tool, input), want, `${tool} ${JSON.stringify(input)}`);
    assert.equal(
      hookMatchingRule(RULES, tool, input),
      want,
      `hook: ${tool} ${JSON.stringify(input)}`,
    );
  }
});

Deno.test("matchingRule() matches whole tools, MCP servers and file globs", () => {
  const rules = ["WebFetch", "mcp__slack", "Edit(src/**)", "Write(*.env)"];
  const cases: [string, Record<string, unknown>, string | undefined][] = [
    ["WebFetch", { url: "https://example.com" }, "WebFetch"],
    ["mcp__slack__post", {}, "mcp__slack"],
    ["mcp__slackish__post", {}, undefined],
    ["Edit", { file_path: "/workspace/src/a/b.ts" }, "Edit(src/**)"],
    ["Edit", { file_path: "/workspace/lib/a.ts" }, undefined],
    ["Write", { file_path: "/workspace/.env" }, "Write(*.env)"],
  ];
  for (const [tool, input, want] of cases) {
    assert.equal(matchingRule(rules, tool, input), want, `${tool} ${JSON.stringify(input)}`);
    assert.equal(hookMatchingRule(rules, tool, input), want, `hook: ${tool}`);
  }
});

Deno.test("agent.approve_tools refuses what is not a permission rule, naming the fix", () => {
  assert.equal(permissionRuleProblem("Bash(git push:*)"), undefined);
  assert.match(permissionRuleProblem("Bash(git push")!, /not a permission rule; write it like/);
  assert.match(permissionRuleProblem("Bash()")!, /empty parentheses/);
  const parsed = pylonConfigSchema.safeParse({
    name: "p",
    trigger: { type: "webhook", path: "/p" },
    agent: { approve_tools: ["Bash(git push:*)", "rm -rf"], approve_timeout: "soon" },
  });
  assert.equal(parsed.success, false);
  const issues = parsed.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  assert.ok(
    issues.some((i) => /^agent\.approve_tools\.1: is not a permission rule/.test(i)),
    issues.join("\n"),
  );
  assert.ok(
    issues.some((i) => /^agent\.approve_timeout: is not a duration/.test(i)),
    issues.join("\n"),
  );
});
