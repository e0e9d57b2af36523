/**
 * OpenCode's approval plugin (`pylon-approve-opencode.mjs`) as OpenCode loads it from the approval
 * folder the daemon writes: its calls in Claude Code's terms, and the call id + digest rule (a
 * decision about another input refuses the call). The real CLI with it:
 * tests/integration/tool_approval_claude_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { claudeCallOf } from "../../agents/_shared/pylon-approve.mjs";
import { approvalHome } from "./_helpers.ts";

Deno.test("OpenCode calls are named and shaped as Claude Code's, so approve_tools rules match alike", () => {
  assert.deepEqual(claudeCallOf("bash", { command: "git push", description: "d" }, []), {
    tool: "Bash",
    input: { command: "git push", description: "d" },
  });
  assert.deepEqual(
    claudeCallOf("edit", { filePath: "/workspace/a", oldString: "x", newString: "y" }, []),
    { tool: "Edit", input: { "file_path": "/workspace/a", "old_string": "x", "new_string": "y" } },
  );
  // MCP tools: <server>_<tool>, the server's name from the job's MCP file; arguments untouched.
  assert.deepEqual(claudeCallOf("my_srv_get_issue", { issueId: 1 }, ["sentry", "my_srv"]), {
    tool: "mcp__my_srv__get_issue",
    input: { issueId: 1 },
  });
  assert.equal(claudeCallOf("webfetch", { url: "https://x" }, []).tool, "WebFetch");
  const args = { filePath: "/a" };
  claudeCallOf("read", args, []);
  assert.deepEqual(args, { filePath: "/a" }, "the call's own arguments are not changed");
});

/** The plugin's hook for one call, run by node as OpenCode runs it (its file, its folder). */
function runPlugin(dir: string, requests: string, tool: string, args: unknown) {
  const script = `
    const mod = await import(${JSON.stringify(join(dir, "pylon-approve-opencode.mjs"))});
    const exports = Object.keys(mod);
    const hooks = await mod[exports[0]]({});
    try {
      await hooks["tool.execute.before"]({ tool: ${JSON.stringify(tool)}, callID: "c1" },
        { args: ${JSON.stringify(args)} });
      console.log(JSON.stringify({ exports, ran: true }));
    } catch (e) {
      console.log(JSON.stringify({ exports, ran: false, error: e.message }));
    }`;
  const child = new Deno.Command("node", {
    args: ["--input-type=module", "-e", script],
    env: { PYLON_TOOL_REQUESTS: requests },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return child.output().then((o) => {
    const out = new TextDecoder().decode(o.stdout).trim();
    return JSON.parse(out || "null") as { exports: string[]; ran: boolean; error?: string };
  });
}

async function requestOf(dir: string): Promise<Record<string, string>> {
  for (let i = 0; i < 200; i++) {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.endsWith(".json")) return JSON.parse(await Deno.readTextFile(join(dir, e.name)));
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no request");
}

Deno.test("OpenCode's plugin: one export; a call no rule names runs; a decision about another input refuses", async (t) => {
  await using home = await approvalHome(["Bash(git push:*)"], { type: "opencode" });
  const { dir, requests, decisions } = home.folders;

  await t.step("a call no rule names runs without waiting", async () => {
    const r = await runPlugin(dir, requests, "bash", { command: "ls" });
    assert.deepEqual(r, { exports: ["PylonApproveTools"], ran: true });
  });

  await t.step("the decision names the call but another digest: refused", async () => {
    const run = runPlugin(dir, requests, "bash", { command: "git push origin main" });
    const request = await requestOf(requests);
    assert.equal(request.tool, "Bash");
    assert.equal(request.input_json, JSON.stringify({ command: "git push origin main" }));
    await Deno.writeTextFile(
      join(decisions, `${request.call_id}.json`),
      JSON.stringify({ "call_id": request.call_id, digest: "0".repeat(64), decision: "allow" }),
    );
    const r = await run;
    assert.equal(r.ran, false);
    assert.match(r.error!, /decision was about another call; denied/);
  });

  await t.step("the decision names this call and its digest: it runs", async () => {
    const run = runPlugin(dir, requests, "bash", { command: "git push origin dev" });
    // The earlier call's request was removed once it was answered.
    const request = await requestOf(requests);
    assert.equal(request.input_json, JSON.stringify({ command: "git push origin dev" }));
    await Deno.writeTextFile(
      join(decisions, `${request.call_id}.json`),
      JSON.stringify({ "call_id": request.call_id, digest: request.digest, decision: "allow" }),
    );
    assert.deepEqual(await run, { exports: ["PylonApproveTools"], ran: true });
  });
});
