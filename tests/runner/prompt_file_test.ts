import assert from "node:assert/strict";
import { join } from "node:path";
import { globalConfigSchema, pylonConfigSchema, resolvePylon } from "../../src/config/mod.ts";
import { writeMcpConfig } from "../../src/runner/prompt_file.ts";

function pylon(agent: Record<string, unknown>) {
  const config = pylonConfigSchema.parse({
    name: "sentry",
    trigger: { type: "webhook", path: "/sentry" },
    agent: { prompt: "p", ...agent },
  });
  return resolvePylon(config, globalConfigSchema.parse({}), { env: {}, systemTimezone: "UTC" });
}

Deno.test("writeMcpConfig() writes the servers 0600 into the job folder, and removes a stale file", async () => {
  const jobDir = await Deno.makeTempDir();
  try {
    const path = await writeMcpConfig(
      jobDir,
      pylon({ mcp_servers: { s: { url: "https://s.example/mcp", headers: { A: "tok" } } } }),
    );
    assert.equal(path, join(jobDir, "mcp.json"));
    assert.equal((await Deno.stat(path!)).mode! & 0o777, 0o600);
    const json = JSON.parse(await Deno.readTextFile(path!));
    assert.equal(json.mcpServers.s.headers.A, "tok");
    // A later attempt without servers (or another agent type) leaves no file behind.
    assert.equal(await writeMcpConfig(jobDir, pylon({})), undefined);
    await assert.rejects(Deno.stat(path!), Deno.errors.NotFound);
  } finally {
    await Deno.remove(jobDir, { recursive: true });
  }
});

Deno.test("writeMcpConfig() writes an OpenCode pylon's servers as OpenCode's mcp config, 0600", async () => {
  const jobDir = await Deno.makeTempDir();
  try {
    const opencode = pylon({
      type: "opencode",
      mcp_servers: { s: { command: "s-mcp", args: ["--x"], env: { TOKEN: "tok" } } },
    });
    const path = await writeMcpConfig(jobDir, opencode);
    assert.equal(path, join(jobDir, "mcp.json"));
    assert.equal((await Deno.stat(path!)).mode! & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path!)), {
      mcp: {
        s: {
          type: "local",
          command: ["s-mcp", "--x"],
          environment: { TOKEN: "tok" },
          enabled: true,
        },
      },
    });
    // A custom image gets no MCP file.
    const custom = pylon({ type: "custom", image: "acme/a", mcp_servers: { s: { command: "s" } } });
    assert.equal(await writeMcpConfig(jobDir, custom), undefined);
    await assert.rejects(Deno.stat(path!), Deno.errors.NotFound);
  } finally {
    await Deno.remove(jobDir, { recursive: true });
  }
});
