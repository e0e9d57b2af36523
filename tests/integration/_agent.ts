/**
 * Shared pieces of the end-to-end tests: the real Docker runner for a test home, and a scripted
 * test agent (the busybox image running a shell script) as pylon.yaml lines.
 */

import { createPylonPaths } from "../../src/config/mod.ts";
import type { DaemonOptions } from "../../src/daemon/mod.ts";
import { createDockerRunner } from "../../src/runner/mod.ts";

/** `createRunner` for a daemon on `root`, with the agents' output collected in `output`. */
export function dockerRunnerFor(
  root: string,
  output: string[] = [],
): NonNullable<DaemonOptions["createRunner"]> {
  return (config) =>
    createDockerRunner(config, {
      paths: createPylonPaths(root),
      env: { HOME: root },
      output: (line) => output.push(line),
      clock: { now: () => new Date() },
    });
}

/**
 * An agent that counts its runs in its kept state folder and answers with the prompt it got
 * (letters only), e.g. `**run 2** (prompt: also check the tests)`, session `sess-2`.
 */
export function countingAgentYaml(image: string, extraResult = ""): string[] {
  const script = 'n=$(cat "$HOME/n" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$HOME/n"; ' +
    "p=$(printf '%s' \"$PROMPT\" | tr -dc 'A-Za-z ' | cut -c1-40); " +
    `printf '{"status":"completed","result":"**run %s** (prompt: %s)${extraResult}","session_id":"sess-%s"}' ` +
    '"$n" "$p" "$n" > "$PYLON_OUT/result.json"';
  return [
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    '  command: ["sh", "-c", "eval \\"$SCRIPT\\""]',
    "  env:",
    `    SCRIPT: ${JSON.stringify(script)}`,
  ];
}
