import assert from "node:assert/strict";
import { NexusController, type NexusDeps } from "../../src/nexus/controller.ts";
import type { Line } from "../../src/nexus/layout.ts";
import { eventually } from "../_helpers/daemon.ts";
import { stripAnsi } from "../../src/log/mod.ts";
import { job, pylon, snapshot } from "./_fixtures.ts";
import { contextFor, HOSTILE } from "./_home.ts";

function text(line: Line): string {
  return line.map((s) => s.text).join("");
}

/** A controller, the CLI commands it ran, and its home's jobs folder. */
interface TestController extends AsyncDisposable {
  controller: NexusController;
  ran: string[][];
  jobsDir: string;
}

/** A controller on a home whose daemon is not running (port 9), reading a fixed snapshot. */
async function controllerWith(over: Partial<NexusDeps>): Promise<TestController> {
  const root = await Deno.makeTempDir({ prefix: "pylon-nexus-ctl-" });
  await Deno.writeTextFile(`${root}/config.yaml`, "server:\n  host: 127.0.0.1\n  port: 9\n");
  const ran: string[][] = [];
  const ctx = contextFor(root);
  const controller = new NexusController({
    ctx,
    version: "0.1.0",
    color: false,
    size: () => ({ columns: 80, rows: 24 }),
    runCli(argv) {
      ran.push(argv);
      return Promise.resolve();
    },
    startDaemon: () => Promise.resolve("started"),
    stopDaemon: () => Promise.resolve("stopped"),
    copy() {},
    checkUpgrade: () => Promise.resolve(null),
    quit() {},
    readSnapshot: () =>
      Promise.resolve(snapshot([pylon("alpha"), pylon("beta")], [], { daemon: false })),
    ...over,
  });
  return {
    controller,
    ran,
    jobsDir: ctx.paths.jobsDir,
    async [Symbol.asyncDispose]() {
      controller.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

Deno.test({
  name: "NexusController draws and takes keys while the update check hangs, then offers u",
  // The check that never answers is a promise, not a timer: nothing of it outlives the test.
  async fn() {
    const answer = Promise.withResolvers<string | null>();
    await using c = await controllerWith({ checkUpgrade: () => answer.promise });
    const { controller, ran } = c;
    controller.start();
    await controller.refresh();
    // The dashboard is drawn and answers keys although the check has not answered.
    assert.match(text(controller.screen().header), /pylon nexus v0\.1\.0 {2}daemon OFF/);
    assert.doesNotMatch(text(controller.screen().header), /available/);
    controller.key("j");
    assert.equal(controller.state.selected, "beta");
    controller.key("u");
    assert.equal(controller.state.flash?.text, "no update available");
    assert.deepEqual(ran, []);

    // The check answers later: the header and the keys offer the upgrade, and u runs it.
    answer.resolve("9.9.9");
    await eventually(() =>
      Promise.resolve(/\(v9\.9\.9 available: u\)/.test(text(controller.screen().header)))
    );
    assert.match(text(controller.screen().hints), /u upgrade/);
    controller.key("u");
    await eventually(() => Promise.resolve(ran.length === 1));
    assert.deepEqual(ran, [["upgrade"]]);
  },
});

Deno.test("NexusController keeps working when the update check fails", async () => {
  await using c = await controllerWith({
    checkUpgrade: () => Promise.reject(new Error("offline")),
  });
  c.controller.start();
  await c.controller.refresh();
  c.controller.key("j");
  assert.equal(c.controller.state.selected, "beta");
  assert.doesNotMatch(text(c.controller.screen().header), /available/);
  assert.equal(c.controller.state.flash, null);
});

for (const color of [true, false]) {
  Deno.test(`NexusController's log pane ${color ? "keeps colours" : "drops colours under NO_COLOR"} and drops every other escape`, async () => {
    const running = job("alpha", "running");
    await using c = await controllerWith({
      color,
      readSnapshot: () => Promise.resolve(snapshot([pylon("alpha")], [running], { daemon: false })),
    });
    const { controller, jobsDir } = c;
    await Deno.mkdir(jobsDir, { recursive: true });
    await Deno.writeTextFile(`${jobsDir}/${running.id}.log`, `working on it\n${HOSTILE}`);
    controller.start();
    await controller.refresh();
    controller.key("l");
    controller.key("l");
    assert.equal(controller.state.view, "log");
    const lines = await eventually(() => {
      const l = controller.state.log?.lines ?? [];
      return Promise.resolve(l.some((x) => x.includes("after-escapes")) ? l : undefined);
    });
    const shown = lines.join("\n");
    // deno-lint-ignore no-control-regex
    const others = shown.replace(/\x1b\[[0-9;]*m/g, "");
    assert.ok(!others.includes("\x1b") && !others.includes("\x07"), "only colours are left");
    assert.match(stripAnsi(shown), /OVERWRITEred-text after-escapes/);
    if (color) assert.ok(shown.includes("\x1b[31mred-text\x1b[0m"), "the agent's red is kept");
    else assert.ok(!shown.includes("\x1b"), "NO_COLOR: no colour either");
  });
}
