/**
 * `pylon nexus` over a job that runs in the real Docker Engine, in a real terminal (tmux, 80×24):
 * the webhook's job appears live, its container's output (hostile escape sequences included)
 * shows in the log pane with the frame intact, and `x` then `y` kills the container.
 */

import assert from "node:assert/strict";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import {
  DOCKER_IGNORE,
  ensureTestImage,
  openTestDocker,
  removeHomeContainers,
} from "../integration/_docker.ts";
import { jobOf, postJob, startDockerDaemon } from "../integration/_daemon.ts";
import { nexusCommandLine, nexusEnv, openTerminal, type Terminal, TMUX_IGNORE } from "./_tmux.ts";

/** A shell script printing what an agent might print to take over a terminal, then working. */
const AGENT_SCRIPT = [
  "echo container-started",
  // window title, clipboard write, clear + home, cursor move, leave the alternate screen, red
  String
    .raw`printf '\033]0;PWNED-TITLE\007\033]52;c;cHduZWQ=\007\033[2J\033[H\033[5;5HOVERWRITE\033[?1049l\033[31mred-text\033[0m after-escapes\n'`,
  "sleep 300",
].join("; ");

Deno.test({
  name: "pylon nexus shows a real container's job live, its log intact, and kills it",
  ignore: DOCKER_IGNORE || TMUX_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using docker = openTestDocker();
    const image = await ensureTestImage(docker);
    const root = await Deno.makeTempDir({ prefix: "pylon-nexus-docker-" });
    await writeHome(root, {
      "pylons/agent/pylon.yaml": [
        "name: agent",
        "trigger:",
        "  type: webhook",
        "  path: /agent",
        "channel:",
        "  type: stdout",
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
        "  env:",
        `    SCRIPT: ${JSON.stringify(AGENT_SCRIPT)}`,
        "  prompt: work",
        "",
      ].join("\n"),
    });
    const d = await startDockerDaemon(root);
    const env = nexusEnv(root);
    await using term: Terminal = await openTerminal(env);
    try {
      await term.waitFor(/^PROMPT>\s*$/m);
      await term.line(nexusCommandLine());
      await term.waitFor(/daemon ON/, 60_000);
      await term.keys("l");
      await term.waitFor(/Trigger\s+webhook \/agent/);

      const id = await postJob(d, "/agent", { title: "x" });
      const id8 = id.slice(0, 8);
      await term.waitFor(new RegExp(`${id8} running`), 30_000);
      const container = await eventually(async () => {
        const list = await docker.listContainers({ labels: { "pylon.job": id } });
        return list[0]?.Id;
      }, 20_000);

      // The container's output, as the agent printed it, minus everything but its colour.
      await term.keys("l");
      const screen = await term.waitFor(/after-escapes/, 20_000);
      assert.match(screen, /container-started/);
      assert.match(screen, /OVERWRITEred-text after-escapes/);
      const rows = screen.split("\n");
      assert.match(rows[0] ?? "", /pylon nexus v/, screen);
      assert.match(rows[1] ?? "", /^PYLONS\s+│LOG agent /, screen);
      assert.equal(await term.display("#{alternate_on}"), "1");
      assert.doesNotMatch(await term.display("#{pane_title}"), /PWNED/);
      assert.ok((await term.screenWithEscapes()).includes("\x1b[31mred-text"));

      // Kill it: the job ends killed and its container is gone.
      await term.keys("x");
      await term.waitFor(new RegExp(`Kill job ${id8} \\(running\\)\\? \\[y/N\\]`));
      await term.keys("y");
      await term.waitFor(new RegExp(`LOG agent ${id8} killed`), 30_000);
      assert.equal((await jobOf(d, id)).status, "killed");
      await eventually(async () => (await docker.inspectContainer(container)) === null, 20_000);

      await term.keys("q", "q");
      await term.waitFor(/^PROMPT>\s*$/m);
      assert.equal(await term.display("#{alternate_on}"), "0");
    } finally {
      await d.stop();
      await removeHomeContainers(docker, root);
      await Deno.remove(root, { recursive: true });
    }
  },
});
