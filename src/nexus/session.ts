/**
 * One `pylon nexus` session on a real terminal: the alternate screen, Ink's rendering, resizes,
 * suspending the screen while a CLI wizard runs, and putting the terminal back however the
 * session ends (q, Ctrl+C, SIGINT/SIGTERM/SIGHUP, an exception).
 *
 * Design note (library choice, issue 16): Ink 6 (React for the terminal) under Deno 2.9.6 with
 * the compile task's permissions renders, reads raw keys (arrows, Esc, Enter) and unmounts
 * cleanly, checked in tmux. Two gaps of Deno's Node layer are bridged here: `process.stdout`
 * emits no `resize` and keeps its first size, so SIGWINCH updates `columns`/`rows` and emits
 * `resize` itself; and Ink does not use the alternate screen, so the session enters and leaves
 * it. Ink has no suspend: the screen is unmounted while a wizard runs as a child `pylon`
 * process on the inherited terminal, then rendered again from the same controller state.
 *
 * @module
 */

import process from "node:process";
import { createElement } from "react";
import { type Instance, render } from "ink";
import type { CommandContext } from "../cli/command.ts";
import { VERSION } from "../version.ts";
import { NexusController, type NexusDeps } from "./controller.ts";
import {
  checkForUpdate,
  releaseApiUrl,
  runCliAttached,
  startDaemon,
  stopDaemon,
} from "./outside.ts";
import { NexusView } from "./view.tsx";

const ENTER = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J";
const LEAVE = "\x1b[?25h\x1b[?1049l";

/**
 * How long after a wizard ends a SIGINT still counts as the Ctrl+C that stopped it: Deno hands
 * signals to listeners on a later turn of the event loop, and the wizard may have exited first.
 */
const INTERRUPT_GRACE_MS = 1_000;

/** Writes to the terminal synchronously (used while the process may be ending). */
function writeNow(text: string): void {
  try {
    Deno.stdout.writeSync(new TextEncoder().encode(text));
  } catch {
    // the terminal is gone
  }
}

/** Puts the terminal back in its normal mode: cursor shown, main screen, cooked input. */
function restoreTerminal(): void {
  writeNow(LEAVE);
  try {
    Deno.stdin.setRaw(false);
  } catch {
    // not a terminal, or already cooked
  }
}

type SizedStdout = { columns: number; rows: number; emit(event: string): boolean };

function terminalSize(): { columns: number; rows: number } {
  try {
    return Deno.consoleSize();
  } catch {
    return { columns: 80, rows: 24 };
  }
}

/** Keeps Node's `process.stdout` size in step with the terminal (Deno does not). */
function syncStdoutSize(size: { columns: number; rows: number }): void {
  const out = process.stdout as unknown as SizedStdout;
  for (const key of ["columns", "rows"] as const) {
    Object.defineProperty(out, key, { value: size[key], configurable: true, writable: true });
  }
}

/** Writes why the session ended on an error (after the terminal is back in its normal mode). */
function reportCrash(error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  writeErrNow(
    `pylon nexus stopped on an unexpected error (the terminal is restored):\n${text}\n` +
      "Please report it with the lines above; `pylon list`, `pylon jobs` and `pylon logs` " +
      "show the same data meanwhile.\n",
  );
}

function writeErrNow(text: string): void {
  try {
    Deno.stderr.writeSync(new TextEncoder().encode(text));
  } catch {
    // nowhere to write
  }
}

/**
 * Runs the dashboard until the user quits; returns the exit code (1 when it stopped on an
 * error). `overrides` replace parts of the controller's outside world (its data source, for
 * one); the command passes none.
 */
