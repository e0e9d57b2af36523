/**
 * Doctor's row for agent settings a pylon's agent type ignores (`max_turns` on OpenCode, any
 * setting on a custom image): a warning, never silence (issue 14 §1).
 *
 * @module
 */

import { type ResolvedPylon, unsupportedSettingsNote } from "../../config/mod.ts";
import type { Check } from "./checks.ts";

/** A WARN row naming the ignored `agent.*` settings, or null when the agent honours them all. */
export function agentSettingsCheck(pylon: ResolvedPylon): Check | null {
  const note = unsupportedSettingsNote(pylon.agent.type, pylon.agent.unsupported);
  if (note === null) return null;
  return {
    section: "Pylons",
    label: `${pylon.name} agent`,
    status: "WARN",
    detail: note,
    hint: pylon.agent.type === "custom"
      ? "read them in your image (they are not passed to it), or remove them"
      : "remove them, or use type: claude",
  };
}
