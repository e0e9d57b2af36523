/**
 * `pylon completion bash|zsh|fish`: prints a completion script. Commands and options come from
 * the command declarations; pylon names and job ids are listed at completion time by the hidden
 * `pylon __complete pylons|jobs`, so new pylons and jobs complete without reinstalling the
 * script.
 *
 * @module
 */

import { shortId } from "../../errors.ts";
import { openStoresForReading } from "../job_stores.ts";
import { listPylonNames } from "../../config/mod.ts";
import { UsageError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { TEMPLATE_NAMES } from "../construct_templates.ts";

/** Set by the registry, so this module does not import the list it is part of. */
let allCommands: () => readonly Command[] = () => [];

/** Tells the completion generator which commands exist. */
export function setCompletionCommands(source: () => readonly Command[]): void {
  allCommands = source;
}

export const completionCommand: Command = {
  name: "completion",
  summary: "Print a shell completion script (bash, zsh or fish)",
  usage: "completion bash|zsh|fish",
  description: `Load it in your shell's startup file:
  bash: echo 'eval "$(pylon completion bash)"' >> ~/.bashrc
  zsh:  echo 'eval "$(pylon completion zsh)"' >> ~/.zshrc
  fish: pylon completion fish > ~/.config/fish/completions/pylon.fish`,
  options: {},
  positionals: { min: 1, max: 1 },
  run(args, ctx) {
    const shell = args.positionals[0]!;
    const commands = allCommands().filter((c) => !c.hidden);
    const script = shell === "bash"
      ? bashScript(commands)
      : shell === "zsh"
      ? zshScript(commands)
      : shell === "fish"
      ? fishScript(commands)
      : undefined;
    if (script === undefined) {
      throw new UsageError(`Unsupported shell "${shell}"`, { hint: "use bash, zsh or fish" });
    }
    ctx.io.out(script);
    return Promise.resolve(0);
  },
};

export const completeCommand: Command = {
  name: "__complete",
  summary: "List completion candidates (used by the completion scripts)",
  usage: "__complete pylons|jobs",
  description: "",
  options: {},
  positionals: { min: 1, max: 1 },
  hidden: true,
  async run(args, ctx) {
    const kind = args.positionals[0];
    if (kind === "pylons") {
      for (const name of await listPylonNames(ctx.paths)) ctx.io.out(name + "\n");
      return 0;
    }
    if (kind !== "jobs") return 2;
    // Read-only beside a running daemon, like `pylon jobs`.
    await using open = await openStoresForReading(ctx);
    const jobs = [];
    for (const name of open.stores.names()) {
      jobs.push(...await open.stores.get(name)!.list({ limit: COMPLETED_JOBS }));
    }
    jobs.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    for (const job of jobs.slice(0, COMPLETED_JOBS)) ctx.io.out(shortId(job.id) + "\n");
    return 0;
  },
};

function optionWords(c: Command): string[] {
  const words = Object.entries(c.options).map(([name]) => `--${name}`);
  return [...words, "--help"];
}

/** How many of the newest job ids `__complete jobs` offers. */
const COMPLETED_JOBS = 50;

/** The `__complete` argument for the command's first positional, or "" for none. */
function candidates(c: Command): "" | "pylons" | "jobs" {
  const kind = c.positionals.completion;
  return kind === "pylon" ? "pylons" : kind === "job" ? "jobs" : "";
}

function bashScript(commands: readonly Command[]): string {
  const names = commands.map((c) => c.name).join(" ");
  const cases = commands.map((c) =>
    `    ${c.name}) opts="${optionWords(c).join(" ")}"; kind="${candidates(c)}" ;;`
  ).join("\n");
  return `# bash completion for pylon
_pylon_complete() {
  local cur prev cmd opts kind
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names} help" -- "$cur") )
    return 0
  fi
  cmd="\${COMP_WORDS[1]}"
  opts=""; kind=""
  case "$cmd" in
    help) COMPREPLY=( $(compgen -W "${names}" -- "$cur") ); return 0 ;;
    completion) COMPREPLY=( $(compgen -W "bash zsh fish" -- "$cur") ); return 0 ;;
${cases}
  esac
  if [ "$cmd" = construct ] && [ "$prev" = --from ]; then
    COMPREPLY=( $(compgen -W "${TEMPLATE_NAMES.join(" ")}" -- "$cur") )
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ -n "$kind" ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=( $(compgen -W "$(pylon __complete "$kind" 2>/dev/null)" -- "$cur") )
  fi
  return 0
}
complete -o default -F _pylon_complete pylon
`;
}

function zshScript(commands: readonly Command[]): string {
  const described = commands.map((c) => `    '${c.name}:${c.summary.replace(/'/g, "")}'`).join(
    "\n",
  );
  const cases = commands.map((c) =>
    `    ${c.name}) opts=(${optionWords(c).join(" ")}); kind="${candidates(c)}" ;;`
  ).join("\n");
  return `#compdef pylon
# zsh completion for pylon
_pylon() {
  local -a commands opts
  local kind=""
  commands=(
${described}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case "\${words[2]}" in
    completion) compadd bash zsh fish; return ;;
${cases}
  esac
  if [[ "\${words[2]}" == construct && "\${words[CURRENT-1]}" == --from ]]; then
    compadd -- ${TEMPLATE_NAMES.join(" ")}
    return
  fi
  if [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- $opts
  elif [[ -n "$kind" ]] && (( CURRENT == 3 )); then
    compadd -- \${(f)"$(pylon __complete $kind 2>/dev/null)"}
  fi
}
if [ "$funcstack[1]" = "_pylon" ]; then _pylon "$@"; else compdef _pylon pylon; fi
`;
}

function fishScript(commands: readonly Command[]): string {
  const lines = ["# fish completion for pylon", "complete -c pylon -f"];
  for (const c of commands) {
    lines.push(
      `complete -c pylon -n __fish_use_subcommand -a ${c.name} -d '${c.summary.replace(/'/g, "")}'`,
    );
    for (const [name, spec] of Object.entries(c.options)) {
      lines.push(
        `complete -c pylon -n '__fish_seen_subcommand_from ${c.name}' -l ${name} -d '${
          spec.description.replace(/'/g, "")
        }'${spec.type === "string" ? " -r" : ""}${
          c.name === "construct" && name === "from" ? ` -a '${TEMPLATE_NAMES.join(" ")}'` : ""
        }`,
      );
    }
    if (candidates(c)) {
      lines.push(
        `complete -c pylon -n '__fish_seen_subcommand_from ${c.name}' -a '(pylon __complete ${
          candidates(c)
        } 2>/dev/null)'`,
      );
    }
  }
  lines.push(`complete -c pylon -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  return lines.join("\n") + "\n";
}
