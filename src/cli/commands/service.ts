/**
 * `pylon service install|uninstall|status|logs`: runs the daemon as a systemd service, in the
 * user's service manager (no root) or the system one (`--system`, root).
 *
 * systemctl, journalctl and account look-ups go through {@linkcode ServiceDeps.run}, so tests
 * exercise every path without systemd.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PylonError, UsageError } from "../../errors.ts";
import type { Command, CommandContext, ParsedArgs } from "../command.ts";
import {
  cachedPath,
  execCommand,
  hiddenByPrivateTmp,
  renderUnit,
  type ServiceScope,
} from "../service_unit.ts";
import { runProgram, type RunResult } from "../systemd.ts";

export type { RunResult };

/** The outside world of `pylon service`. */
export interface ServiceDeps {
  /** Runs a program to completion; `null` when it is not installed. */
  run(cmd: string, args: string[]): Promise<RunResult | null>;
  /** The effective user id (`null` where the platform has none). */
  uid(): number | null;
  /** The running executable: the pylon binary, or deno when running from source. */
  execPath(): string;
  /** Absolute path of `main.ts`, used when running from source. */
  mainModulePath: string;
  /** Folder of system units. @default "/etc/systemd/system" */
  systemUnitDir: string;
}

const UNIT = "pylon.service";

const realDeps: ServiceDeps = {
  run: runProgram,
  uid: () => Deno.uid(),
  execPath: () => Deno.execPath(),
  mainModulePath: fileURLToPath(new URL("../../../main.ts", import.meta.url)),
  systemUnitDir: "/etc/systemd/system",
};

function userUnitPath(env: Record<string, string>): string {
  const config = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, ".config") : undefined);
  if (!config) throw new PylonError("Cannot find the user unit folder: HOME is not set");
  return join(config, "systemd", "user", UNIT);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

function scopeFlag(scope: ServiceScope): string[] {
  return scope === "user" ? ["--user"] : [];
}

