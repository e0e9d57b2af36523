import assert from "node:assert/strict";
import {
  globalConfigSchema,
  pylonConfigSchema,
  resolvePylon,
  unsupportedSettingsNote,
} from "../../src/config/mod.ts";
import { join } from "node:path";
import {
  channelApprovalFiles,
  hookMatcher,
  managedSettingsJson,
  writeApprovalFiles,
} from "../../src/runner/approval_files.ts";
import { buildContainerSpec } from "../../src/runner/container_spec.ts";
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

Deno.test("OpenCode pylons approve tools: the plugin in OpenCode's managed config, read-only, beside the shared hook", async () => {
  const pylon = resolvePylon(
    pylonConfigSchema.parse({
      name: "oc",
      trigger: { type: "webhook", path: "/oc" },
      agent: {
        type: "opencode",
        prompt: "p",
        approve_tools: ["Bash(git push:*)"],
        approve_timeout: "2m",
      },
    }),
    globalConfigSchema.parse({}),
    { env: {}, systemTimezone: "UTC" },
  );
  assert.deepEqual(pylon.agent.unsupported, []);
  assert.equal(unsupportedSettingsNote("opencode", pylon.agent.unsupported), null);
  const jobsDir = await Deno.makeTempDir({ prefix: "pylon-oc-approval-" });
  try {
    // A job folder a Claude run left: a re-run as OpenCode keeps only OpenCode's managed config.
    await Deno.mkdir(join(jobsDir, "j1", "approval"), { recursive: true });
    await Deno.writeTextFile(join(jobsDir, "j1", "approval", "managed-settings.json"), "{}");
    const folders = (await writeApprovalFiles(jobsDir, "j1", pylon))!;
    const names = [];
    for await (const e of Deno.readDir(folders.dir)) names.push(e.name);
    assert.deepEqual(names.sort(), [
      "config.json",
      "decisions",
      "opencode-managed.json",
      "pylon-approve-opencode.mjs",
      "pylon-approve.mjs",
    ]);
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(join(folders.dir, "opencode-managed.json"))),
      {
        plugin: ["file:///pylon/approval/pylon-approve-opencode.mjs"],
      },
    );
    // Host mounts: the folder and OpenCode's managed config, both read-only.
    const spec = buildContainerSpec({
      jobId: "j1",
      pylon,
      image: "unused",
      prompt: "p",
      sessionId: null,
      workspace: null,
      workspaceReadOnly: false,
      extraMounts: [],
      outDir: "/tmp/out",
      stateDir: "/tmp/state",
      volumes: [],
      user: "1000:1000",
      home: "test",
      pidsLimit: 512,
      approval: folders,
    });
    const binds = spec.HostConfig!.Mounts!.filter((m) =>
      (m.Source ?? "").startsWith(folders.dir) || m.Source === folders.requests
    ).map((m) => `${m.Source!.slice(jobsDir.length)}:${m.Target}${m.ReadOnly ? ":ro" : ""}`);
    assert.deepEqual(binds, [
      "/j1/approval:/pylon/approval:ro",
      "/j1/approval/opencode-managed.json:/etc/opencode/opencode.json:ro",
      "/j1/tool-requests:/pylon/tool-requests",
    ]);
    // Without host mounts: the same files as root's, at the same places.
    const files = await channelApprovalFiles(folders);
    assert.deepEqual(files.map((f) => f.path).sort(), [
      "/etc/opencode/opencode.json",
      "/pylon/approval/config.json",
      "/pylon/approval/pylon-approve-opencode.mjs",
      "/pylon/approval/pylon-approve.mjs",
    ]);
  } finally {
    await Deno.remove(jobsDir, { recursive: true });
  }
});

Deno.test("approve_tools and approve_timeout come from defaults.agent.<type> unless the pylon sets them", () => {
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
  // OpenCode pylons take theirs from defaults.agent.opencode, never Claude's.
  const opencode = (agent: Record<string, unknown>) =>
    resolvePylon(
      pylonConfigSchema.parse({ ...base, agent: { type: "opencode", prompt: "p" } }),
      globalConfigSchema.parse({ defaults: { agent } }),
      { env: {}, systemTimezone: "UTC" },
    ).agent.settings;
  const fromOwn = opencode({ opencode: { approve_tools: ["Bash(rm:*)"], approve_timeout: "5m" } });
  assert.deepEqual(fromOwn.approveTools, ["Bash(rm:*)"]);
  assert.equal(fromOwn.approveTimeoutMs, 5 * 60_000);
  assert.deepEqual(opencode({ claude: { approve_tools: ["WebFetch"] } }).approveTools, []);
});
