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

/** What `GET /api/events?job=<id>` streams until the job's final status (or `ms` pass). */
async function eventStream(d: TestDaemon, id: string, ms: number): Promise<string> {
  const res = await d.api(`/api/events?job=${id}`, { signal: AbortSignal.timeout(ms) });
  assert.equal(res.status, 200);
  let text = "";
  try {
    for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (/"status":"(completed|failed|timed_out|killed)"/.test(text)) break;
    }
  } catch {
    // the timeout: the text so far
  }
  return text;
}

/** This process's peak resident memory in KiB (Deno refuses /proc/self without --allow-all). */
async function peakRssKiB(): Promise<number> {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'grep VmHWM "/proc/$PPID/status"'],
    stdout: "piped",
  }).output();
  const kib = Number(/(\d+)\s*kB/.exec(new TextDecoder().decode(out.stdout))?.[1]);
  assert.ok(Number.isFinite(kib), "cannot read VmHWM");
  return kib;
}

dockerTest(
  "events.ndjson as a FIFO or a link to /dev/zero shows no progress and blocks nothing",
  async (docker) => {
    const root = await writeAttackerHome(docker, {
      // The control: an honest tool event is shown, so the attacks below are read too.
      honest: {
        script:
          `printf '{"tool":"Bash","summary":"VISIBLE-EVENT"}\\n' >> "$PYLON_OUT/events.ndjson"; ` +
          "sleep 5; echo done",
      },
      fifo: { script: 'busybox mkfifo "$PYLON_OUT/events.ndjson"; sleep 5; echo done' },
      zero: { script: 'ln -s /dev/zero "$PYLON_OUT/events.ndjson"; sleep 5; echo done' },
    }, { config: "docker:\n  max_concurrent: 3\n" });
    const ids: string[] = [];
    const d = await startAttackedDaemon(root);
    const peakBefore = await peakRssKiB();
    try {
      ids.push(await trigger(d, "honest"), await trigger(d, "fifo"), await trigger(d, "zero"));
      const streams = await Promise.all(ids.map((id) => eventStream(d, id, 20_000)));
      const jobs = [];
      for (const id of ids) jobs.push(await finished(d, id, 20_000));
      for (const job of jobs) assert.equal(job.status, "completed", JSON.stringify(job));
      // Progress was read while they ran: the honest event is on stdout and in its stream.
      assert.match(d.out.join(""), /VISIBLE-EVENT/);
      assert.match(streams[0]!, /VISIBLE-EVENT/);
      for (const s of streams) assert.match(s, /"status":"completed"/);
      // Nobody in the daemon is left waiting to open the FIFO (the agent has exited): opening
      // it for writing without blocking finds no reader.
      const fifo = join(root, "jobs", ids[1]!, "out", "events.ndjson");
      assert.ok((await Deno.lstat(fifo)).isFifo);
      await assert.rejects(
        fs.open(fifo, constants.O_WRONLY | constants.O_NONBLOCK).then((fh) => fh.close()),
        (e: NodeJS.ErrnoException) => e.code === "ENXIO",
        "a reader in the daemon is blocked on the agent's FIFO",
      );
      // Nothing read /dev/zero into memory (the code before the fix read gigabytes).
      const grown = (await peakRssKiB()) - peakBefore;
      assert.ok(grown < 1024 * 1024, `the daemon's peak memory grew by ${grown} KiB`);
      // The daemon is not stuck on a FIFO nor filling its memory from /dev/zero: it stops.
      await stopWithin(d, 10_000);
    } finally {
      await releaseFifos(root);
      await stopWithin(d, 10_000).catch(() => {});
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "links planted in /pylon/out while no daemon runs are refused by the daemon that re-attaches",
  async (docker) => {
    const secret = await hostSecret('{"status":"completed","result":"HOST-SECRET-RESULT"}\n');
    const port = freePort();
    // The links appear once the daemon that started the jobs is gone (killed, as in a crash).
    const late = (target: string) => ({
      script: `sleep 3; ln -s "$TARGET" "$PYLON_OUT/result.json"; echo planted`,
      env: { TARGET: target },
    });
    const root = await writeAttackerHome(docker, {
      zero: late("/dev/zero"),
      steal: late(secret.file),
    }, { config: "docker:\n  max_concurrent: 2\n", port });
    const ids: string[] = [];
    let p: ProcessDaemon | undefined;
    try {
      p = await startDaemonProcess(root, port);
      ids.push(await trigger(p, "zero"), await trigger(p, "steal"));
      for (const id of ids) await containerOf(docker, id);
      await p.stop("SIGKILL");
      await eventually(async () => {
        const exited = await Promise.all(ids.map(async (id) => {
          const [c] = await docker.listContainers({ all: true, labels: { "pylon.job": id } });
          return c?.State === "exited";
        }));
        return exited.every(Boolean);
      }, 15_000);
      p = await startDaemonProcess(root, port);
      const [zero, steal] = [await finished(p, ids[0]!), await finished(p, ids[1]!)];
      assert.equal(zero.status, "failed", JSON.stringify(zero));
      assert.match(String(zero.error), /result\.json.*link/);
      assert.equal(steal.status, "failed", JSON.stringify(steal));
      assert.match(String(steal.error), /result\.json.*link/);
      const seen = [...p.process.log, JSON.stringify([zero, steal])].join("\n");
      assert.ok(p.process.log.some((l) => /event=container\.reattached/.test(l)));
      assert.doesNotMatch(seen, /HOST-SECRET/);
    } finally {
      await p?.stop("SIGKILL");
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
      await Deno.remove(secret.dir, { recursive: true });
    }
  },
);