export async function runNexusSession(
  ctx: CommandContext,
  overrides: Partial<NexusDeps> = {},
): Promise<number> {
  let size = terminalSize();
  syncStdoutSize(size);
  const quiet: CommandContext = {
    ...ctx,
    io: { ...ctx.io, out: () => {}, err: () => {} },
  };
  const quit = Promise.withResolvers<void>();
  /** An exception inside the UI: Ink's error boundary unmounts it, and the session ends. */
  const crashed = Promise.withResolvers<unknown>();
  let instance: Instance | undefined;
  let suspended = false;
  /** When the last wizard ended (`performance.now()`); see `onInterrupt`. */
  let resumedAt = -Infinity;

  const controller: NexusController = new NexusController({
    ctx: quiet,
    version: VERSION,
    color: !ctx.env.NO_COLOR,
    size: () => size,
    async runCli(argv, options) {
      suspended = true;
      unmount();
      try {
        await runCliAttached(ctx, argv, options);
      } finally {
        mount();
        suspended = false;
        resumedAt = performance.now();
      }
    },
    startDaemon: () => startDaemon(quiet),
    stopDaemon: () => stopDaemon(quiet),
    copy(text) {
      // OSC 52: the terminal (or tmux, or the SSH client's terminal) sets its clipboard.
      writeNow(`\x1b]52;c;${btoa(String.fromCharCode(...new TextEncoder().encode(text)))}\x07`);
    },
    checkUpgrade: () => checkForUpdate({ url: releaseApiUrl(ctx.env), execPath: Deno.execPath() }),
    quit: () => quit.resolve(),
    ...overrides,
  });

  function mount(): void {
    writeNow(ENTER);
    instance = render(createElement(NexusView, { store: controller }), {
      exitOnCtrlC: false,
      patchConsole: false,
    });
    // Rejected when a component throws (Ink then shows its error box in the alternate screen,
    // which the session leaves): end the session instead of waiting for a `q` that never comes.
    instance.waitUntilExit().catch((error: unknown) => crashed.resolve(error));
  }
  function unmount(): void {
    instance?.unmount();
    instance = undefined;
    restoreTerminal();
  }

  const onResize = () => {
    size = terminalSize();
    syncStdoutSize(size);
    if (suspended) return;
    controller.resized();
    (process.stdout as unknown as SizedStdout).emit("resize");
  };
  const onSignal = () => quit.resolve();
  // While the dashboard shows the keys in raw mode, Ctrl+C arrives as a key, not as SIGINT. A
  // SIGINT while a wizard runs on the terminal is that Ctrl+C: the wizard (same process group)
  // stops on it, and the dashboard comes back instead of ending with it. The wizard may exit on
  // it before Deno hands the signal to this listener, so one arriving just after is that one too.
  const onInterrupt = () => {
    if (!suspended && performance.now() - resumedAt > INTERRUPT_GRACE_MS) quit.resolve();
  };
  // An uncaught exception outside React (a key handler, a timer): put the terminal back before
  // Deno prints the error and exits.
  const onCrash = () => restoreTerminal();
  Deno.addSignalListener("SIGWINCH", onResize);
  Deno.addSignalListener("SIGTERM", onSignal);
  Deno.addSignalListener("SIGHUP", onSignal);
  Deno.addSignalListener("SIGINT", onInterrupt);
  globalThis.addEventListener("unload", onCrash);
  globalThis.addEventListener("error", onCrash);
  globalThis.addEventListener("unhandledrejection", onCrash);
  let failure: { error: unknown } | undefined;
  try {
    mount();
    controller.start();
    failure = await Promise.race([
      quit.promise.then(() => undefined),
      crashed.promise.then((error) => ({ error })),
    ]);
  } catch (error) {
    failure = { error };
  } finally {
    controller.close();
    unmount();
    Deno.removeSignalListener("SIGWINCH", onResize);
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGHUP", onSignal);
    Deno.removeSignalListener("SIGINT", onInterrupt);
    globalThis.removeEventListener("unload", onCrash);
    globalThis.removeEventListener("error", onCrash);
    globalThis.removeEventListener("unhandledrejection", onCrash);
  }
  if (failure) {
    reportCrash(failure.error);
    return 1;
  }
  return 0;
}
