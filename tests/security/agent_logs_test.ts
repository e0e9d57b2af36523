/**
 * What an agent prints (issue 12, items 15 and 19): a looping agent cannot fill the disk through
 * `jobs/<id>.log` (capped by `docker.max_log`, with a marker) or through Docker's own log of the
 * container (rotated); and what it prints while no daemon runs is still in `jobs/<id>.log` once
 * the next daemon re-attaches, exactly once.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { dockerTest } from "../integration/_docker.ts";
import { eventually } from "../_helpers/daemon.ts";
import {
  containerOf,
  finished,
  freePort,
  removeJobContainers,
  sleep,
  startAttackedDaemon,
  startDaemonProcess,
  trigger,
  writeAttackerHome,
} from "./_attacker.ts";

const CAP = 64 * 1024;

dockerTest(
  "a flooding agent fills neither jobs/<id>.log past docker.max_log nor Docker's own log",
  async (docker) => {
    const root = await writeAttackerHome(docker, {
      flood: {
        // 4 MiB of output, then a last line: the job's result is still the end of the output.
        script: "sleep 1; yes 'flood flood flood flood flood flood' | head -c 4194304; " +
          "echo; echo LAST-LINE",
      },
    }, { config: "docker:\n  max_log: 64KiB\n" });
    const ids: string[] = [];
    const d = await startAttackedDaemon(root);
    try {
      ids.push(await trigger(d, "flood"));
      const info = await docker.inspectContainer(await containerOf(docker, ids[0]!));
      const logConfig = (info?.HostConfig as { LogConfig?: { Type: string; Config: object } })
        .LogConfig;
      assert.equal(logConfig?.Type, "json-file");
      assert.ok("max-size" in (logConfig?.Config ?? {}), JSON.stringify(logConfig));
      assert.ok("max-file" in (logConfig?.Config ?? {}), JSON.stringify(logConfig));
      const job = await finished(d, ids[0]!, 30_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      assert.match(String(job.result), /LAST-LINE$/);
      const log = await Deno.readTextFile(join(root, "jobs", `${ids[0]}.log`));
      assert.ok(log.length <= CAP + 512, `the log has ${log.length} bytes`);
      assert.match(log, /output truncated at 64 KiB \(docker\.max_log\)/);
      assert.doesNotMatch(log, /LAST-LINE/);
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "output printed while no daemon runs is in the job's log after the next daemon re-attaches",
  async (docker) => {
    const port = freePort();
    const root = await writeAttackerHome(docker, {
      chatty: {
        script: "echo before-stop; sleep 3; echo while-down-1; echo while-down-2 >&2; " +
          "sleep 6; echo after-restart; " +
          `printf '{"status":"completed","result":"ok"}' > "$PYLON_OUT/result.json"`,
      },
    }, { port });
    const ids: string[] = [];
    const logFile = () => join(root, "jobs", `${ids[0]}.log`);
    let d = await startDaemonProcess(root, port);
    try {
      ids.push(await trigger(d, "chatty"));
      await eventually(
        async () => /before-stop/.test(await Deno.readTextFile(logFile()).catch(() => "")),
        15_000,
      );
      await d.stop("SIGKILL");
      const container = await containerOf(docker, ids[0]!);
      await eventually(async () => {
        let text = "";
        for await (const c of docker.containerLogs(container, {})) {
          text += new TextDecoder().decode(c.data);
        }
        return /while-down-2/.test(text);
      }, 10_000);
      // Long enough that "from a second before now" would miss it.
      await sleep(2500);
      d = await startDaemonProcess(root, port);
      const job = await finished(d, ids[0]!, 20_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      const log = await Deno.readTextFile(logFile());
      for (const line of ["before-stop", "while-down-1", "while-down-2", "after-restart"]) {
        assert.equal(log.split(line).length - 1, 1, `${line} once in:\n${log}`);
      }
    } finally {
      await d.stop("SIGKILL");
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);
