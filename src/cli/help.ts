/**
 * Help texts, generated from each command's declaration.
 *
 * @module
 */

import type { Command } from "./command.ts";

/** `pylon --help`. */
export function mainHelp(commands: readonly Command[]): string {
  const visible = commands.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length)) + 2;
  const rows = visible.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n");
  return `pylon turns events into sandboxed AI coding-agent runs.

Usage:
  pylon <command> [arguments] [options]

Commands:
${rows}

Options:
  -h, --help     Show help (also: pylon help <command>)
  -v, --version  Print the version
  --debug        Show the full cause of an error

Files live in $PYLON_HOME (default ~/.pylon).
`;
}

/** `pylon <command> --help`. */
export function commandHelp(command: Command): string {
  const lines = [`${command.summary}`, "", "Usage:", `  pylon ${command.usage}`];
  if (command.description) lines.push("", command.description.trimEnd());
  const options = Object.entries(command.options);
  if (options.length > 0) {
    lines.push("", "Options:");
    const labels = options.map(([name, spec]) => {
      const short = spec.short ? `-${spec.short}, ` : "    ";
      const value = spec.type === "string" ? ` ${spec.valueName ?? "VALUE"}` : "";
      return `${short}--${name}${value}`;
    });
    const width = Math.max(...labels.map((l) => l.length), "-h, --help".length) + 2;
    options.forEach(([, spec], i) =>
      lines.push(`  ${labels[i]!.padEnd(width)}${spec.description}`)
    );
    lines.push(`  ${"-h, --help".padEnd(width)}Show this help`);
  } else {
    lines.push("", "Options:", "  -h, --help  Show this help");
  }
  return lines.join("\n") + "\n";
}
