/**
 * `pylon nexus` decides what waits for a person, in a real terminal (tmux, 80×24) beside a real
 * daemon on loopback: a tool call an agent waits on (allowed with `a`, denied with `i` from
 * "needs you", the agent's approval hook reading the daemon's decision), and a job held over its
 * pylon's budget (approved with `a`, so it runs once over budget).
 */

import assert from "node:assert/strict";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { sendWebhook, steeredRunner } from "../dashboard/_browser.ts";
import { nexusCommandLine, nexusEnv, openTerminal, type Terminal, TMUX_IGNORE } from "./_tmux.ts";

/** The decision the daemon wrote for the agent's hook, once it is there. */
async function decisionIn(file: string): Promise<string> {
  return await eventually(async () => {
    const text = await Deno.readTextFile(file).catch(() => "");
    return text ? (JSON.parse(text) as { decision: string }).decision : undefined;
  }, 10_000);
}

Deno.test({
  name: "pylon nexus allows and denies a waiting tool call and approves a held job",
  ignore: TMUX_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "pylon-nexus-decide-" });
    // One run reserves the whole day's budget ($1 of $1): a second job is held until a person
    // approves it.
    await writeHome(root, {
      "pylons/tools/pylon.yaml": [
        "name: tools",
        "trigger:",
        "  type: webhook",
        "  path: /tools",
        "channel:",
        "  type: stdout",
        "agent:",
        "  prompt: Push the fix",
        "  max_cost_usd: 1",
        "budget:",
        "  daily_usd: 1",
        "",
      ].join("\n"),
    });
    let jobsDir = `${root}/jobs`;
    const runner = steeredRunner(() => jobsDir);
    const d = await startTestDaemon(root, { runner });
    jobsDir = d.paths.jobsDir;
    const env = nexusEnv(root);
    await using term: Terminal = await openTerminal(env);
    try {
      await term.waitFor(/^PROMPT>\s*$/m);
      await term.line(nexusCommandLine());
      await term.waitFor(/daemon ON/, 60_000);

      // The agent of a running job asks to run `git push`: nexus lists the call.
      const id = await sendWebhook(d, "/tools", { title: "x" });
      await eventually(() => Promise.resolve(runner.running.has(id)));
      const first = await runner.askTool(id, "c1", "Bash", { command: "git push origin main" });
      await term.waitFor(/needs you: 1/);
      await term.keys("n");
      let screen = await term.waitFor(new RegExp(`tool call tools ${id.slice(0, 8)} Bash`));
      assert.match(screen, /git push origin main/);
      await term.keys("a");
      await term.waitFor(new RegExp(`allowed tool call of ${id.slice(0, 8)}`));
      assert.equal(await decisionIn(first), "allow");
      await term.waitFor(/Nothing is waiting for you/);

      // A second call: `i` denies it.
      const second = await runner.askTool(id, "c2", "Bash", { command: "rm -rf /" });
      await term.waitFor(/rm -rf \//);
      await term.keys("i");
      await term.waitFor(new RegExp(`denied tool call of ${id.slice(0, 8)}`));
      assert.equal(await decisionIn(second), "deny");

      // Over the budget: the next job is held, shown, and approved from nexus.
      const held = await sendWebhook(d, "/tools", { title: "y" });
      await eventually(async () =>
        (await d.api(`/api/jobs/${held}`).then((r) => r.json())).status === "held"
      );
      screen = await term.waitFor(new RegExp(`held: over budget tools ${held.slice(0, 8)}`));
      await term.keys("a");
      await term.waitFor(new RegExp(`job ${held.slice(0, 8)} approved`));
      await eventually(() => Promise.resolve(runner.running.has(held)), 10_000);
      runner.finish(id, "pushed");
      runner.finish(held, "done too");

      await term.keys("Escape", "q");
      await term.waitFor(/^PROMPT>\s*$/m);
      assert.equal(await term.display("#{alternate_on}"), "0");
    } finally {
      for (const job of runner.running.keys()) runner.finish(job, "stopped");
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});
