/**
 * `pylon upgrade [--check] [--force] [--url BASE]`: replaces the running pylon binary with the
 * latest release, under the same rules as `install.sh`: the asset's SHA-256 must match the
 * release's `checksums.txt` and the new binary must run (`version`) before it replaces the old
 * one, atomically (a rename next to it). Then it rebuilds the agent images (best effort) and
 * restarts an active systemd unit, user or system scope; under sudo the user unit is the invoking
 * user's (`systemctl --user -M <user>@`), not root's.
 *
 * Downloads, programs and systemctl go through {@linkcode UpgradeDeps}, so tests need neither a
 * compiled binary nor systemd.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { readPidFile } from "../../daemon/pidfile.ts";
import { PylonError } from "../../errors.ts";
import { VERSION } from "../../version.ts";
import type { Command, CommandContext } from "../command.ts";
import { activeUnit, runProgram, type RunResult, scopeArgs, sudoUser } from "../systemd.ts";

/** The outside world of `pylon upgrade`. */
export interface UpgradeDeps {
  /** Runs a program to completion; `null` when it is not installed. */
  run(cmd: string, args: string[]): Promise<RunResult | null>;
  fetch(url: string): Promise<Response>;
  /** The running executable: the pylon binary, or deno when running from source. */
  execPath(): string;
  /** `Deno.build.os` / `Deno.build.arch`. */
  os: string;
  arch: string;
  /** The process's user id (`Deno.uid()`); under sudo (0 with `SUDO_USER`) the invoking user's
   * user unit is restarted. Absent: not root. */
  uid?: () => number | null;
}

/** Same placeholder as install.sh (not pylonto/pylon, which is the Go implementation). */
const DEFAULT_REPO = "pylon-dev/pylon";

const realDeps: UpgradeDeps = {
  run: runProgram,
  fetch: (url) => fetch(url),
  execPath: () => Deno.execPath(),
  os: Deno.build.os,
  arch: Deno.build.arch,
  uid: () => Deno.uid(),
};

/** `pylon-<linux|darwin>-<x64|arm64>` for this machine. */
export function assetName(os: string, arch: string): string {
  const o = os === "linux" || os === "darwin" ? os : undefined;
  const a = arch === "x86_64" ? "x64" : arch === "aarch64" ? "arm64" : undefined;
  if (!o || !a) {
    throw new PylonError(`No pylon release is built for ${os}/${arch}`, {
      hint: "releases exist for Linux and macOS on x86_64 and arm64; run from source elsewhere",
    });
  }
  return `pylon-${o}-${a}`;
}

/** The expected lowercase hex digest of `asset` in a sha256sum-style file, if listed. */
export function expectedDigest(checksums: string, asset: string): string | undefined {
  for (const line of checksums.split("\n")) {
    const [hex, name] = line.trim().split(/\s+/);
    if (hex && (name === asset || name === `*${asset}`)) return hex.toLowerCase();
  }
  return undefined;
}

function baseUrl(args: Record<string, unknown>, env: Record<string, string>): string {
  const url = typeof args.url === "string" && args.url ? args.url : env.PYLON_INSTALL_URL ||
    `https://github.com/${env.PYLON_REPO || DEFAULT_REPO}/releases/latest/download`;
  return url.replace(/\/+$/, "");
}

