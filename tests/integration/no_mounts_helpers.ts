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

/** A loopback proxy to the daemon: `server.agent_url`, set before the daemon's port is known. */
export function startAgentProxy(): {
  url: string;
  target: { url: string };
  close(): Promise<void>;
} {
  const target = { url: "" };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
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
    url: `http://127.0.0.1:${server.addr.port}`,
    target,
    close: () => server.shutdown(),
  };
}
