// pylon tool approval for OpenCode (issue 14 §4): a plugin whose `tool.execute.before` asks the
// daemon before a call an `agent.approve_tools` rule matches, as Claude Code's PreToolUse hook
// does (agents/_shared/pylon-approve.mjs, beside this file in /pylon/approval, does the exchange).
//
// The daemon names this file in OpenCode's managed config, /etc/opencode/opencode.json, mounted
// (or copied in as root's file) read-only with it: the agent can neither edit nor drop it. The
// call is named and shaped as Claude Code's (`bash` → `Bash` with `command`, `filePath` →
// `file_path`, `<server>_<tool>` → `mcp__<server>__<tool>`), so the rules match the same way. A
// refusal throws: OpenCode does not run the tool and the model reads the reason as its result. A
// call allowed runs only with the arguments approved (the digest's input): if they changed
// meanwhile, it is refused.
//
// OpenCode calls every export of a plugin file as a plugin: this file exports only the plugin.

import { claudeCallOf, decide } from "./pylon-approve.mjs";

export const PylonApproveTools = () =>
  Promise.resolve({
    "tool.execute.before": async (input, output) => {
      const call = claudeCallOf(String(input?.tool ?? ""), output?.args);
      const decision = await decide(call.tool, call.input);
      if (decision === undefined) return;
      if (!decision.allow) throw new Error(decision.reason);
      const now = claudeCallOf(String(input?.tool ?? ""), output?.args);
      if (JSON.stringify(now.input) !== JSON.stringify(call.input)) {
        throw new Error("pylon: the call's input changed after it was approved; denied");
      }
    },
  });
