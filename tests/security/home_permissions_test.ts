/**
 * The pylon home holds payloads, results, agent state and the API token: it is private to the
 * user running pylon. A home made with loose modes is tightened at start; what pylon creates is
 * 0700 (folders) and 0600 (its own files).
 */

import assert from "node:assert/strict";
import { cli, createTestContext } from "../_helpers/cli.ts";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";
import { dockerTest } from "../integration/_docker.ts";
import {
  finished,
  removeJobContainers,
  startAttackedDaemon,
  trigger,
  writeAttackerHome,
} from "./_attacker.ts";

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o777).toString(8);
}

Deno.test("the daemon makes a loose home private and creates its databases 0600", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-perm-" });
  await writeHome(root, {
    "pylons/hook/pylon.yaml":
      "name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: hi\n",
  });
  await Deno.chmod(root, 0o755);
  await Deno.chmod(`${root}/pylons`, 0o775);
  const d = await startTestDaemon(root);
  try {
    const res = await fetch(`${d.url}/hook`, { method: "POST", body: "{}" });
    assert.equal(res.status, 202);
    await res.body?.cancel();
    await d.waitForLog(/event=home\.tightened/);
    for (const dir of [root, `${root}/pylons`, `${root}/data`, `${root}/data/hook`]) {
      assert.equal(await mode(dir), "700", dir);
    }
    for (const file of ["jobs.db", "jobs.db-wal", "jobs.db-shm"]) {
      assert.equal(await mode(`${root}/data/hook/${file}`), "600", file);
    }
    assert.equal(await mode(`${root}/daemon.lock`), "600");
    assert.equal(await mode(`${root}/daemon.token`), "600");
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("pylon construct on a new machine creates a private home", async () => {
  await using ctx = await createTestContext();
  await Deno.remove(ctx.paths.root, { recursive: true });
  assert.equal(await cli(ctx, "construct", "audit", "--from", "blank"), 0, ctx.stderr());
  assert.equal(await mode(ctx.paths.root), "700");
  assert.equal(await mode(ctx.paths.pylonDir("audit")), "700");
});

/** Modes (octal) of every folder and file under `dir`, by path relative to it. */
async function modesUnder(dir: string, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix + e.name;
    const info = await Deno.lstat(`${dir}/${e.name}`);
    out[rel] = (info.mode! & 0o777).toString(8);
    if (info.isDirectory) Object.assign(out, await modesUnder(`${dir}/${e.name}`, rel + "/"));
  }
  return out;
}

dockerTest(
  "a job's folder is private to the daemon's user, and the container still writes its own",
  async (docker) => {
    const root = await writeAttackerHome(docker, {
      private: {
        script: [
          'echo "note" > "$HOME/note"',
          'echo "made" > /workspace/made.txt',
          '{ id -u; echo "secret of the run"; } > "$PYLON_OUT/extra.txt"',
          'printf \'{"tool":"Bash","summary":"ls"}\\n\' >> "$PYLON_OUT/events.ndjson"',
          'printf \'{"status":"completed","result":"uid %s"}\' "$(id -u)" > "$PYLON_OUT/result.json"',
        ].join("\n"),
      },
    });
    const d = await startAttackedDaemon(root);
    let id = "";
    try {
      id = await trigger(d, "private");
      const job = await finished(d, id, 30_000);
      const jobDir = `${root}/jobs/${id}`;
      const modes = await modesUnder(jobDir);
      assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${JSON.stringify(modes)}`);
      // The container's writes went through: its out, state and workspace folders are its own.
      const uid = Deno.uid() === 0 ? 1000 : Deno.uid();
      assert.equal(job.result, `uid ${uid}`);
      assert.equal(await Deno.readTextFile(`${jobDir}/state/home/note`), "note\n");
      assert.equal(await Deno.readTextFile(`${jobDir}/workspace/made.txt`), "made\n");
      assert.equal(await mode(jobDir), "700", JSON.stringify(modes));
      // Inside, what the daemon wrote is 0600; the agent's folders are 0700 (owned by its uid).
      for (const [path, m] of Object.entries(modes)) {
        if (/^(out|state|state\/home)$/.test(path)) assert.equal(m, "700", path);
        if (path === "prompt" || /^\.?workspace\.json$|marker/.test(path)) {
          assert.equal(m, "600", path);
        }
      }
      const out = await Deno.lstat(`${jobDir}/out`);
      assert.equal(out.uid, uid, "the agent's out folder is owned by its uid");
    } finally {
      await d.stop();
      await removeJobContainers(docker, [id]);
      await Deno.remove(root, { recursive: true });
    }
  },
);
