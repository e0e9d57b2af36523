/**
 * `pylon doctor`'s systemd row, with a fake `systemctl` script first on `PATH` (the doctor runs
 * it like the real one and the script records its arguments).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runDoctor } from "../../src/cli/commands/doctor.ts";
import { createTestContext, type TestContext } from "../_helpers/cli.ts";
import { fakeDocker, offline } from "./_doctor.ts";

/** What the fake answers to `systemctl <prefix> …`. */
interface Answer {
  stdout?: string;
  stderr?: string;
  code?: number;
}

function state(load: string, file: string, active: string, path = ""): Answer {
  return {
    stdout:
      `LoadState=${load}\nUnitFileState=${file}\nActiveState=${active}\nFragmentPath=${path}\n`,
  };
}

const NOT_FOUND = state("not-found", "", "inactive");
const NO_BUS: Answer = { stderr: "Failed to connect to bus: No medium found", code: 1 };

interface FakeSystemctl extends AsyncDisposable {
  path: string;
  /** Argument lines, oldest first. */
  calls(): Promise<string[]>;
}

/** A `systemctl` script answering by argument prefix (longest first); else NOT_FOUND. */
async function fakeSystemctl(answers: Record<string, Answer>): Promise<FakeSystemctl> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-systemctl-" });
  const log = join(dir, "calls");
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const cases = Object.entries(answers).sort((a, b) => b[0].length - a[0].length).map(
    ([prefix, a]) =>
      `  ${quote(prefix)}*) printf %s ${quote(a.stdout ?? "")}; printf %s ${
        quote(a.stderr ?? "")
      } >&2; exit ${a.code ?? 0} ;;`,
  );
  await Deno.writeTextFile(
    join(dir, "systemctl"),
    `#!/bin/sh\necho "$*" >> ${quote(log)}\ncase "$*" in\n${cases.join("\n")}\n  *) printf %s ${
      quote(NOT_FOUND.stdout!)
    } ;;\nesac\n`,
    { mode: 0o755 },
  );
  return {
    path: `${dir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
    async calls() {
      return (await Deno.readTextFile(log).catch(() => "")).split("\n").filter((l) => l);
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function doctor(
  env: Record<string, string>,
  uid: number | null = 1000,
): Promise<{ code: number; out: string; ctx: TestContext }> {
  const ctx = await createTestContext({ env });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  // An existing OAuth folder: with no pylon, the defaults' agent auth is checked too.
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    `server:\n  host: 127.0.0.1\n  port: ${port}\n` +
      `defaults:\n  agent:\n    claude:\n      oauth_path: ${ctx.paths.root}\n`,
  );
  const code = await runDoctor(ctx, { deps: { docker: fakeDocker, fetch: offline, uid } });
  return { code, out: ctx.stdout(), ctx };
}

function serviceLine(out: string): string {
  const m = /\nService\n {2}(systemd service \.+ [^\n]*(\n {6}fix: [^\n]*)?)/.exec(out);
  assert.ok(m, `no Service section in:\n${out}`);
  return m[1]!;
}

Deno.test("doctor shows an active, enabled user unit as ok", async () => {
  await using sc = await fakeSystemctl({
    "--user show pylon": state(
      "loaded",
      "enabled",
      "active",
      "/home/tester/.config/systemd/user/pylon.service",
    ),
  });
  const { out, ctx } = await doctor({ PATH: sc.path });
  await using _ = ctx;
  assert.equal(
    serviceLine(out),
    "systemd service ....... ok    user unit active (~/.config/systemd/user/pylon.service)",
  );
  assert.deepEqual(await sc.calls(), [
    "--user show pylon -p LoadState,UnitFileState,ActiveState,FragmentPath",
  ]);
});

Deno.test("doctor warns about an installed unit that is not running, with the command", async (t) => {
  await t.step("a failed system unit", async () => {
    await using sc = await fakeSystemctl({
      "--user show pylon": NO_BUS,
      "show pylon": state("loaded", "enabled", "failed", "/etc/systemd/system/pylon.service"),
    });
    const { code, out, ctx } = await doctor({ PATH: sc.path });
    await using _ = ctx;
    assert.equal(code, 0);
    assert.equal(
      serviceLine(out),
      "systemd service ....... WARN  system unit installed but failed " +
        "(/etc/systemd/system/pylon.service)\n" +
        "      fix: start it: systemctl start pylon (why it stopped: journalctl -u pylon -n 50)",
    );
  });
  await t.step("a disabled, inactive user unit", async () => {
    await using sc = await fakeSystemctl({
      "--user show pylon": state("loaded", "disabled", "inactive"),
    });
    const { out, ctx } = await doctor({ PATH: sc.path });
    await using _ = ctx;
    assert.equal(
      serviceLine(out),
      "systemd service ....... WARN  user unit installed but inactive, disabled\n" +
        "      fix: start it: systemctl --user enable --now pylon (why it stopped: " +
        "journalctl --user -u pylon -n 50)",
    );
  });
  await t.step("running but not enabled: will not come back after a reboot", async () => {
    await using sc = await fakeSystemctl({
      "--user show pylon": state("loaded", "disabled", "active"),
    });
    const { out, ctx } = await doctor({ PATH: sc.path });
    await using _ = ctx;
    assert.match(
      serviceLine(out),
      /WARN {2}user unit active but disabled: it will not start at boot\n {6}fix: enable it: systemctl --user enable pylon/,
    );
  });
});

Deno.test("doctor prints -- when no unit is installed or systemd is absent", async (t) => {
  await t.step("not installed", async () => {
    await using sc = await fakeSystemctl({});
    const { code, out, ctx } = await doctor({ PATH: sc.path });
    await using _ = ctx;
    assert.equal(code, 0);
    assert.equal(
      serviceLine(out),
      "systemd service ....... --    not installed (`pylon service install` starts the daemon at boot)",
    );
  });
  await t.step("no systemctl on PATH", async () => {
    const empty = await Deno.makeTempDir();
    const { out, ctx } = await doctor({ PATH: empty });
    await using _ = ctx;
    await Deno.remove(empty);
    assert.equal(
      serviceLine(out),
      "systemd service ....... --    systemd not found (run the daemon with `pylon start`)",
    );
  });
  await t.step("systemd not running (a container)", async () => {
    await using sc = await fakeSystemctl({
      "--user show pylon": NO_BUS,
      "show pylon": {
        stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.",
        code: 1,
      },
    });
    const { out, ctx } = await doctor({ PATH: sc.path });
    await using _ = ctx;
    assert.match(
      serviceLine(out),
      /-- {4}systemd is not reachable here \(System has not been booted/,
    );
  });
});

Deno.test("doctor under sudo looks at the invoking user's unit", async () => {
  await using sc = await fakeSystemctl({
    "--user -M alice@ show pylon": state("loaded", "enabled", "active"),
  });
  const { out, ctx } = await doctor({ PATH: sc.path, SUDO_USER: "alice" }, 0);
  await using _ = ctx;
  assert.equal(serviceLine(out), "systemd service ....... ok    user unit of alice active");
  assert.equal((await sc.calls())[0]?.startsWith("--user -M alice@ show pylon"), true);
});