async function download(deps: UpgradeDeps, url: string): Promise<Uint8Array<ArrayBuffer>> {
  let res: Response;
  try {
    res = await deps.fetch(url);
  } catch (e) {
    throw new PylonError(`Cannot download ${url}: ${e instanceof Error ? e.message : e}`, {
      hint: "check the network, or point --url / PYLON_INSTALL_URL at a mirror",
      cause: e,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new PylonError(`Cannot download ${url} (HTTP ${res.status})`, {
      hint: "check --url / PYLON_INSTALL_URL / PYLON_REPO",
    });
  }
  return new Uint8Array(await res.arrayBuffer());
}

function hex(bytes: ArrayBuffer): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function sudoError(path: string, cause: unknown): PylonError {
  return new PylonError(`Cannot replace ${path}: permission denied`, {
    hint: "run with sudo: `sudo pylon upgrade`",
    cause,
  });
}

function lastLine(r: RunResult | null): string {
  if (!r) return "not found";
  const lines = `${r.stderr}\n${r.stdout}`.trim().split("\n").filter((l) => l.trim());
  return lines.at(-1)?.trim() ?? `exit code ${r.code}`;
}

/** Creates `pylon upgrade` over the given outside world (tests pass fakes). */
export function createUpgradeCommand(deps: UpgradeDeps): Command {
  return {
    name: "upgrade",
    summary: "Replace this pylon binary with the latest release",
    usage: "upgrade [--check] [--force] [--url BASE]",
    description:
      "Downloads pylon-<os>-<arch> and checksums.txt from the latest GitHub release (or --url / " +
      "PYLON_INSTALL_URL), refuses it unless its SHA-256 matches and `pylon version` runs, then " +
      "replaces the running binary atomically. When the version changed it rebuilds the agent " +
      "images (best effort; otherwise they are rebuilt on first use), and restarts the systemd " +
      "service when one is active; running agents are re-attached, not killed. Installed in a " +
      "system folder such as /usr/local/bin, run it with sudo: the user unit of the user who " +
      "ran sudo (SUDO_USER) is then restarted (systemctl --user -M <user>@), else a system unit.",
    options: {
      check: { type: "boolean", description: "Only report the current and available versions" },
      force: { type: "boolean", description: "Reinstall even when already up to date" },
      url: {
        type: "string",
        valueName: "BASE",
        description:
          "Folder holding the binaries and checksums.txt (default: $PYLON_INSTALL_URL, else the " +
          "latest GitHub release)",
      },
    },
    positionals: { min: 0, max: 0 },
    async run(args, ctx) {
      return await upgrade(deps, ctx, {
        check: args.values.check === true,
        force: args.values.force === true,
        base: baseUrl(args.values, ctx.env),
      });
    },
  };
}

async function upgrade(
  deps: UpgradeDeps,
  ctx: CommandContext,
  opts: { check: boolean; force: boolean; base: string },
): Promise<number> {
  const target = deps.execPath();
  if (/^deno(\.exe)?$/.test(basename(target))) {
    ctx.io.err("pylon runs from source here; update with git pull\n");
    return 1;
  }
  const asset = assetName(deps.os, deps.arch);
  ctx.io.out(`Current: pylon ${VERSION}\n`);
  ctx.io.out(`Downloading ${asset} from ${opts.base}\n`);
  const checksums = new TextDecoder().decode(await download(deps, `${opts.base}/checksums.txt`));
  const bytes = await download(deps, `${opts.base}/${asset}`);

  // Verify before anything touches the binary's folder.
  const expected = expectedDigest(checksums, asset);
  if (!expected) {
    throw new PylonError(`Cannot verify ${asset}: it is not listed in checksums.txt`, {
      hint: "nothing was replaced; check the release or --url",
    });
  }
  const actual = hex(await crypto.subtle.digest("SHA-256", bytes));
  if (actual !== expected) {
    throw new PylonError(
      `Checksum mismatch for ${asset} (expected ${expected}, got ${actual}); refusing to install`,
      { hint: "nothing was replaced; retry later, or report it if it persists" },
    );
  }
  ctx.io.out(`Verified SHA-256 ${actual}\n`);

  // Next to the target so the final rename is atomic (same file system).
  let tmp: string;
  try {
    tmp = await Deno.makeTempFile({ dir: dirname(target), prefix: ".pylon.upgrade." });
  } catch (e) {
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    if (!opts.check) throw sudoError(target, e);
    tmp = await Deno.makeTempFile({ prefix: "pylon.upgrade." }); // --check replaces nothing
  }
  let keep = false;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.chmod(tmp, 0o755);
    const r = await deps.run(tmp, ["version"]);
    const m = r?.code === 0 ? /^pylon v?(\d+\.\d+\.\d+\S*)\s*$/.exec(r.stdout.trim()) : null;
    if (!m) {
      throw new PylonError(
        `The downloaded pylon does not run: \`pylon version\` ${
          r?.code === 0 ? `printed "${r.stdout.trim()}"` : `failed (${lastLine(r)})`
        }; refusing to install`,
        { hint: "nothing was replaced; check that the release matches this machine" },
      );
    }
    const next = m[1];
    if (next === VERSION && !opts.force) {
      ctx.io.out(`Already up to date (pylon ${VERSION}).\n`);
      return 0;
    }
    if (opts.check) {
      ctx.io.out(`Available: pylon ${next}\nRun \`pylon upgrade\` to install it.\n`);
      return 0;
    }
    try {
      await Deno.rename(tmp, target);
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) throw sudoError(target, e);
      throw e;
    }
    keep = true;
    ctx.io.out(`Upgraded ${target}: pylon ${VERSION} -> pylon ${next}\n`);
    if (next !== VERSION) await rebuildImages(deps, ctx, target);
    return await restart(deps, ctx);
  } finally {
    if (!keep) await Deno.remove(tmp).catch(() => {});
  }
}

async function rebuildImages(deps: UpgradeDeps, ctx: CommandContext, binary: string) {
  ctx.io.out("Rebuilding the agent images for the new version (pylon rebuild-images)...\n");
  const r = await deps.run(binary, ["rebuild-images"]);
  if (r?.code === 0) {
    ctx.io.out("Agent images rebuilt.\n");
    return;
  }
  ctx.io.err(
    `Warning: could not rebuild the agent images (${lastLine(r)}); this is fine if Docker is ` +
      "down: images are tagged with a digest of the agent files, so they are rebuilt " +
      "automatically on first use.\n",
  );
}

async function restart(deps: UpgradeDeps, ctx: CommandContext): Promise<number> {
  // `sudo pylon upgrade` runs as root: the daemon is usually the invoking user's *user* unit,
  // which plain `systemctl --user` (root's manager) cannot see.
  const user = sudoUser(ctx.env, deps.uid?.() ?? null);
  const scope = await activeUnit(deps.run, { sudoUser: user });
  if (!scope) {
    if (user) {
      ctx.io.out(
        `No active pylon unit found for ${user} or the system; if the daemon runs, restart it ` +
          "to use the new version.\n",
      );
      return 0;
    }
    if (await readPidFile(ctx.paths.daemonPid).catch(() => undefined)) {
      ctx.io.out(
        "A daemon not managed by systemd is running: restart it (`pylon stop`, then " +
          "`pylon start`) to use the new version.\n",
      );
    }
    return 0;
  }
  const args = [...scopeArgs(scope, user), "restart", "pylon"];
  ctx.io.out(`Restarting the daemon: systemctl ${args.join(" ")}\n`);
  const r = await deps.run("systemctl", args);
  if (r?.code !== 0) {
    ctx.io.err(
      `Warning: could not restart the daemon (${lastLine(r)}); the new binary is installed, ` +
        `run \`systemctl ${args.join(" ")}\` yourself.\n`,
    );
    return 1;
  }
  ctx.io.out("Daemon restarted; running agents are re-attached, not killed.\n");
  return 0;
}

export const upgradeCommand: Command = createUpgradeCommand(realDeps);
