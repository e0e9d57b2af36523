import assert from "node:assert/strict";
import {
  globalConfigSchema,
  pylonConfigSchema,
  resolvePylon,
  unsupportedSettingsNote,
} from "../../src/config/mod.ts";
import { hookMatcher, managedSettingsJson } from "../../src/runner/approval_files.ts";
import { approvalHome } from "./_helpers.ts";

Deno.test("managed settings run the hook before matching tools, longer than approve_timeout, failing closed", () => {
  const settings = JSON.parse(managedSettingsJson(["Bash(git push:*)", "mcp__github__*"], 600_000));
  const [group] = settings.hooks.PreToolUse;
  assert.equal(group.matcher, "^(Bash|mcp__github__.*)$");
  const [hook] = group.hooks;
  assert.equal(hook.command, "node /pylon/approval/pylon-approve.mjs");
  assert.ok(hook.timeout > 600, "the hook outlives approve_timeout");
  assert.equal(hook.onFailure, "block");
  assert.match("mcp__sentry__x", new RegExp(hookMatcher(["mcp__sentry"])));
  assert.doesNotMatch("Bashful", new RegExp(hookMatcher(["Bash(rm:*)"])));
});

Deno.test("the approval files are the daemon's: read-only for the agent, requests in their own folder", async () => {
  await using home = await approvalHome();
  const dir = await Deno.stat(home.folders.dir);
  assert.equal(dir.mode! & 0o777, 0o755);
  const config = JSON.parse(await Deno.readTextFile(`${home.folders.dir}/config.json`));
  assert.deepEqual(config, { rules: ["Bash(git push:*)", "Bash(rm:*)"], "timeout_ms": 60_000 });
  assert.ok(!home.folders.requests.startsWith(home.folders.dir));
  assert.ok((await Deno.stat(home.folders.decisions)).isDirectory);
});

Deno.test("OpenCode pylons are told approve_tools is not supported", () => {
  const pylon = resolvePylon(
    pylonConfigSchema.parse({
      name: "oc",
      trigger: { type: "webhook", path: "/oc" },
      agent: { type: "opencode", prompt: "p", approve_tools: ["Bash(git push:*)"] },
    }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
  assert.deepEqual(pylon.agent.unsupported, ["approve_tools"]);
  assert.match(
    unsupportedSettingsNote("opencode", pylon.agent.unsupported)!,
    /agent\.approve_tools is not supported by OpenCode/,
  );
});

Deno.test("approve_tools and approve_timeout come from defaults.agent.claude unless the pylon sets them", () => {
  const global = globalConfigSchema.parse({
    defaults: { agent: { claude: { approve_tools: ["WebFetch"], approve_timeout: "30m" } } },
  });
  const base = { name: "p", trigger: { type: "webhook", path: "/p" } };
  const inherited = resolvePylon(
    pylonConfigSchema.parse({ ...base, agent: { prompt: "p" } }),
    global,
    {
      env: {},
      systemTimezone: "UTC",
    },
  );
  assert.deepEqual(inherited.agent.settings.approveTools, ["WebFetch"]);
  assert.equal(inherited.agent.settings.approveTimeoutMs, 30 * 60_000);
  const own = resolvePylon(
    pylonConfigSchema.parse({ ...base, agent: { prompt: "p", approve_tools: ["Bash(rm:*)"] } }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
  assert.deepEqual(own.agent.settings.approveTools, ["Bash(rm:*)"]);
  assert.equal(own.agent.settings.approveTimeoutMs, 10 * 60_000);
});
