/**
 * Shared by the no-mounts tests and `bench/channel_bench.ts`: the Claude Code image with the
 * mock entrypoint (node and git from the real image, the prompt run as a shell script), and a
 * loopback proxy standing for `server.agent_url`.
 *
 * @module
 */

import { type DockerClient, tarBytes } from "../../src/docker/mod.ts";
import { EMBEDDED_AGENT_FILES } from "../../src/runner/embedded.ts";
import { TEST_LABELS } from "./_docker.ts";
import { buildOnDebian } from "./images_slow.ts";

/** The Claude Code image with the mock entrypoint: node and git, and a scripted agent. */
export async function mockOnClaudeImage(docker: DockerClient): Promise<string> {
  const base = await buildOnDebian(docker, "claude");
  const entrypoint = EMBEDDED_AGENT_FILES.mock!.find((f) => f.path === "entrypoint.sh")!;
  const context = tarBytes([
    {
      type: "file",
      path: "Dockerfile",
      data: `FROM ${base}\nCOPY entrypoint.sh /usr/local/bin/pylon-entrypoint\n`,
    },
    { type: "file", path: "entrypoint.sh", data: entrypoint.content, mode: 0o755 },
  ]);
  const tag = `pylon-test/no-mounts:${base.split(":")[1]}`;
  if (!await docker.inspectImage(tag)) {
    await docker.buildImage(context, { tag, labels: TEST_LABELS });
  }
  return tag;
}

/**
 * A proxy to the daemon: `server.agent_url`, set before the daemon's port is known. It listens on
 * loopback and a free port unless told otherwise (`0.0.0.0` stands for a daemon on all addresses).
 */
export function startAgentProxy(options: { hostname?: string; port?: number } = {}): {
  url: string;
  target: { url: string };
  close(): Promise<void>;
} {
  const target = { url: "" };
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve(
    { hostname, port: options.port ?? 0, onListen: () => {} },
    async function proxy(req) {
      const u = new URL(req.url);
      const body = req.body ? new Uint8Array(await req.arrayBuffer()) : undefined;
      return await fetch(target.url + u.pathname + u.search, {
        method: req.method,
        headers: req.headers,
        ...(body ? { body } : {}),
      });
    },
  );
  return {
    url: `http://${hostname}:${server.addr.port}`,
    target,
    close: () => server.shutdown(),
  };
}

/**
 * What the agent of the git-clone flows (no mounts, Swarm) runs: it reports the clone, a tool
 * event, counts its runs in its kept state, naps `$NAP` seconds, and answers with the run, whether
 * the credential leaked into `.git/config` and whether the token file is still there.
 */
export const CLONE_AGENT_SCRIPT = [
  "set -e",
  'echo "cloned $(git log --oneline | wc -l) commits; feature: $(cat feature.ts)"',
  `echo '{"tool":"Bash","summary":"cat feature.ts"}' >> "$PYLON_OUT/events.ndjson"`,
  'n=$(cat "$HOME/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$HOME/n"',
  "leak=$(grep -c bot: .git/config || true); tok=$(test -e /.pylon-agent/token && echo yes || echo no)",
  'sleep "$NAP"',
  `printf '{"status":"completed","result":"run %s leak=%s token=%s %s","session_id":"s%s"}' "$n" "$leak" "$tok" "$(cat feature.ts)" "$n" > "$PYLON_OUT/result.json"`,
].join("\n");

/**
 * A webhook pylon cloning `repo` at `feature` for a custom agent on `image` (host network) running
 * `prompt` (default {@linkcode CLONE_AGENT_SCRIPT}); `agent` adds lines to its `agent:` block.
 */
export function clonePylonYaml(
  name: string,
  image: string,
  repo: string,
  o: { nap?: number; timeout?: string; prompt?: string; agent?: string[] } = {},
): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "workspace:",
    "  type: git-clone",
    `  repo: ${JSON.stringify(repo)}`,
    "  ref: feature",
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    "  network: host",
    ...(o.agent ?? []),
    `  prompt: ${JSON.stringify(o.prompt ?? CLONE_AGENT_SCRIPT)}`,
    ...(o.timeout ? [`  timeout: ${o.timeout}`] : []),
    "  env:",
    `    NAP: "${o.nap ?? 0}"`,
  ].join("\n") + "\n";
}
