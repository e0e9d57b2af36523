/**
 * The daemon opens the egress proxy itself (issue 19, items 2-3): a job of a pylon with an
 * `agent.egress` list runs on the internal job network, reaches hosts only through the proxy, and
 * a host not on the list is refused there and shows in the job's log.
 */

import assert from "node:assert/strict";
import { writeHome } from "../_helpers/daemon.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { dockerTest, ensureTestImage, removeHomeContainers } from "./_docker.ts";

dockerTest(
  "a job with an egress list gets out only through the daemon's proxy; a refusal is in its log",
  async (docker) => {
    const image = await ensureTestImage(docker);
    const root = await Deno.makeTempDir({ prefix: "pylon-egress-daemon-" });
    // The static busybox's wget cannot run here (it crashes resolving names), so the request is
    // written by hand: a CONNECT through the proxy named in http_proxy, then a direct attempt.
    const script = [
      "p=${http_proxy#http://}; cred=${p%@*}; hp=${p#*@}; host=${hp%:*}; port=${hp##*:}",
      "auth=$(printf %s \"$cred\" | base64 | tr -d '\\n')",
      "printf 'CONNECT evil.example:443 HTTP/1.1\\r\\nHost: evil.example:443\\r\\n" +
      'Proxy-Authorization: Basic %s\\r\\n\\r\\n\' "$auth" | nc -w 3 "$host" "$port" | head -n 1',
      "nc -w 3 1.1.1.1 80 </dev/null; echo direct=$?",
    ].join("; ");
    await writeHome(root, {
      "pylons/fenced/pylon.yaml": [
        "name: fenced",
        "trigger:",
        "  type: webhook",
        "  path: /fenced",
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
        "  prompt: go",
        "  egress: [api.github.com]",
        "  env:",
        `    SCRIPT: ${JSON.stringify(script)}`,
      ].join("\n") + "\n",
    });
    const d = await startDockerDaemon(root);
    try {
      const id = await postJob(d, "/fenced");
      const job = await finishedJob(d, id, 30_000);
      const log = await Deno.readTextFile(`${root}/jobs/${id}.log`);
      assert.match(log, /HTTP\/1\.1 403/, log);
      assert.match(log, /egress refused: evil\.example:443/, log);
      assert.match(log, /direct=[1-9]/, "no way out around the proxy");
      assert.ok(["completed", "failed"].includes(job.status));
    } finally {
      await d.stop();
      await removeHomeContainers(docker, root);
      await Deno.remove(root, { recursive: true });
    }
  },
);
