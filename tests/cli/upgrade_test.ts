/**
 * `pylon upgrade` against fake release files served over loopback HTTP; the "binaries" are shell
 * scripts and systemctl/rebuild-images go through a fake runner, so no systemd or compiled
 * pylon is needed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCommandArgs } from "../../src/cli/main.ts";
import type { RunResult } from "../../src/cli/commands/service.ts";
import {
  assetName,
  createUpgradeCommand,
  expectedDigest,
  type UpgradeDeps,
} from "../../src/cli/commands/upgrade.ts";
import { PylonError } from "../../src/errors.ts";
import { VERSION } from "../../src/version.ts";
import { programRunner } from "../../src/cli/systemd.ts";
import { createTestContext } from "../_helpers/cli.ts";

const OLD = "#!/bin/sh\necho 'pylon 0.0.1'\n";
const ASSET = assetName(Deno.build.os, Deno.build.arch);

function script(version: string): string {
  return `#!/bin/sh\necho 'pylon ${version}'\n`;
}

async function sha256(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

interface Fixture extends AsyncDisposable {
  deps: UpgradeDeps;
  base: string;
  binary: string;
  dir: string;
  calls: string[][];
}

/**
 * Serves `files` (name → body) and points execPath at an old-binary script in a temp folder.
 * `units` lists the systemd scopes reported active (empty: none; `null`: no systemctl at all).
 */
async function fixture(
  files: Record<string, string>,
  opts: { units?: ("user" | "system")[] | null; execName?: string } = {},
): Promise<Fixture> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const name = new URL(req.url).pathname.split("/").pop()!;
    return name in files ? new Response(files[name]) : new Response("no", { status: 404 });
  });
  const dir = await Deno.makeTempDir({ prefix: "pylon-upgrade-" });
  const binary = join(dir, opts.execName ?? "pylon");
  await Deno.writeTextFile(binary, OLD, { mode: 0o755 });
  const calls: string[][] = [];
  const units = opts.units === undefined ? [] : opts.units;
  const real = async (cmd: string, args: string[]): Promise<RunResult> => {
    const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
  };
  const deps: UpgradeDeps = {
    async run(cmd, args) {
      calls.push([cmd, ...args]);
      if (cmd === "systemctl") {
        if (units === null) return null;
        const scope = args[0] === "--user" ? "user" : "system";
        if (args.includes("is-active")) {
          return { code: units.includes(scope) ? 0 : 3, stdout: "", stderr: "" };
        }
        return { code: 0, stdout: "", stderr: "" };
      }
      if (args[0] === "rebuild-images") {
        return { code: 1, stdout: "", stderr: "Cannot connect to the Docker daemon" };
      }
      return await real(cmd, args);
    },
    fetch: (url) => fetch(url),
    execPath: () => binary,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
  return {
    deps,
    base: `http://127.0.0.1:${server.addr.port}/releases/v9.9.9`,
    binary,
    dir,
    calls,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function release(body: string, digestOf = body): Promise<Record<string, string>> {
  return {
    [ASSET]: body,
    "checksums.txt": `${await sha256("other")}  pylon-other\n${await sha256(digestOf)}  ${ASSET}\n`,
  };
}

function upgrade(f: Fixture, ...argv: string[]) {
  return upgradeIn(f, {}, ...argv);
}

async function upgradeIn(f: Fixture, env: Record<string, string>, ...argv: string[]) {
  const ctx = await createTestContext({ env });
  const cmd = createUpgradeCommand(f.deps);
  let code: number;
  let error: PylonError | undefined;
  try {
    code = await cmd.run(parseCommandArgs(cmd, ["--url", f.base, ...argv]), ctx);
  } catch (e) {
    if (!(e instanceof PylonError)) throw e;
    error = e;
    code = 1;
  }
  const out = ctx.stdout();
  const err = ctx.stderr();
  await ctx[Symbol.asyncDispose]();
  return { code, out, err, error };
}

/** Files left in the binary's folder besides the binary (temp files must be cleaned up). */
async function leftovers(f: Fixture): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(f.dir)) if (e.name !== "pylon") names.push(e.name);
  return names;
}

Deno.test("expectedDigest reads sha256sum lines, binary-mode names and upper case", () => {
  const sums = `ABCDEF  pylon-linux-x64\n123  *pylon-darwin-arm64\n`;
  assert.equal(expectedDigest(sums, "pylon-linux-x64"), "abcdef");
  assert.equal(expectedDigest(sums, "pylon-darwin-arm64"), "123");
  assert.equal(expectedDigest(sums, "pylon-linux-arm64"), undefined);
  assert.equal(assetName("linux", "aarch64"), "pylon-linux-arm64");
  assert.equal(assetName("darwin", "x86_64"), "pylon-darwin-x64");
  assert.throws(() => assetName("windows", "x86_64"), PylonError);
});

