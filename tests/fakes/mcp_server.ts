/**
 * A fake MCP server on 127.0.0.1 speaking the Streamable HTTP transport's JSON-RPC: each path
 * (`/<server>`) is one server offering the tools given for it. It answers `initialize`,
 * `tools/list` and `tools/call` with JSON, accepts notifications with 202, and refuses the
 * optional GET event stream with 405 (the spec allows it). Every request is recorded with its
 * headers, so tests see what a job's MCP config made the CLI send.
 *
 * @module
 */

/** One JSON-RPC request the fake received. */
export interface FakeMcpRequest {
  server: string;
  method: string;
  headers: Headers;
}

/** A running fake; `await using` stops it. */
export interface FakeMcpServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`; a server's URL is `${url}/<server>`. */
  url: string;
  requests: FakeMcpRequest[];
}

/** Starts the fake; `tools` maps a server (path) to its tool names. */
export function startFakeMcpServer(tools: Record<string, string[]>): FakeMcpServer {
  const requests: FakeMcpRequest[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async function fakeMcp(req) {
      const name = new URL(req.url).pathname.slice(1);
      const names = tools[name];
      if (!names) return new Response("not found", { status: 404 });
      if (req.method !== "POST") return new Response(null, { status: 405 });
      const msg = await req.json() as { id?: number | string; method?: string };
      requests.push({ server: name, method: String(msg.method), headers: req.headers });
      if (msg.id === undefined) return new Response(null, { status: 202 });
      const reply = (result: unknown) => Response.json({ jsonrpc: "2.0", id: msg.id, result });
      switch (msg.method) {
        case "initialize":
          return reply({
            protocolVersion: "2025-06-18",
            capabilities: { tools: {} },
            serverInfo: { name: `fake-${name}`, version: "1.0.0" },
          });
        case "tools/list":
          return reply({
            tools: names.map((tool) => ({
              name: tool,
              description: `The fake ${name} server's ${tool}`,
              inputSchema: { type: "object", properties: {} },
            })),
          });
        case "tools/call":
          return reply({ content: [{ type: "text", text: `fake ${name} answer` }] });
        default:
          return Response.json({
            jsonrpc: "2.0",
            id: msg.id,
            error: { code: -32601, message: `Method not found: ${msg.method}` },
          });
      }
    },
  );
  const addr = server.addr as Deno.NetAddr;
  return {
    url: `http://127.0.0.1:${addr.port}`,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}
