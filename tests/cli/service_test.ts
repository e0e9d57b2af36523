/**
 * `pylon service`: unit rendering (checked with `systemd-analyze verify` where it exists) and
 * install/uninstall/status/logs through a fake runner, so no systemd is needed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCommandArgs } from "../../src/cli/main.ts";
import {
  createServiceCommand,
  type RunResult,
  type ServiceDeps,
} from "../../src/cli/commands/service.ts";
import {
  cachedPath,
  execCommand,
  PYLON_PERMISSION_FLAGS,
  renderUnit,
  SERVICE_TEMPLATE,
  type UnitOptions,
} from "../../src/cli/service_unit.ts";
import { createTestContext, type TestContext } from "../_helpers/cli.ts";

const repo = new URL("../../", import.meta.url);

function unitOptions(scope: "user" | "system"): UnitOptions {
  return {
    scope,
    exec: execCommand(Deno.execPath(), "/opt/pylon src/main.ts", "/opt/pylon src/deno.json"),
    pylonHome: "/home/ann/.pylon",
    home: "/home/ann",
    user: { name: "ann", group: "ann" },
  };
}

/** `key=value` pairs of one section, repeated keys kept in order. */
function section(unit: string, name: string): [string, string][] {
  const body = unit.split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? "";
  return body.split("\n").slice(1).filter((l) => l && !l.startsWith("#")).map((l) => {
    const i = l.indexOf("=");
    return [l.slice(0, i), l.slice(i + 1)];
  });
}

function value(unit: string, sec: string, key: string): string[] {
  return section(unit, sec).filter(([k]) => k === key).map(([, v]) => v);
}