Deno.test("upgrade verifies, replaces the binary and reports both versions", async () => {
  await using f = await fixture(await release(script("9.9.9")));
  const r = await upgrade(f);
  assert.equal(r.code, 0, r.err + r.error?.message);
  assert.equal(await Deno.readTextFile(f.binary), script("9.9.9"));
  assert.equal((await Deno.stat(f.binary)).mode! & 0o777, 0o755);
  assert.match(r.out, new RegExp(`Current: pylon ${VERSION.replaceAll(".", "\\.")}`));
  assert.match(r.out, /Verified SHA-256 [0-9a-f]{64}/);
  assert.match(r.out, new RegExp(`pylon ${VERSION.replaceAll(".", "\\.")} -> pylon 9\\.9\\.9`));
  // Versions differ: images are rebuilt best-effort; Docker being down is only a warning.
  assert.deepEqual(f.calls.find((c) => c[1] === "rebuild-images"), [f.binary, "rebuild-images"]);
  assert.match(r.err, /rebuilt automatically on first use/);
  assert.ok(!f.calls.some((c) => c[0] === "systemctl" && c.includes("restart")));
  assert.deepEqual(await leftovers(f), []);
});

Deno.test("a tampered asset is refused and the old binary is left alone", async () => {
  await using f = await fixture(await release(script("6.6.6"), script("9.9.9")));
  const r = await upgrade(f);
  assert.equal(r.code, 1);
  assert.match(r.error!.message, /Checksum mismatch/);
  assert.equal(await Deno.readTextFile(f.binary), OLD);
  assert.deepEqual(await leftovers(f), []);
});

Deno.test("an asset missing from checksums.txt is refused", async () => {
  const files = await release(script("9.9.9"));
  files["checksums.txt"] = `${await sha256("x")}  pylon-other\n`;
  await using f = await fixture(files);
  const r = await upgrade(f);
  assert.match(r.error!.message, /not listed in checksums\.txt/);
  assert.equal(await Deno.readTextFile(f.binary), OLD);
});

Deno.test("already up to date when the release has the current version", async () => {
  await using f = await fixture(await release(script(VERSION)));
  const r = await upgrade(f);
  assert.equal(r.code, 0);
  assert.match(
    r.out,
    new RegExp(`Already up to date \\(pylon ${VERSION.replaceAll(".", "\\.")}\\)`),
  );
  assert.equal(await Deno.readTextFile(f.binary), OLD);
  assert.deepEqual(await leftovers(f), []);
  // --force reinstalls, but the same version needs no image rebuild.
  const forced = await upgrade(f, "--force");
  assert.equal(forced.code, 0);
  assert.equal(await Deno.readTextFile(f.binary), script(VERSION));
  assert.ok(!f.calls.some((c) => c[1] === "rebuild-images"));
});

Deno.test("--check reports the available version and changes nothing", async () => {
  await using f = await fixture(await release(script("9.9.9")), { units: ["user"] });
  const r = await upgrade(f, "--check");
  assert.equal(r.code, 0);
  assert.match(r.out, /Available: pylon 9\.9\.9/);
  assert.equal(await Deno.readTextFile(f.binary), OLD);
  assert.deepEqual(await leftovers(f), []);
  assert.ok(!f.calls.some((c) => c[0] === "systemctl" || c[1] === "rebuild-images"));
});

Deno.test("a new binary that fails `version` is refused", async () => {
  const broken = "#!/bin/sh\necho 'segfault' >&2\nexit 3\n";
  await using f = await fixture(await release(broken));
  const r = await upgrade(f);
  assert.equal(r.code, 1);
  assert.match(r.error!.message, /does not run: `pylon version` failed \(segfault\)/);
  assert.equal(await Deno.readTextFile(f.binary), OLD);
  assert.deepEqual(await leftovers(f), []);
});

Deno.test("a new binary that prints something other than a version is refused", async () => {
  await using f = await fixture(await release("#!/bin/sh\necho hello\n"));
  const r = await upgrade(f);
  assert.match(r.error!.message, /printed "hello"/);
  assert.equal(await Deno.readTextFile(f.binary), OLD);
});

