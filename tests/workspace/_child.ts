/**
 * A separate process for the lock tests: `_child.ts <repo> <jobDir> <reposDir> [ref]` prepares a
 * git-clone workspace and prints `{ "commit": … }`, or `{ "error": … }`.
 */

import { prepareWorkspace } from "../../src/workspace/mod.ts";
import { memoryLog, testGit } from "./_fixture.ts";

const [repo, jobDir, reposDir, ref] = Deno.args;
if (!repo || !jobDir || !reposDir) {
  throw new Error("Missing arguments: usage _child.ts <repo> <jobDir> <reposDir> [ref]");
}
let line: string;
try {
  const ws = await prepareWorkspace({ type: "git-clone", repo, ref }, { jobDir, reposDir }, {
    git: testGit(),
    log: memoryLog(),
  });
  line = JSON.stringify({ commit: ws.commit });
} catch (e) {
  line = JSON.stringify({ error: String(e) });
}
await Deno.stdout.write(new TextEncoder().encode(line + "\n"));
