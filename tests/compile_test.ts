// deno-lint-ignore-file no-console
/**
 * The compiled binary: `deno task compile` for this host, then `version`, `construct`, and
 * `start` answering one webhook. `deno compile` needs a denort runtime, downloaded from Deno's
 * servers or given as `DENORT_BIN`; without either this test is ignored and says why (the
 * release workflow, which has the network, runs it for real).
 */

import assert from "node:assert/strict";

const DENORT = Deno.env.get("DENORT_BIN");
const TARGETS: Record<string, string> = {
  "x86_64-linux": "x86_64-unknown-linux-gnu",
  "aarch64-linux": "aarch64-unknown-linux-gnu",
  "x86_64-darwin": "x86_64-apple-darwin",
  "aarch64-darwin": "aarch64-apple-darwin",
};
const target = TARGETS[`${Deno.build.arch}-${Deno.build.os}`];
const reason = !DENORT && !Deno.env.get("PYLON_COMPILE_ONLINE")
  ? "set DENORT_BIN (a denort for this host) or PYLON_COMPILE_ONLINE=1 to build and test the binary"
  : !target
  ? `no release target for ${Deno.build.arch}-${Deno.build.os}`
  : undefined;
if (reason) console.log(`Compiled-binary test ignored: ${reason}`);

Deno.test({
  name: "the compiled pylon runs version, construct, and start with one webhook",
  ignore: reason !== undefined,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "pylon-dist-" });
    const home = await Deno.makeTempDir({ prefix: "pylon-home-" });
    try {
      const root = new URL("..", import.meta.url).pathname;
      const build = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", `${root}scripts/compile.ts`, "--target", target!, "--out", out],
        cwd: root,
      }).output();
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      const bin = (await Array.fromAsync(Deno.readDir(out))).find((e) =>
        e.name.startsWith("pylon-")
      )!;
      const exe = `${out}/${bin.name}`;
      const run = (args: string[]) =>
        new Deno.Command(exe, { args, env: { PYLON_HOME: home, HOME: home } }).output();
      const version = await run(["version"]);
      assert.match(new TextDecoder().decode(version.stdout), /^pylon \d+\.\d+\.\d+/);
      assert.equal((await run(["construct", "hook", "--from", "blank"])).code, 0);
      const daemon = new Deno.Command(exe, {
        args: ["start", "--host", "127.0.0.1", "--port", "0"],
        env: { PYLON_HOME: home, HOME: home },
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const reader = daemon.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      while (!/listening on 127\.0\.0\.1:(\d+)/.test(seen)) {
        seen += (await reader.read()).value ?? "";
      }
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(seen)![1];
      const res = await fetch(`http://127.0.0.1:${port}/hook`, { method: "POST", body: "{}" });
      assert.equal(res.status, 202);
      await res.body?.cancel();
      daemon.kill("SIGTERM");
      assert.equal((await daemon.status).code, 0);
      reader.releaseLock();
      await daemon.stdout.cancel();
    } finally {
      await Deno.remove(out, { recursive: true });
      await Deno.remove(home, { recursive: true });
    }
  },
});
