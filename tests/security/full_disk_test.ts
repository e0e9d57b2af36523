/**
 * A full disk (issue 12, item 9): a job that ends while the pylon home cannot be written keeps
 * its outcome until it is recorded. The daemon retries the final write, holding the job's slot
 * and its container, and records the job `completed` once space is free again; a daemon killed
 * meanwhile leaves the container for the next one, which records the same outcome.
 *
 * The home is a small tmpfs (mounted by root) filled to its last byte by the test, with the
 * job database's write-ahead log truncated to nothing just before: a log that has been
 * checkpointed starts over in the space it already has, so a write would find room in it
 * however full the disk is. With no log left, each write needs new space, as on a disk that
 * filled while the log was growing.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { dockerTest } from "../integration/_docker.ts";
import { eventually } from "../_helpers/daemon.ts";
import {
  containerOf,
  finished,
  freePort,
  jobOf,
  type ProcessDaemon,
  removeJobContainers,
  sleep,
  startDaemonProcess,
  trigger,
  writeAttackerHome,
} from "./_attacker.ts";

const REQUIRED = Deno.env.get("PYLON_REQUIRE_DOCKER") === "1";

async function run(cmd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Mounts a tmpfs of `size` on a new temp folder, or says why it cannot. */
async function mountTmpfs(size: string): Promise<string | { skip: string }> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-full-" });
  try {
    await run("mount", "-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir);
    return dir;
  } catch (e) {
    await Deno.remove(dir);
    return { skip: `cannot mount a tmpfs (needs root): ${(e as Error).message}` };
  }
}

/**
 * Fills the file system holding `db` to its last byte with `filler`, leaving `db`'s write-ahead
 * log empty: the log is truncated first, and the whole is done again when the daemon wrote to
 * it meanwhile (its write found room before the disk was full, and would leave room for the
 * next one).
 */
async function fillDisk(filler: string, db: string): Promise<void> {
  const wal = `${db}-wal`;
  for (;;) {
    const conn = new DatabaseSync(db);
    try {
      conn.exec("PRAGMA busy_timeout = 2000");
      conn.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
    } finally {
      conn.close();
    }
    await fill(filler);
    const left = await Deno.stat(wal).then((s) => s.size, () => 0);
    if (left === 0) return;
    await Deno.remove(filler);
  }
}

/** Writes `path` until the file system has no byte left. */
async function fill(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (let size = chunk.length;;) {
      try {
        await file.write(chunk.subarray(0, size));
      } catch {
        if (size === 1) return;
        size = Math.max(1, size >> 4);
      }
    }
  } finally {
    file.close();
  }
}

dockerTest(
  "a job that ends on a full disk is recorded completed once space is free, across a restart",
  async (docker) => {
    const mounted = await mountTmpfs("24m");
    if (typeof mounted !== "string") {
      if (REQUIRED) throw new Error(mounted.skip);
      // deno-lint-ignore no-console
      console.log(`skipped: ${mounted.skip}`);
      return;
    }
    const root = mounted;
    const port = freePort();
    const filler = join(root, "filler");
    const ids: string[] = [];
    let d: ProcessDaemon | undefined;
    try {
      await writeAttackerHome(docker, {
        // Exits 0 without a result.json: its output is the result.
        work: { script: "echo started; sleep 4; echo all-done" },
      }, { root, port, config: "docker:\n  max_concurrent: 1\n" });
      d = await startDaemonProcess(root, port);
      const db = join(root, "data", "work", "jobs.db");

      // 1. The disk fills while the job runs; it exits 0; space comes back later.
      ids.push(await trigger(d, "work"), await trigger(d, "work"));
      await containerOf(docker, ids[0]!);
      await fillDisk(filler, db);
      await eventually(
        () => Promise.resolve(d!.process.log.some((l) => /event=job\.record_failed/.test(l))),
        20_000,
      );
      await sleep(1500);
      const held = await jobOf(d, ids[0]!);
      assert.equal(held.status, "running", "the outcome waits for the disk, not recorded yet");
      assert.equal((await jobOf(d, ids[1]!)).status, "queued", "the slot is still held");
      await Deno.remove(filler);
      const first = await finished(d, ids[0]!, 30_000);
      assert.equal(first.status, "completed", JSON.stringify(first));
      assert.equal(first.exit_code, 0);
      assert.match(String(first.result), /all-done/);
      // What could not be written to its log while the disk was full is there now.
      const logOf = (id: string) => Deno.readTextFile(join(root, "jobs", `${id}.log`));
      await eventually(async () => /all-done/.test(await logOf(ids[0]!)), 10_000);

      // 2. The second job ends on a full disk and the daemon is killed before space comes back.
      await containerOf(docker, ids[1]!);
      await fillDisk(filler, db);
      const seen = d.process.log.length;
      await eventually(
        () =>
          Promise.resolve(
            d!.process.log.slice(seen).some((l) =>
              /event=job\.record_failed/.test(l) && l.includes(ids[1]!.slice(0, 8))
            ),
          ),
        20_000,
      );
      await d.stop("SIGKILL");
      await Deno.remove(filler);
      d = await startDaemonProcess(root, port);
      const second = await finished(d, ids[1]!, 30_000);
      assert.ok(
        d.process.log.some((l) => /event=container\.reattached .*state=exited/.test(l)),
        "the killed daemon left the finished container for the next one",
      );
      assert.equal(second.status, "completed", JSON.stringify(second));
      assert.equal(second.exit_code, 0);
      assert.match(String(second.result), /all-done/);
    } finally {
      await d?.stop("SIGKILL");
      await removeJobContainers(docker, ids);
      await run("umount", root).catch((e) => {
        // deno-lint-ignore no-console
        console.log(`cannot unmount ${root}: ${e.message}`);
      });
      await Deno.remove(root, { recursive: true });
    }
  },
);
