/**
 * A real terminal for the nexus tests: a tmux server of its own (its own socket), one 80×24
 * session running a plain shell, `send-keys` to type and `capture-pane` to read the screen,
 * polled against a deadline.
 *
 * Without tmux the tests are registered as ignored with a printed reason; with
 * `PYLON_REQUIRE_TMUX=1` (CI) they run and fail instead.
 *
 * @module
 */

import { PYLON_FLAGS } from "../_helpers/process.ts";

const REQUIRED = Deno.env.get("PYLON_REQUIRE_TMUX") === "1";

async function probe(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("tmux", { args: ["-V"], stdout: "piped", stderr: "piped" })
      .output();
    return out.success ? undefined : "tmux -V failed";
  } catch {
    return "tmux is not installed (apt-get install tmux)";
  }
}

/** Why tmux tests cannot run, or undefined. */
export const TMUX_UNAVAILABLE: string | undefined = await probe();
/** Whether tmux tests are registered as ignored. */
export const TMUX_IGNORE = TMUX_UNAVAILABLE !== undefined && !REQUIRED;

if (TMUX_IGNORE) {
  // deno-lint-ignore no-console
  console.log(
    `nexus terminal tests are ignored: ${TMUX_UNAVAILABLE}. ` +
      "Set PYLON_REQUIRE_TMUX=1 to make them fail instead.",
  );
}

/** One tmux server with one session. */
export interface Terminal extends AsyncDisposable {
  /** Types keys (tmux key names: `j`, `Enter`, `Escape`, `C-c`) one after another. */
  keys(...keys: string[]): Promise<void>;
  /** Types text literally, then Enter. */
  line(text: string): Promise<void>;
  /** The visible screen as text. */
  screen(): Promise<string>;
  /** The visible screen with its colour and style sequences. */
  screenWithEscapes(): Promise<string>;
  /** Resizes the window (the program gets SIGWINCH). */
  resize(columns: number, rows: number): Promise<void>;
  /** Waits until the screen matches; returns it. Fails with the last screen. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** A tmux format value of the pane (`#{alternate_on}`, `#{pane_title}`). */
  display(format: string): Promise<string>;
}

async function tmux(socket: string, ...args: string[]): Promise<string> {
  if (TMUX_UNAVAILABLE) throw new Error(`tmux tests need tmux: ${TMUX_UNAVAILABLE}`);
  const out = await new Deno.Command("tmux", {
    args: ["-L", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`tmux ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/**
 * Starts a shell in an 80×24 tmux session with `env`. Its prompt is `PROMPT> `. The shell keeps
 * no history file: bash writes `$HOME/.bash_history` when the closing tmux server hangs it up,
 * which raced a test's removal of the temporary HOME ("Directory not empty").
 */
export async function openTerminal(env: Record<string, string>): Promise<Terminal> {
  const socket = `pylon-nexus-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const exports = Object.entries({ ...env, PS1: "PROMPT> ", HISTFILE: "" })
    .map(([k, v]) => `${k}=${shellQuote(v)}`);
  await tmux(
    socket,
    "new-session",
    "-d",
    "-s",
    "t",
    "-x",
    "80",
    "-y",
    "24",
    `env ${exports.join(" ")} bash --norc --noprofile`,
  );
  const term: Terminal = {
    async keys(...keys) {
      for (const k of keys) {
        await tmux(socket, "send-keys", "-t", "t", k);
        // A key right after Esc reads as Alt+key (ESC x): let the Esc stand alone.
        if (k === "Escape") await new Promise((r) => setTimeout(r, 250));
      }
    },
    async line(text) {
      await tmux(socket, "send-keys", "-t", "t", "-l", text);
      await tmux(socket, "send-keys", "-t", "t", "Enter");
    },
    screen: () => tmux(socket, "capture-pane", "-p", "-t", "t"),
    screenWithEscapes: () => tmux(socket, "capture-pane", "-p", "-e", "-t", "t"),
    async resize(columns, rows) {
      await tmux(socket, "resize-window", "-t", "t", "-x", String(columns), "-y", String(rows));
    },
    async waitFor(pattern, timeoutMs = 20_000) {
      const until = Date.now() + timeoutMs;
      let last = "";
      for (;;) {
        last = await term.screen();
        if (pattern.test(last)) return last;
        if (Date.now() > until) {
          throw new Error(`the screen never matched ${pattern}; it shows:\n${last}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async display(format) {
      return (await tmux(socket, "display-message", "-p", "-t", "t", format)).trim();
    },
    async [Symbol.asyncDispose]() {
      const path = (await tmux(socket, "display-message", "-p", "#{socket_path}").catch(() => ""))
        .trim();
      await tmux(socket, "kill-server").catch(() => {});
      if (path) await Deno.remove(path).catch(() => {});
    },
  };
  return term;
}

/** Single-quotes a value for sh. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The shell command line of `pylon nexus` with the compile task's permissions. */
export function nexusCommandLine(): string {
  return [Deno.execPath(), "run", ...PYLON_FLAGS, MAIN, "nexus"].map(shellQuote).join(" ") +
    " 2>/dev/null";
}

/**
 * The environment `pylon nexus` runs with in the tmux tests: the caller's PATH and HOME, the test's
 * home, UTC, no network for the update check (a closed loopback port) and `CI` set as CI runners and
 * dev containers set it (Ink would then draw nothing until exit). `extra` adds or overrides.
 */
export function nexusEnv(root: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? root,
    PYLON_HOME: root,
    TERM: "xterm-256color",
    TZ: "UTC",
    PYLON_UPDATE_URL: "http://127.0.0.1:9/releases/latest",
    CI: "true",
    ...extra,
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  return env;
}
