/**
 * The systemd row of `pylon doctor`: whether a pylon unit is installed (user or system scope),
 * enabled and active. Reads systemd through an injected {@linkcode ProgramRunner}, so tests put
 * a fake `systemctl` on `PATH`.
 *
 * @module
 */

import { displayPath } from "../../config/mod.ts";
import type { Check } from "./checks.ts";
import { type ProgramRunner, scopeArgs, type UnitState, unitState } from "../systemd.ts";

const SECTION = "Service";
const LABEL = "systemd service";
const ENABLED = new Set(["enabled", "enabled-runtime", "linked", "linked-runtime", "alias"]);

/** Options of {@linkcode serviceCheck}. */
export interface ServiceCheckOptions {
  /** Under sudo: the invoking user, whose user unit is meant. */
  sudoUser?: string | undefined;
  home?: string | undefined;
}

/** One row: the pylon unit's state, `--` when not installed or without systemd. */
export async function serviceCheck(
  run: ProgramRunner,
  opts: ServiceCheckOptions = {},
): Promise<Check> {
  const complaints: string[] = [];
  for (const scope of ["user", "system"] as const) {
    const state = await unitState(run, scope, opts.sudoUser);
    if (state === null) {
      return {
        section: SECTION,
        label: LABEL,
        status: "--",
        detail: "systemd not found (run the daemon with `pylon start`)",
      };
    }
    if (typeof state === "string") {
      complaints.push(state);
      continue;
    }
    if (state.loadState === "loaded") return installed(state, opts);
    if (state.loadState === "masked") {
      return {
        section: SECTION,
        label: LABEL,
        status: "WARN",
        detail: `${scopeName(state, opts)} is masked`,
        hint: `unmask it: systemctl ${cmdScope(state, opts)}unmask pylon`,
      };
    }
  }
  if (complaints.length === 2) {
    return {
      section: SECTION,
      label: LABEL,
      status: "--",
      detail: `systemd is not reachable here (${complaints.at(-1)})`,
    };
  }
  return {
    section: SECTION,
    label: LABEL,
    status: "--",
    detail: "not installed (`pylon service install` starts the daemon at boot)",
  };
}

function scopeName(state: UnitState, opts: ServiceCheckOptions): string {
  if (state.scope === "system") return "system unit";
  return opts.sudoUser ? `user unit of ${opts.sudoUser}` : "user unit";
}

function cmdScope(state: UnitState, opts: ServiceCheckOptions): string {
  const args = scopeArgs(state.scope, opts.sudoUser);
  return args.length ? args.join(" ") + " " : "";
}

function installed(state: UnitState, opts: ServiceCheckOptions): Check {
  const name = scopeName(state, opts);
  const where = state.path ? ` (${displayPath(state.path, opts.home)})` : "";
  const enabled = ENABLED.has(state.unitFileState);
  const active = state.activeState === "active" || state.activeState === "reloading";
  const systemctl = `systemctl ${cmdScope(state, opts)}`;
  const journal = state.scope === "user" && !opts.sudoUser
    ? "journalctl --user -u pylon"
    : "journalctl -u pylon";
  if (active && enabled) {
    return { section: SECTION, label: LABEL, status: "ok", detail: `${name} active${where}` };
  }
  if (active) {
    return {
      section: SECTION,
      label: LABEL,
      status: "WARN",
      detail: `${name} active but ${state.unitFileState || "not enabled"}${where}: ` +
        "it will not start at boot",
      hint: `enable it: ${systemctl}enable pylon`,
    };
  }
  const start = enabled ? `${systemctl}start pylon` : `${systemctl}enable --now pylon`;
  return {
    section: SECTION,
    label: LABEL,
    status: "WARN",
    detail: `${name} installed but ${state.activeState || "not active"}` +
      `${enabled ? "" : `, ${state.unitFileState || "not enabled"}`}${where}`,
    hint: `start it: ${start} (why it stopped: ${journal} -n 50)`,
  };
}