async function analyze(): Promise<boolean> {
  try {
    await new Deno.Command("systemd-analyze", { args: ["--version"], stdout: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

Deno.test("the embedded template is identical to pylon.service.tmpl", async () => {
  assert.equal(SERVICE_TEMPLATE, await Deno.readTextFile(new URL("pylon.service.tmpl", repo)));
});

Deno.test("PYLON_PERMISSION_FLAGS match the pylon task in deno.json", async () => {
  const json = JSON.parse(await Deno.readTextFile(new URL("deno.json", repo)));
  const flags = (json.tasks.pylon as string).split(/\s+/).filter((a) => a.startsWith("--allow-"));
  assert.deepEqual([...PYLON_PERMISSION_FLAGS], flags);
});

Deno.test("execCommand() uses the binary when compiled and deno run from source", () => {
  assert.deepEqual(execCommand("/usr/local/bin/pylon", "/x/main.ts", "/x/deno.json"), [
    "/usr/local/bin/pylon",
  ]);
  assert.deepEqual(execCommand("/usr/bin/deno", "/x/main.ts", "/x/deno.json"), [
    "/usr/bin/deno",
    "run",
    ...PYLON_PERMISSION_FLAGS,
    "--config",
    "/x/deno.json",
    "/x/main.ts",
  ]);
});

Deno.test("renderUnit() renders user and system units with the expected keys", async (t) => {
  for (const scope of ["user", "system"] as const) {
    await t.step(scope, async () => {
      const unit = renderUnit(unitOptions(scope));
      assert.doesNotMatch(unit, /\{\{|^##/m);
      assert.deepEqual(value(unit, "Unit", "Description"), [
        "pylon: events to AI coding agents in Docker",
      ]);
      assert.deepEqual(value(unit, "Unit", "After"), ["network-online.target docker.service"]);
      assert.deepEqual(value(unit, "Service", "Environment"), [
        "PYLON_HOME=/home/ann/.pylon",
        "HOME=/home/ann",
      ]);
      const exec = value(unit, "Service", "ExecStart")[0]!;
      assert.ok(exec.startsWith(`${Deno.execPath()} run --allow-net`), exec);
      assert.ok(exec.endsWith(`"/opt/pylon src/main.ts" start`), exec);
      for (
        const [k, v] of [
          ["Type", "simple"],
          ["Restart", "on-failure"],
          ["RestartSec", "5"],
          ["KillSignal", "SIGTERM"],
          ["TimeoutStopSec", "15"],
          ["LimitNOFILE", "65536"],
          ["NoNewPrivileges", "yes"],
          ["RestrictSUIDSGID", "yes"],
        ]
      ) assert.deepEqual(value(unit, "Service", k!), [v], k);
      const system = scope === "system";
      assert.deepEqual(value(unit, "Service", "User"), system ? ["ann"] : []);
      assert.deepEqual(value(unit, "Service", "Group"), system ? ["ann"] : []);
      assert.deepEqual(value(unit, "Service", "ProtectSystem"), system ? ["full"] : []);
      assert.deepEqual(value(unit, "Service", "PrivateTmp"), system ? ["yes"] : []);
      assert.deepEqual(value(unit, "Install", "WantedBy"), [
        system ? "multi-user.target" : "default.target",
      ]);
      if (!(await analyze())) {
        // deno-lint-ignore no-console -- a printed skip reason, as the Docker tests do
        console.log("systemd-analyze not found: skipped verify");
        return;
      }
      const dir = await Deno.makeTempDir();
      try {
        const file = join(dir, "pylon.service");
        await Deno.writeTextFile(file, unit);
        const out = await new Deno.Command("systemd-analyze", {
          args: ["verify", file],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const err = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, err);
        // verify exits 0 on unknown keys, so any warning about our file fails the test.
        assert.doesNotMatch(err, new RegExp(file.replaceAll(".", "\\.")), err);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("renderUnit() escapes % and $ for systemd", () => {
  const unit = renderUnit({ ...unitOptions("user"), exec: ["/opt/100%/pylon$x"] });
  assert.deepEqual(value(unit, "Service", "ExecStart"), ["/opt/100%%/pylon$$x start"]);
});

interface Fake {
  deps: ServiceDeps;
  calls: string[];
  systemDir: string;
}

async function fake(
  uid: number,
  respond: (cmd: string, args: string[]) => RunResult | null = () => ok,
): Promise<Fake> {
  const calls: string[] = [];
  const systemDir = await Deno.makeTempDir();
  return {
    calls,
    systemDir,
    deps: {
      run(cmd, args) {
        calls.push([cmd, ...args].join(" "));
        if (cmd === "getent") {
          return Promise.resolve({ ...ok, stdout: "ann:x:1000:1000::/home/ann:/bin/sh\n" });
        }
        if (cmd === "id") return Promise.resolve({ ...ok, stdout: "staff\n" });
        return Promise.resolve(respond(cmd, args));
      },
      uid: () => uid,
      execPath: () => "/usr/local/bin/pylon",
      mainModulePath: "/src/main.ts",
      systemUnitDir: systemDir,
    },
  };
}

const ok: RunResult = { code: 0, stdout: "", stderr: "" };

async function context(): Promise<TestContext & { config: string }> {
  const ctx = await createTestContext();
  const config = join(ctx.paths.root, "xdg");
  ctx.env.XDG_CONFIG_HOME = config;
  ctx.env.USER = "ann";
  return Object.assign(ctx, { config });
}

function run(f: Fake, ctx: TestContext, ...argv: string[]) {
  const command = createServiceCommand(f.deps);
  return command.run(parseCommandArgs(command, argv), ctx);
}

Deno.test("service install writes a user unit and enables it with systemctl --user", async () => {
  await using ctx = await context();
  const f = await fake(1000);
  try {
    assert.equal(await run(f, ctx, "install"), 0);
    const unit = await Deno.readTextFile(join(ctx.config, "systemd/user/pylon.service"));
    assert.deepEqual(value(unit, "Service", "ExecStart"), ["/usr/local/bin/pylon start"]);
    assert.deepEqual(value(unit, "Service", "Environment")[0], `PYLON_HOME=${ctx.paths.root}`);
    assert.deepEqual(f.calls, [
      "systemctl --user daemon-reload",
      "systemctl --user enable --now pylon",
    ]);
    assert.match(ctx.stdout(), /loginctl enable-linger ann/);
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
  }
});

Deno.test("service install --print writes nothing and runs nothing", async () => {
  await using ctx = await context();
  const f = await fake(1000);
  try {
    assert.equal(await run(f, ctx, "install", "--print"), 0);
    assert.match(ctx.stdout(), /^ExecStart=\/usr\/local\/bin\/pylon start$/m);
    assert.equal(await Deno.stat(ctx.config).catch(() => null), null);
    assert.deepEqual(f.calls, []);
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
  }
});

Deno.test("service install --system refuses without root and installs with it", async () => {
  await using ctx = await context();
  const user = await fake(1000);
  const root = await fake(0);
  try {
    await assert.rejects(run(user, ctx, "install", "--system"), /without root/);
    assert.deepEqual(user.calls, []);
    ctx.env.SUDO_USER = "ann";
    assert.equal(await run(root, ctx, "install", "--system"), 0);
    const unit = await Deno.readTextFile(join(root.systemDir, "pylon.service"));
    assert.deepEqual(value(unit, "Service", "User"), ["ann"]);
    assert.deepEqual(value(unit, "Service", "Group"), ["staff"]);
    assert.deepEqual(value(unit, "Install", "WantedBy"), ["multi-user.target"]);
    assert.ok(root.calls.includes("systemctl daemon-reload"), root.calls.join("\n"));
    assert.ok(root.calls.includes("systemctl enable --now pylon"), root.calls.join("\n"));
  } finally {
    await Deno.remove(user.systemDir, { recursive: true });
    await Deno.remove(root.systemDir, { recursive: true });
  }
});

Deno.test("service install reports systemctl's stderr with the linger hint", async () => {
  await using ctx = await context();
  const f = await fake(
    1000,
    (_cmd, args) =>
      args.includes("enable")
        ? { code: 1, stdout: "", stderr: "Failed to connect to bus: No medium found" }
        : ok,
  );
  try {
    await assert.rejects(run(f, ctx, "install"), (e: Error & { hint?: string }) => {
      assert.match(e.message, /enable --now pylon failed \(exit 1\): Failed to connect to bus/);
      assert.match(e.hint ?? "", /loginctl enable-linger ann/);
      return true;
    });
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
  }
});

Deno.test("service install where systemd is not init leaves no unit behind and says what to do", async () => {
  await using ctx = await context();
  const f = await fake(0, (_cmd, args) =>
    args.includes("daemon-reload")
      ? {
        code: 1,
        stdout: "",
        stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\n" +
          "Failed to connect to bus: Host is down",
      }
      : ok);
  try {
    ctx.env.SUDO_USER = "ann";
    await assert.rejects(run(f, ctx, "install"), (e: Error & { hint?: string }) => {
      assert.match(e.message, /^systemd does not run here \(System has not been booted/);
      assert.match(e.message, /nothing was installed, .*pylon\.service was removed again$/);
      assert.match(e.hint ?? "", /`pylon start`.*`pylon service install --print`/);
      return true;
    });
    assert.equal(await Deno.stat(join(f.systemDir, "pylon.service")).catch(() => null), null);
    assert.ok(!f.calls.some((c) => c.includes("enable")), f.calls.join("\n"));
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
  }
});

Deno.test("service install without systemctl writes the unit and says how to start it", async () => {
  await using ctx = await context();
  const f = await fake(1000, () => null);
  try {
    assert.equal(await run(f, ctx, "install"), 0);
    await Deno.stat(join(ctx.config, "systemd/user/pylon.service"));
    assert.match(ctx.stdout(), /systemctl was not found.*systemctl --user enable --now pylon/s);
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
  }
});

Deno.test("service uninstall acts in the scope of the unit it finds", async (t) => {
  await t.step("user", async () => {
    await using ctx = await context();
    const f = await fake(0);
    try {
      await Deno.writeTextFile(join(f.systemDir, "pylon.service"), "x");
      const path = join(ctx.config, "systemd/user/pylon.service");
      await Deno.mkdir(join(ctx.config, "systemd/user"), { recursive: true });
      await Deno.writeTextFile(path, "x");
      assert.equal(await run(f, ctx, "uninstall"), 0);
      assert.deepEqual(f.calls, [
        "systemctl --user disable --now pylon",
        "systemctl --user daemon-reload",
      ]);
      assert.equal(await Deno.stat(path).catch(() => null), null);
      await Deno.stat(join(f.systemDir, "pylon.service")); // the other scope is untouched
    } finally {
      await Deno.remove(f.systemDir, { recursive: true });
    }
  });
  await t.step("system", async () => {
    await using ctx = await context();
    const f = await fake(0);
    try {
      await Deno.writeTextFile(join(f.systemDir, "pylon.service"), "x");
      assert.equal(await run(f, ctx, "uninstall"), 0);
      assert.deepEqual(f.calls, ["systemctl disable --now pylon", "systemctl daemon-reload"]);
      assert.equal(await Deno.stat(join(f.systemDir, "pylon.service")).catch(() => null), null);
    } finally {
      await Deno.remove(f.systemDir, { recursive: true });
    }
  });
  await t.step("nothing installed", async () => {
    await using ctx = await context();
    const f = await fake(1000);
    try {
      await assert.rejects(run(f, ctx, "uninstall"), /No pylon service is installed/);
    } finally {
      await Deno.remove(f.systemDir, { recursive: true });
    }
  });
});

Deno.test("service status and logs pass through to systemctl and journalctl", async () => {
  const spawned: string[] = [];
  await using ctx = await createTestContext({
    editor: (cmd, args) => {
      spawned.push([cmd, ...args].join(" "));
      return Promise.resolve(0);
    },
  });
  ctx.env.XDG_CONFIG_HOME = join(ctx.paths.root, "xdg");
  const f = await fake(1000);
  try {
    await Deno.mkdir(join(ctx.paths.root, "xdg/systemd/user"), { recursive: true });
    await Deno.writeTextFile(join(ctx.paths.root, "xdg/systemd/user/pylon.service"), "x");
    assert.equal(await run(f, ctx, "status"), 0);
    assert.equal(await run(f, ctx, "logs", "-f", "-n", "50"), 0);
    await assert.rejects(run(f, ctx, "logs", "-n", "many"), /Invalid -n/);
    assert.deepEqual(spawned, [
      "systemctl --user status pylon --no-pager",
      "journalctl --user-unit pylon -n 50 -f",
    ]);
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
  }
});

Deno.test("cachedPath() finds npx, npm and deno caches and nothing else", () => {
  const env = { DENO_DIR: "/srv/deno-dir/" };
  assert.equal(cachedPath(["/usr/local/bin/pylon"], env), undefined);
  assert.equal(cachedPath(["/home/ann/.npm-global/bin/deno", "/src/main.ts"], env), undefined);
  assert.equal(cachedPath(["/usr/lib/node_modules/deno/deno"], env), undefined);
  for (
    const p of [
      "/home/ann/.npm/_npx/1a2b/node_modules/@deno/linux-x64/deno",
      "/home/ann/.cache/deno/npm/registry.npmjs.org/pylon/main.ts",
      "/Users/ann/Library/Caches/deno/remote/x.ts",
      "/srv/deno-dir/npm/deno",
    ]
  ) assert.equal(cachedPath(["/usr/bin/x", p], env), p);
});

Deno.test("service install refuses an ExecStart in npx's cache and says what to install", async () => {
  await using ctx = await context();
  const f = await fake(1000);
  const npx = "/home/ann/.npm/_npx/1a2b/node_modules/@deno/linux-x64/deno";
  f.deps.execPath = () => npx;
  try {
    await assert.rejects(run(f, ctx, "install", "--print"), (e: Error & { hint?: string }) => {
      assert.match(e.message, /ExecStart would run \/home\/ann\/\.npm\/_npx\/.* in a cache/);
      assert.match(e.hint ?? "", /npm install -g deno@/);
      return true;
    });
    assert.equal(ctx.stdout(), "");
    assert.deepEqual(f.calls, []);
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
  }
});

Deno.test("service install warns when a system unit's PrivateTmp hides PYLON_HOME", async () => {
  await using ctx = await context();
  const f = await fake(0);
  const u = await fake(1000);
  try {
    ctx.env.PYLON_HOME = "/tmp/pylon-home";
    ctx.paths = { ...ctx.paths, root: "/tmp/pylon-home" };
    assert.equal(await run(f, ctx, "install", "--system", "--print"), 0);
    assert.match(ctx.stdout(), /^PrivateTmp=yes$/m);
    assert.match(ctx.stderr(), /PYLON_HOME is \/tmp\/pylon-home, under \/tmp, .*PrivateTmp=yes/);
    await using user = await context();
    user.env.PYLON_HOME = "/tmp/pylon-home";
    user.paths = { ...user.paths, root: "/tmp/pylon-home" };
    assert.equal(await run(u, user, "install", "--print"), 0);
    assert.equal(user.stderr(), "", "a user unit has no PrivateTmp");
  } finally {
    await Deno.remove(f.systemDir, { recursive: true });
    await Deno.remove(u.systemDir, { recursive: true });
  }
});
