/**
 * Runs the real `pylon` program as a subprocess with exactly the permission flags of the
 * `pylon` task in deno.json (the same ones the compiled binary gets).
 */

const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Where this Deno keeps its module cache (`deno info`'s "DENO_DIR location"). */
const DENO_DIR: string = Deno.env.get("DENO_DIR") ?? JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output()).stdout,
  ),
).denoDir;

/** The `--allow-*` flags of `deno task pylon`. */
export const PYLON_FLAGS: string[] = (denoJson.tasks.pylon as string)
  .split(/\s+/)
  .filter((a) => a.startsWith("--allow-"));

/** Builds a `pylon` subprocess command. */
export function pylonCommand(
  args: string[],
  options: {
    env?: Record<string, string>;
    stdin?: "piped" | "null";
    /** Runs it under `ulimit -n <nofile>` (soft and hard open-files limit). */
    nofile?: number;
  } = {},
): Deno.Command {
  const argv = ["run", ...PYLON_FLAGS, MAIN, ...args];
  const limited = options.nofile !== undefined;
  return new Deno.Command(limited ? "sh" : Deno.execPath(), {
    args: limited
      ? ["-c", `ulimit -n ${options.nofile} && exec "$0" "$@"`, Deno.execPath(), ...argv]
      : argv,
    // The test run's own module cache: a test that points HOME at a temp dir would otherwise
    // make Deno download every npm package again into an empty cache.
    env: { NO_COLOR: "1", DENO_DIR: DENO_DIR, ...options.env },
    stdin: options.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `pylon` to completion. */
export async function runPylon(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await pylonCommand(args, { env }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: withoutDenoNoise(dec.decode(out.stderr)),
  };
}

/** Drops the lines Deno itself prints while it fetches a dependency on first use. */
export function withoutDenoNoise(stderr: string): string {
  return stderr.split("\n").filter((l) => !/^(Download|Initialize) /.test(l))
    .join("\n");
}

/** A loopback port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts `pylon start` on `root` and loopback `port`; resolves once it listens. */
export async function startDaemonProcess(
  root: string,
  port: number,
  options: { nofile?: number; env?: Record<string, string> } = {},
): Promise<Deno.ChildProcess> {
  const child = pylonCommand(["start", "--host", "127.0.0.1", "--port", String(port)], {
    env: { PYLON_HOME: root, HOME: root, ...options.env },
    ...(options.nofile !== undefined ? { nofile: options.nofile } : {}),
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!/listening on/.test(seen)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`daemon exited: ${seen}`);
    seen += value;
  }
  reader.releaseLock();
  return child;
}
