/**
 * Runs the real `pylon` program as a subprocess with exactly the permission flags of the
 * `pylon` task in deno.json (the same ones the compiled binary gets).
 */

const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The `--allow-*` flags of `deno task pylon`. */
export const PYLON_FLAGS: string[] = (denoJson.tasks.pylon as string)
  .split(/\s+/)
  .filter((a) => a.startsWith("--allow-"));

/** Builds a `pylon` subprocess command. */
export function pylonCommand(
  args: string[],
  options: { env?: Record<string, string>; stdin?: "piped" | "null" } = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PYLON_FLAGS, MAIN, ...args],
    env: { NO_COLOR: "1", ...options.env },
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