/** Creates the command with its outside world injected; {@linkcode serviceCommand} is the real one. */
export function createServiceCommand(deps: ServiceDeps): Command {
  const unitPath = (scope: ServiceScope, env: Record<string, string>) =>
    scope === "user" ? userUnitPath(env) : join(deps.systemUnitDir, UNIT);

  /** The scope whose unit file exists (`--system` forces system); user wins when both do. */
  async function installedScope(
    args: ParsedArgs,
    env: Record<string, string>,
  ): Promise<ServiceScope> {
    if (args.values.system === true) {
      if (await exists(unitPath("system", env))) return "system";
    } else {
      if (await exists(unitPath("user", env))) return "user";
      if (await exists(unitPath("system", env))) return "system";
    }
    throw new PylonError("No pylon service is installed", {
      hint: "install one with `pylon service install`",
    });
  }

  /** Runs `systemctl [--user] <args>`; null when systemctl is missing. */
  function systemctl(ctx: CommandContext, scope: ServiceScope, args: string[]) {
    const full = [...scopeFlag(scope), ...args];
    ctx.io.out(`systemctl ${full.join(" ")}\n`);
    return deps.run("systemctl", full);
  }

  /** The account a system unit runs as: the sudo caller, else the current user. */
  async function systemIdentity(ctx: CommandContext) {
    const name = ctx.env.SUDO_USER || ctx.env.USER || "root";
    const passwd = await deps.run("getent", ["passwd", name]);
    const fields = passwd?.code === 0 ? passwd.stdout.trim().split(":") : [];
    if (passwd?.code !== undefined && passwd.code !== 0) {
      throw new PylonError(`Cannot install the service for user "${name}": no such account`, {
        hint: "run it with sudo from the account the daemon should run as",
      });
    }
    const group = await deps.run("id", ["-gn", name]);
    return {
      name,
      group: group?.code === 0 ? group.stdout.trim() || undefined : undefined,
      home: fields[5] || ctx.env.HOME || "/root",
    };
  }

  function failure(verb: string, result: RunResult, scope: ServiceScope, user: string) {
    const detail = (result.stderr || result.stdout).trim();
    return new PylonError(
      `systemctl ${verb} failed (exit ${result.code})${detail ? `: ${detail}` : ""}`,
      {
        hint: scope === "user"
          ? "user services need your user's service manager: log in as that user directly " +
            `(not via su/sudo), and on servers run \`loginctl enable-linger ${user}\` so it ` +
            "runs without a login session; or install a system service with " +
            "`sudo pylon service install --system`"
          : "check `journalctl -xe` for systemd's reason",
      },
    );
  }

  async function install(args: ParsedArgs, ctx: CommandContext): Promise<number> {
    const root = deps.uid() === 0;
    const scope: ServiceScope = args.values.system === true || root ? "system" : "user";
    if (scope === "system" && !root && args.values.print !== true) {
      throw new PylonError("Cannot install a system service without root", {
        hint: "run `sudo pylon service install --system`, or drop --system for a user service",
      });
    }
    const mainModule = deps.mainModulePath;
    const exec = execCommand(deps.execPath(), mainModule, join(dirname(mainModule), "deno.json"));
    const cached = cachedPath(exec, ctx.env);
    if (cached !== undefined) {
      throw new PylonError(
        `Cannot install the service: ExecStart would run ${cached}, which lies in a cache ` +
          "that npm or deno may clean (the service would then stop starting)",
        {
          hint: "install a stable deno first (`npm install -g deno@2.9.6`, or " +
            "`curl -fsSL https://deno.land/install.sh | sh`), then run `pylon service install` " +
            "with it from this checkout (`deno task pylon service install`); or use a compiled " +
            "pylon binary (`deno task compile`)",
        },
      );
    }
    let home = ctx.env.HOME ?? "";
    let pylonHome = ctx.paths.root;
    let user: { name: string; group?: string | undefined } | undefined;
    if (scope === "system") {
      const identity = await systemIdentity(ctx);
      user = { name: identity.name, group: identity.group };
      // Under sudo HOME may be root's; the daemon runs as the caller, so use their home.
      if (identity.home !== home && !ctx.env.PYLON_HOME) {
        pylonHome = join(identity.home, ".pylon");
      }
      home = identity.home;
    }
    if (!home) throw new PylonError("Cannot install the service: HOME is not set");
    if (hiddenByPrivateTmp(scope, pylonHome)) {
      ctx.io.err(
        `Warning: PYLON_HOME is ${pylonHome}, under /tmp, but the system unit has ` +
          "PrivateTmp=yes: the daemon would get its own empty /tmp and not see your config, " +
          "pylons or jobs (and lose them on restart). Move PYLON_HOME out of /tmp " +
          "(e.g. ~/.pylon) before installing.\n",
      );
    }
    const text = renderUnit({ scope, exec, pylonHome, home, user });
    if (args.values.print === true) {
      ctx.io.out(text);
      return 0;
    }
    const path = unitPath(scope, ctx.env);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeTextFile(path, text);
    ctx.io.out(`Wrote ${path}\n`);
    const who = user?.name ?? ctx.env.USER ?? "<user>";
    const reload = await systemctl(ctx, scope, ["daemon-reload"]);
    if (reload === null) {
      ctx.io.out(
        "systemctl was not found, so the service was not started. On a machine with systemd run " +
          `\`systemctl ${[...scopeFlag(scope), "enable", "--now", "pylon"].join(" ")}\`; ` +
          "elsewhere run `pylon start` yourself.\n",
      );
      return 0;
    }
    if (reload.code !== 0) {
      // Nothing is left half-installed: the unit goes again when systemd cannot take it.
      await Deno.remove(path).catch(() => {});
      const detail = `${reload.stderr}\n${reload.stdout}`;
      if (/not been booted with systemd/i.test(detail)) {
        throw new PylonError(
          `systemd does not run here (${detail.trim().split("\n")[0]}): nothing was installed, ` +
            `${path} was removed again`,
          {
            hint: "run the daemon with `pylon start` (e.g. under your own supervisor); " +
              "`pylon service install --print` shows the unit for a machine with systemd",
          },
        );
      }
      throw failure("daemon-reload", reload, scope, who);
    }
    const enable = await systemctl(ctx, scope, ["enable", "--now", "pylon"]);
    if (enable === null || enable.code !== 0) {
      throw failure("enable --now pylon", enable ?? notFound, scope, who);
    }
    ctx.io.out(
      `pylon runs as a ${scope} service. Status: pylon service status; logs: pylon service logs -f\n`,
    );
    if (scope === "user") {
      ctx.io.out(
        `To start it at boot and keep it running after you log out: loginctl enable-linger ${who}\n`,
      );
    }
    return 0;
  }

  async function uninstall(args: ParsedArgs, ctx: CommandContext): Promise<number> {
    const scope = await installedScope(args, ctx.env);
    if (scope === "system" && deps.uid() !== 0) {
      throw new PylonError("Cannot remove the system service without root", {
        hint: "run `sudo pylon service uninstall`",
      });
    }
    const path = unitPath(scope, ctx.env);
    const problems: string[] = [];
    const disable = await systemctl(ctx, scope, ["disable", "--now", "pylon"]);
    if (disable && disable.code !== 0) {
      problems.push(`systemctl disable --now pylon: ${(disable.stderr || disable.stdout).trim()}`);
    }
    await Deno.remove(path);
    ctx.io.out(`Removed ${path}\n`);
    const reload = disable ? await systemctl(ctx, scope, ["daemon-reload"]) : null;
    if (reload && reload.code !== 0) {
      problems.push(`systemctl daemon-reload: ${(reload.stderr || reload.stdout).trim()}`);
    }
    if (problems.length) {
      throw new PylonError(`The unit file is removed, but ${problems.join("; ")}`, {
        hint: `check \`systemctl ${[...scopeFlag(scope), "status", "pylon"].join(" ")}\``,
      });
    }
    return 0;
  }

  async function status(args: ParsedArgs, ctx: CommandContext): Promise<number> {
    const scope = await installedScope(args, ctx.env);
    return await ctx.spawnInteractive("systemctl", [
      ...scopeFlag(scope),
      "status",
      "pylon",
      "--no-pager",
    ]);
  }

  async function logs(args: ParsedArgs, ctx: CommandContext): Promise<number> {
    const scope = await installedScope(args, ctx.env);
    const lines = args.values.lines;
    if (lines !== undefined && (typeof lines !== "string" || !/^\d+$/.test(lines))) {
      throw new UsageError(`Invalid -n: current value is "${String(lines)}"`, {
        hint: "pass a number of lines, e.g. -n 100",
      });
    }
    // --user-unit (not --user -u) also finds user-unit lines kept in the system journal.
    return await ctx.spawnInteractive("journalctl", [
      ...(scope === "user" ? ["--user-unit", "pylon"] : ["-u", "pylon"]),
      ...(typeof lines === "string" ? ["-n", lines] : []),
      ...(args.values.follow === true ? ["-f"] : []),
    ]);
  }

  const verbs: Record<string, (args: ParsedArgs, ctx: CommandContext) => Promise<number>> = {
    install,
    uninstall,
    status,
    logs,
  };

  return {
    name: "service",
    summary: "Install, remove or inspect pylon as a systemd service",
    usage: "service <install|uninstall|status|logs> [--system] [--print] [-f] [-n N]",
    description:
      `install    write pylon.service and start it (user service; --system or root: system
           service running as the sudo caller); --print shows the unit and writes nothing
uninstall  stop, disable and remove the installed unit
status     systemctl status pylon
logs       journalctl for the unit (-f follows, -n N shows the last N lines)`,
    options: {
      system: { type: "boolean", description: "Use the system service manager (needs root)" },
      print: { type: "boolean", description: "install: print the unit instead of installing it" },
      follow: { type: "boolean", short: "f", description: "logs: keep printing new lines" },
      lines: {
        type: "string",
        short: "n",
        valueName: "N",
        description: "logs: show the last N lines",
      },
    },
    positionals: { min: 1, max: 1 },
    run(args, ctx) {
      const verb = args.positionals[0] ?? "";
      const handler = verbs[verb];
      if (!handler) {
        throw new UsageError(`Unknown service action "${verb}"`, {
          hint: `use one of ${Object.keys(verbs).join(", ")}`,
        });
      }
      return handler(args, ctx);
    },
  };
}

const notFound: RunResult = { code: 127, stdout: "", stderr: "systemctl: command not found" };

/** `pylon service`, wired to the real systemctl, journalctl and file system. */
export const serviceCommand: Command = createServiceCommand(realDeps);
