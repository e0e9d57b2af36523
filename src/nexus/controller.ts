/**
 * The dashboard's controller: holds the state, refreshes it from the data layer (on a timer and
 * whenever the event stream announces a job change), feeds the open log pane, and runs the
 * effects the reducer returns. It knows nothing of the terminal: the outside world (CLI
 * wizards, the daemon, the clipboard, the upgrade check) comes in through {@linkcode NexusDeps},
 * so tests drive it with key names and read the screen through `layout()`.
 *
 * @module
 */

import { sanitizeAnsi, stripAnsi } from "../log/mod.ts";
import { layout, type Screen } from "./layout.ts";
import type { NexusAction, Snapshot } from "./model.ts";
import { writeChannelMessage } from "./pylon_files.ts";
import {
  followLog,
  performAction,
  readJobPayload,
  readSnapshot,
  type SourceDeps,
  watchJobs,
} from "./source.ts";
import {
  type Effect,
  handleKey,
  initialState,
  type NexusState,
  withBuilderPayload,
  withFlash,
  withLogText,
  withSnapshot,
} from "./state.ts";

/** What the controller needs from outside. */
export interface NexusDeps extends SourceDeps {
  version: string;
  /** False under `NO_COLOR`: log lines lose their colours too. */
  color: boolean;
  /** Current terminal size. */
  size(): { columns: number; rows: number };
  /** Runs `pylon <argv>` attached to the terminal (the screen is suspended meanwhile). */
  runCli(argv: string[], options: { askName?: boolean }): Promise<void>;
  /** Starts the daemon (systemd unit, else a detached `pylon start`); returns what happened. */
  startDaemon(): Promise<string>;
  stopDaemon(): Promise<string>;
  /** Puts text on the clipboard (OSC 52). */
  copy(text: string): void;
  /** A newer release's version, or null; must not throw. */
  checkUpgrade(): Promise<string | null>;
  /** Called when the user quits. */
  quit(): void;
  /** Between full refreshes (ms). @default {3000} */
  refreshMs?: number;
  /** Where a refresh reads from. @default {readSnapshot} (the daemon, else the files) */
  readSnapshot?: (deps: SourceDeps) => Promise<Snapshot>;
}

/** Drives one dashboard session. */
export class NexusController {
  #deps: NexusDeps;
  #state: NexusState = initialState();
  #listeners = new Set<() => void>();
  #screen: Screen | undefined;
  #stop = new AbortController();
  #log: AbortController | undefined;
  #refreshing: Promise<void> | undefined;
  #again = false;
  #tick = 0;
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(deps: NexusDeps) {
    this.#deps = deps;
  }

  /** The state (tests read it). */
  get state(): NexusState {
    return this.#state;
  }

  /** Whether colours are painted. */
  get color(): boolean {
    return this.#deps.color;
  }

  /** Starts refreshing, watching the event stream and checking for an update. */
  start(): void {
    void this.refresh();
    const every = this.#deps.refreshMs ?? 3000;
    this.#timers.push(setInterval(() => void this.refresh(), every));
    this.#timers.push(setInterval(() => {
      this.#tick++;
      this.#changed();
    }, 1000));
    void this.#watch();
    void this.#deps.checkUpgrade().then((v) => {
      if (v) this.#set({ ...this.#state, upgrade: v });
    }).catch(() => {});
  }

  /** Stops every timer and stream. */
  close(): void {
    this.#stop.abort();
    this.#log?.abort();
    for (const t of this.#timers) clearInterval(t);
  }

  /** Subscribes to changes (the view re-renders). */
  subscribe = (listener: () => void): () => void => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The screen for the current state and size (cached until either changes). */
  screen = (): Screen => {
    const size = this.#deps.size();
    const s = this.#screen;
    if (s && s.width === size.columns && s.height === size.rows) return s;
    this.#screen = layout(this.#state, {
      columns: size.columns,
      rows: size.rows,
      now: this.#deps.ctx.clock.now(),
      version: this.#deps.version,
      tick: this.#tick,
    });
    return this.#screen;
  };

  /** The terminal was resized. */
  resized(): void {
    this.#changed();
  }

  /** A key was pressed. */
  key = (name: string): void => {
    const { state, effects } = handleKey(this.#state, name);
    this.#set(state);
    for (const e of effects) void this.#run(e);
  };

  /**
   * Re-reads everything, coalesced: one read at a time, and one more (a moment later) if asked
   * meanwhile, so a burst of job events costs a few reads, not one each.
   */
  async refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return await this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        try {
          const snap = await (this.#deps.readSnapshot ?? readSnapshot)(this.#deps);
          this.#set(withSnapshot(this.#state, snap));
        } catch (e) {
          this.#set({ ...this.#state, loadError: e instanceof Error ? e.message : String(e) });
        }
        if (this.#again) await new Promise((r) => setTimeout(r, 200));
      } while (this.#again && !this.#stop.signal.aborted);
    })();
    try {
      await this.#refreshing;
    } finally {
      this.#refreshing = undefined;
    }
  }

  #set(state: NexusState): void {
    this.#state = state;
    this.#changed();
  }

  #changed(): void {
    this.#screen = undefined;
    for (const l of this.#listeners) l();
  }

  /** Follows the event stream while a daemon runs; a job change triggers a refresh. */
  async #watch(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const refresh = () => void this.refresh();
      await watchJobs(this.#deps, refresh, { signal, onOpen: refresh });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async #run(e: Effect): Promise<void> {
    const d = this.#deps;
    try {
      switch (e.kind) {
        case "quit":
          this.close();
          d.quit();
          return;
        case "refresh":
          return await this.refresh();
        case "copy":
          d.copy(e.text);
          return;
        case "action":
          return await this.#act(e.action);
        case "cli":
          await d.runCli(e.argv, e.ask === "name" ? { askName: true } : {});
          return await this.refresh();
        case "daemon": {
          const said = e.start ? await d.startDaemon() : await d.stopDaemon();
          this.#set(withFlash(this.#state, said));
          return await this.refresh();
        }
        case "open_log":
          return this.#openLog(e.job);
        case "close_log":
          this.#log?.abort();
          this.#log = undefined;
          return;
        case "open_builder": {
          const payload = await readJobPayload(d, e.job);
          this.#set(withBuilderPayload(this.#state, e.pylon, e.job, payload));
          return;
        }
        case "save_message": {
          await writeChannelMessage(d.ctx.paths.pylonConfig(e.pylon), e.template);
          const lines = e.template.split("\n").length;
          this.#set(
            withFlash(this.#state, `saved channel.message of ${e.pylon} (${lines} lines)`),
          );
          return await this.refresh();
        }
      }
    } catch (err) {
      this.#set(withFlash(this.#state, err instanceof Error ? err.message : String(err), true));
    }
  }

  async #act(action: NexusAction): Promise<void> {
    const said = await performAction(this.#deps, action);
    this.#set(withFlash(this.#state, said));
    await this.refresh();
  }

  #openLog(job: string): void {
    this.#log?.abort();
    const ctl = new AbortController();
    this.#log = ctl;
    const clean = this.#deps.color ? sanitizeAnsi : stripAnsi;
    const signal = AbortSignal.any([ctl.signal, this.#stop.signal]);
    void followLog(this.#deps, job, (text) => {
      if (!ctl.signal.aborted) this.#set(withLogText(this.#state, job, clean(text)));
    }, { signal }).catch((err) => {
      this.#set(withFlash(this.#state, `log: ${err instanceof Error ? err.message : err}`, true));
    });
  }
}
