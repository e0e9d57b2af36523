/**
 * The agent owns `/pylon/out` (issue 12, item 1): whatever it leaves there (a FIFO, a link to
 * `/dev/zero` or to a root-only host file, a file of any size) must neither hang the job past its
 * deadline, nor exhaust the daemon's memory, nor read anything outside the job's folder. The
 * result is read without following links, only from a regular file, size-capped, never blocking;
 * `events.ndjson` (shown as progress in the chat) likewise.
 */

import assert from "node:assert/strict";
import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import { dockerTest } from "../integration/_docker.ts";
import { eventually, type TestDaemon } from "../_helpers/daemon.ts";
import {
  containerOf,
  finished,
  freePort,
  type ProcessDaemon,
  removeJobContainers,
  startAttackedDaemon,
  startDaemonProcess,
  trigger,
  writeAttackerHome,
} from "./_attacker.ts";

/** A root-only host file whose content must never reach a job or a channel. */
async function hostSecret(text: string): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-host-" });
  const file = join(dir, "secret.json");
  await Deno.writeTextFile(file, text, { mode: 0o600 });
  return { dir, file };
}

/** Lets go of a reader blocked on a FIFO the agent planted (the code before the fix blocks). */
async function releaseFifos(root: string): Promise<void> {
  const jobs = await Array.fromAsync(Deno.readDir(join(root, "jobs"))).catch(() => []);
  for (const entry of jobs) {
    for (const name of ["result.json", "events.ndjson"]) {
      const path = join(root, "jobs", entry.name, "out", name);
      const info = await Deno.lstat(path).catch(() => null);
      if (!info?.isFifo) continue;
      await fs.open(path, constants.O_WRONLY | constants.O_NONBLOCK)
        .then((fh) => fh.close())
        .catch(() => {}); // ENXIO: nobody reads it
    }
  }
}

async function stopWithin(d: TestDaemon, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the daemon did not stop within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([d.stop(), late]);
  } finally {
    clearTimeout(timer);
  }
}

dockerTest(
  "a FIFO as result.json fails the job without blocking it, its slot or a re-attach",
  async (docker) => {
    const plant = 'busybox mkfifo "$PYLON_OUT/result.json"; echo planted';
    const port = freePort();
    const root = await writeAttackerHome(docker, {
      fifo: { script: plant, extra: ["  timeout: 5s"] },
      late: { script: `sleep 3; ${plant}` },
      ok: { script: `printf '{"status":"completed","result":"fine"}' > "$PYLON_OUT/result.json"` },
    }, { config: "docker:\n  max_concurrent: 1\n", port });
    const ids: string[] = [];
    let p: ProcessDaemon | undefined;
    const d = await startAttackedDaemon(root);
    try {
      ids.push(await trigger(d, "fifo"));
      const job = await finished(d, ids[0]!, 15_000);
      assert.equal(job.status, "failed", JSON.stringify(job));
      assert.match(String(job.error), /result\.json.*not a regular file/);
      // The only slot is free again.
      ids.push(await trigger(d, "ok"));
      assert.equal((await finished(d, ids[1]!, 15_000)).result, "fine");
      await stopWithin(d, 10_000);

      // The FIFO appears while the daemon is down (killed): the next one re-attaches and still
      // ends the job.
      p = await startDaemonProcess(root, port);
      ids.push(await trigger(p, "late"));
      await containerOf(docker, ids[2]!);
      await p.stop("SIGKILL");
      await eventually(async () => {
        const [c] = await docker.listContainers({ all: true, labels: { "pylon.job": ids[2]! } });
        return c?.State === "exited";
      }, 15_000);
      p = await startDaemonProcess(root, port);
      const late = await finished(p, ids[2]!, 15_000);
      assert.equal(late.status, "failed", JSON.stringify(late));
      assert.match(String(late.error), /not a regular file/);
    } finally {
      await releaseFifos(root);
      await stopWithin(d, 10_000).catch(() => {});
      await p?.stop("SIGKILL");
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "result.json linked to /dev/zero fails the job instead of exhausting the daemon's memory",
  async (docker) => {
    const root = await writeAttackerHome(docker, {
      zero: { script: 'ln -s /dev/zero "$PYLON_OUT/result.json"; echo planted' },
    });
    const ids: string[] = [];
    const d = await startAttackedDaemon(root);
    try {
      ids.push(await trigger(d, "zero"));
      const job = await finished(d, ids[0]!, 15_000);
      assert.equal(job.status, "failed", JSON.stringify(job));
      assert.match(String(job.error), /result\.json.*(link|not a regular file)/);
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "result.json and events.ndjson linked to a root-only host file reveal none of it",
  async (docker) => {
    const secret = await hostSecret(
      '{"status":"completed","result":"HOST-SECRET-RESULT","tool":"HOST-SECRET-EVENT",' +
        '"summary":"x"}\n',
    );
    const root = await writeAttackerHome(docker, {
      steal: { script: 'ln -s "$TARGET" "$PYLON_OUT/result.json"', env: { TARGET: secret.file } },
      spy: {
        // Progress is shown every 3 s while the job runs.
        script: 'ln -s "$TARGET" "$PYLON_OUT/events.ndjson"; sleep 5; echo done',
        env: { TARGET: secret.file },
      },
      // Not a link, but far more than a result may be: refused, not read into memory.
      huge: {
        script: `{ printf '{"status":"completed","result":"'; ` +
          `yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | head -c 3000000 | tr -d '\\n'; printf '"}'; } ` +
          '> "$PYLON_OUT/result.json"',
      },
    });
    const ids: string[] = [];
    const d = await startAttackedDaemon(root);
    try {
      ids.push(await trigger(d, "steal"), await trigger(d, "spy"), await trigger(d, "huge"));
      const [steal, spy, huge] = [
        await finished(d, ids[0]!),
        await finished(d, ids[1]!),
        await finished(d, ids[2]!),
      ];
      assert.equal(steal.status, "failed", JSON.stringify(steal));
      assert.match(String(steal.error), /result\.json.*link/);
      assert.equal(spy.status, "completed", JSON.stringify(spy));
      assert.equal(huge.status, "failed");
      assert.match(String(huge.error), /result\.json.*larger than/);
      assert.ok(String(huge.error).length < 1000);
      const seen = [...d.out, ...d.logs, JSON.stringify([steal, spy, huge])].join("\n");
      assert.doesNotMatch(seen, /HOST-SECRET/);
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
      await Deno.remove(secret.dir, { recursive: true });
    }
  },
);
