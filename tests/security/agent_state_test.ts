/**
 * A follow-up (a chat reply, a GitHub mention) runs in the agent state of the job it follows
 * (issue 12, item 2). A daemon running as root prepares that state for the agent's uid; the agent
 * of the first job may have replaced `/pylon/state/home` with a link to a host folder of its
 * choosing. Preparing the follow-up must not chown anything there; the follow-up gets a home
 * folder of its own instead of the link.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { createPylonPaths } from "../../src/config/mod.ts";
import { createFollowUp } from "../../src/notify/mod.ts";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { dockerTest } from "../integration/_docker.ts";
import {
  finished,
  removeJobContainers,
  startAttackedDaemon,
  trigger,
  writeAttackerHome,
} from "./_attacker.ts";

const ROOT_ONLY = Deno.uid() === 0;

dockerTest(
  "a follow-up never chowns the host folder the first job linked its home to",
  async (docker, t) => {
    if (!ROOT_ONLY) {
      // deno-lint-ignore no-console
      console.log("skipped: only a daemon running as root chowns agent folders");
      return;
    }
    const host = await Deno.makeTempDir({ prefix: "pylon-victim-" });
    const victim = join(host, "victim");
    await Deno.mkdir(victim, { mode: 0o700 });
    await Deno.writeTextFile(join(victim, "keep"), "root's\n", { mode: 0o600 });
    // First run (no session): swap $HOME for links to host paths. A follow-up: use $HOME.
    const script = 'if [ -z "$SESSION_ID" ]; then ' +
      'rm -rf "$HOME" && ln -s "$VICTIM" "$HOME" && ' +
      `printf '{"status":"completed","result":"planted","session_id":"s1"}' > "$PYLON_OUT/result.json"; ` +
      'else echo mine > "$HOME/note" && ' +
      `printf '{"status":"completed","result":"%s"}' "$(cat "$HOME/note")" > "$PYLON_OUT/result.json"; fi`;
    const root = await writeAttackerHome(docker, {
      chat: { script, env: { VICTIM: victim } },
    });
    const ids: string[] = [];
    try {
      const a = await startAttackedDaemon(root);
      try {
        ids.push(await trigger(a, "chat"));
        assert.equal((await finished(a, ids[0]!)).result, "planted");
      } finally {
        await a.stop();
      }
      const linked = join(root, "jobs", ids[0]!, "state", "home");
      assert.ok((await Deno.lstat(linked)).isSymlink, "the first job planted its link");

      await t.step("a follow-up of the same state", async () => {
        const stores = createStoreRegistry(createPylonPaths(root));
        try {
          const store = await stores.open("chat");
          const parent = (await store.get(ids[0]!))!;
          ids.push((await createFollowUp(store, parent, "go on")).job.id);
        } finally {
          await stores.closeAll();
        }
        const b = await startAttackedDaemon(root);
        try {
          const job = await finished(b, ids[1]!);
          assert.equal(job.status, "completed", JSON.stringify(job));
          assert.equal(job.result, "mine", "the follow-up has a home of its own to write in");
        } finally {
          await b.stop();
        }
      });

      for (const path of [victim, join(victim, "keep")]) {
        const info = await Deno.stat(path);
        assert.deepEqual([info.uid, info.gid], [0, 0], `${path} was chowned`);
      }
      const home = await Deno.lstat(linked);
      assert.ok(home.isDirectory && !home.isSymlink, "the link was replaced by a folder");
    } finally {
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
      await Deno.remove(host, { recursive: true });
    }
  },
);
