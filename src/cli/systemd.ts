/**
 * Running helper programs (systemctl, journalctl, a new pylon binary) and finding pylon's
 * systemd unit. Shared by `service`, `stop`/`restart` and `upgrade`.
 *
 * @module
 */

/** What a finished program printed and how it exited. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; `null` when it is not installed. */
export type ProgramRunner = (cmd: string, args: string[]) => Promise<RunResult | null>;

/** The real {@linkcode ProgramRunner}: no stdin, output captured. */
export async function runProgram(cmd: string, args: string[]): Promise<RunResult | null> {
  try {
    const { code, stdout, stderr } = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code, stdout: dec.decode(stdout), stderr: dec.decode(stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** `user` or `system` when a pylon unit is active, else undefined (also without systemd). */
export async function activeUnit(
  run: ProgramRunner = runProgram,
): Promise<"user" | "system" | undefined> {
  for (const scope of ["user", "system"] as const) {
    const args = [...(scope === "user" ? ["--user"] : []), "is-active", "--quiet", "pylon"];
    const r = await run("systemctl", args);
    if (r === null) return undefined; // no systemd here
    if (r.code === 0) return scope;
  }
  return undefined;
}
