/**
 * An operator's `chmod 000` on one pylon folder (or a folder owned by someone else) must not stop
 * the daemon: at start the recursive watch of `pylons/`, the legacy-database move and the folder
 * listing all failed on it with "Permission denied" and `pylon start` exited 1. The folder is
 * reported with the fix and skipped, the others serve, and it loads once it is readable.
 *
 * The daemon runs as a subprocess. Root reads any file, so as root it runs without
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (`setpriv`), which makes a mode-000 folder unreadable
 * to it as to any other user.
 */

import assert from "node:assert/strict";
import { writeHome } from "../_helpers/daemon.ts";
import { PYLON_FLAGS } from "../_helpers/process.ts";
import { delay, freePort } from "../integration/_daemon_process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

const yaml = (name: string, prompt = "hi") =>
  `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nchannel:\n  type: stdout\n` +
  `agent:\n  type: custom\n  image: pylon-test/unused:1\n  prompt: ${prompt}\n`;

function daemonCommand(root: string): Deno.Command {
  const argv = [Deno.execPath(), "run", ...PYLON_FLAGS, MAIN, "start"];
  const root0 = Deno.uid() === 0;
  return new Deno.Command(root0 ? "setpriv" : argv[0]!, {
    args: root0 ? ["--bounding-set=-dac_override,-dac_read_search", ...argv] : argv.slice(1),
    env: {
      NO_COLOR: "1",
      PYLON_HOME: root,
      HOME: root,
      // No Docker needed: jobs are accepted and wait.
      DOCKER_HOST: `unix://${root}/no-docker.sock`,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Appends the stream's lines to `into` as they arrive (a line split across reads kept whole). */
async function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop()!;
    into.push(...lines);
  }
  if (rest) into.push(rest);
}

async function waitFor(log: string[], pattern: RegExp, exited: () => boolean): Promise<string> {
  const until = Date.now() + 30_000;
  for (;;) {
    const hit = log.find((l) => pattern.test(l));
    if (hit) return hit;
    if (exited() || Date.now() > until) {
      throw new Error(`no log line matched ${pattern}:\n${log.join("\n")}`);
    }
    await delay(25);
  }
}

async function post(url: string) {
  const res = await fetch(url, { method: "POST", body: "{}" });
  return { status: res.status, body: await res.text() };
}

Deno.test("a pylon folder the daemon cannot read is reported and skipped; the daemon starts and loads it once readable", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-unreadable-" });
  const port = freePort();
  await writeHome(root, {
    "config.yaml": `server:\n  host: 127.0.0.1\n  port: ${port}\n`,
    "pylons/hook/pylon.yaml": yaml("hook"),
    "pylons/locked/pylon.yaml": yaml("locked"),
  });
  const locked = `${root}/pylons/locked`;
  await Deno.chmod(locked, 0o000);
  const child = daemonCommand(root).spawn();
  let exited = false;
  const status = child.status.then((s) => (exited = true, s));
  const log: string[] = [];
  const out: string[] = [];
  const drained = Promise.all([collect(child.stderr, log), collect(child.stdout, out)]);
  try {
    await waitFor(log, /event=daemon\.listening/, () => exited);
    const invalid = await waitFor(log, /event=pylon\.invalid pylon=locked/, () => exited);
    assert.match(invalid, /cannot be read \(permission denied\)/);
    assert.match(invalid, /hint="let the user running pylon read it: chmod u\+rwx \S*locked/);
    assert.match(out.join("\n"), /locked {2,}FAIL {2}.*permission denied/);
    await waitFor(log, /event=watch\.per_folder unreadable=locked /, () => exited);
    assert.equal((await post(`http://127.0.0.1:${port}/hook`)).status, 202);

    // Made readable: it loads, and edits of the other pylons are still seen.
    await Deno.chmod(locked, 0o755);
    await waitFor(log, /event=pylon\.added pylon=locked/, () => exited);
    assert.equal((await post(`http://127.0.0.1:${port}/locked`)).status, 202);
    await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "changed") });
    await waitFor(log, /event=pylon\.reloaded pylon=hook changed=agent/, () => exited);
    await writeHome(root, { "pylons/locked/pylon.yaml": yaml("locked", "changed") });
    await waitFor(log, /event=pylon\.reloaded pylon=locked changed=agent/, () => exited);
    assert.equal(log.filter((l) => /watch\.failed/.test(l)).length, 0, log.join("\n"));
  } finally {
    if (!exited) child.kill("SIGTERM");
    await status;
    await drained;
    await Deno.chmod(locked, 0o755).catch(() => {});
    await Deno.remove(root, { recursive: true });
  }
});