Deno.test("running from source is refused", async () => {
  await using f = await fixture(await release(script("9.9.9")), { execName: "deno" });
  const r = await upgrade(f);
  assert.equal(r.code, 1);
  assert.match(r.err, /pylon runs from source here; update with git pull/);
  assert.equal(await Deno.readTextFile(f.binary), OLD);
  assert.deepEqual(f.calls, []);
});

Deno.test("an active user unit is restarted with systemctl --user", async () => {
  await using f = await fixture(await release(script("9.9.9")), { units: ["user"] });
  const r = await upgrade(f);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(f.calls.at(-1), ["systemctl", "--user", "restart", "pylon"]);
  assert.match(r.out, /re-attached, not killed/);
});

Deno.test("an active system unit is restarted with plain systemctl", async () => {
  await using f = await fixture(await release(script("9.9.9")), { units: ["system"] });
  const r = await upgrade(f);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(f.calls.at(-1), ["systemctl", "restart", "pylon"]);
});

Deno.test("a missing download is a clear error", async () => {
  await using f = await fixture({ "checksums.txt": "" });
  const r = await upgrade(f);
  assert.match(r.error!.message, /Cannot download .*checksums\.txt|HTTP 404/);
  assert.equal(await Deno.readTextFile(f.binary), OLD);
});

/**
 * A `systemctl` script first on PATH that logs its arguments; `is-active` succeeds only for
 * the manager named by `activeFor` (`--user -M alice@`, `--user` or `system`).
 */
async function fakeSystemctl(activeFor: string) {
  const dir = await Deno.makeTempDir({ prefix: "pylon-systemctl-" });
  const log = join(dir, "calls");
  const active = activeFor === "system"
    ? `case "$1" in --user) exit 3 ;; esac; exit 0`
    : `case "$*" in "${activeFor} is-active"*) exit 0 ;; esac; exit 3`;
  await Deno.writeTextFile(
    join(dir, "systemctl"),
    `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in *is-active*) ${active} ;; esac\nexit 0\n`,
    { mode: 0o755 },
  );
  const run = programRunner({ PATH: `${dir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` });
  return {
    /** `f`'s deps with this systemctl and the given uid. */
    deps(f: Fixture, uid: number): Fixture {
      const deps: UpgradeDeps = {
        ...f.deps,
        uid: () => uid,
        run: (cmd, args) => cmd === "systemctl" ? run(cmd, args) : f.deps.run(cmd, args),
      };
      return { ...f, deps };
    },
    async calls(): Promise<string[]> {
      return (await Deno.readTextFile(log).catch(() => "")).split("\n").filter((l) => l);
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test("sudo pylon upgrade restarts the invoking user's user unit", async () => {
  await using f = await fixture(await release(script("9.9.9")));
  await using sc = await fakeSystemctl("--user -M alice@");
  const r = await upgradeIn(sc.deps(f, 0), { SUDO_USER: "alice", SUDO_UID: "1000" });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Restarting the daemon: systemctl --user -M alice@ restart pylon\n/);
  assert.match(r.out, /Daemon restarted/);
  assert.deepEqual(await sc.calls(), [
    "--user -M alice@ is-active --quiet pylon",
    "--user -M alice@ restart pylon",
  ]);
});

Deno.test("sudo pylon upgrade restarts a system unit when the user has none", async () => {
  await using f = await fixture(await release(script("9.9.9")));
  await using sc = await fakeSystemctl("system");
  const r = await upgradeIn(sc.deps(f, 0), { SUDO_USER: "alice" });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(await sc.calls(), [
    "--user -M alice@ is-active --quiet pylon",
    "is-active --quiet pylon",
    "restart pylon",
  ]);
});

Deno.test("sudo pylon upgrade without any active unit says what to do", async () => {
  await using f = await fixture(await release(script("9.9.9")));
  await using sc = await fakeSystemctl("--user -M bob@");
  const r = await upgradeIn(sc.deps(f, 0), { SUDO_USER: "alice" });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /No active pylon unit found for alice or the system/);
  assert.ok(!(await sc.calls()).some((c) => c.includes("restart")));
});

Deno.test("a stale SUDO_USER in a non-root process is ignored", async () => {
  await using f = await fixture(await release(script("9.9.9")));
  await using sc = await fakeSystemctl("--user");
  const r = await upgradeIn(sc.deps(f, 1000), { SUDO_USER: "alice" });
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(await sc.calls(), ["--user is-active --quiet pylon", "--user restart pylon"]);
});
