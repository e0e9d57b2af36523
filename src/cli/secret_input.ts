/**
 * Reading a secret (a bot token, an API key) at a terminal prompt without showing it: the
 * terminal's echo is turned off with `stty -echo` around one line read, and turned back on
 * afterwards, also when the read fails or the user presses Ctrl-C.
 *
 * `stty` keeps the terminal in line mode, so the ordinary line reader (and its buffer) serves
 * the read; raw mode would need a second reader of stdin.
 *
 * @module
 */

/** Runs `stty` on the terminal; `false` when it cannot (no stty, not a terminal). */
function stty(arg: string): boolean {
  try {
    return new Deno.Command("stty", {
      args: [arg],
      stdin: "inherit",
      stdout: "null",
      stderr: "null",
    })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Writes `prompt` and reads one line with `read` while the terminal does not echo. The prompt
 * is written only once echo is off: an answer typed (or pasted) the moment the prompt shows
 * is not echoed either. Without a terminal, or without `stty`, it reads as is (the caller still
 * never prints the value back).
 */
export async function withoutEcho(
  read: () => Promise<string | null>,
  write: (stream: { writeSync(p: Uint8Array): number }, text: string) => void,
  prompt = "",
): Promise<string | null> {
  if (!Deno.stdin.isTerminal() || !stty("-echo")) {
    if (prompt) write(Deno.stdout, prompt);
    return await read();
  }
  if (prompt) write(Deno.stdout, prompt);
  const restore = () => {
    stty("echo");
    write(Deno.stdout, "\n"); // the Enter the terminal did not echo
  };
  const onInterrupt = () => {
    restore();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await read();
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    restore();
  }
}
