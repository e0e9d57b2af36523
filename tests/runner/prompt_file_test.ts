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
