/**
 * Runs the real `install.sh` with `sh` against fake release files served over loopback HTTP.
 *
 * @module
 */

import assert from "node:assert/strict";

const INSTALL_SH = new URL("../../install.sh", import.meta.url).pathname;
const FAKE_BINARY =
  '#!/bin/sh\nif [ "$1" = version ]; then echo "pylon 9.9.9"; exit 0; fi\nexit 2\n';
const decoder = new TextDecoder();

function which(cmd: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const missing = ["sh", "curl", "sha256sum"].filter((cmd) => !which(cmd));
const skip = missing.length === 3;
// deno-lint-ignore no-console
if (skip) console.log(`Skipping install.sh tests: sh, curl and sha256sum are all missing`);

function hostAsset(): string {
  if (skip) return "";
  const machine = decoder.decode(new Deno.Command("uname", { args: ["-m"] }).outputSync().stdout)
    .trim();
  const arch = machine === "aarch64" || machine === "arm64" ? "arm64" : "x64";
  return `pylon-${Deno.build.os === "darwin" ? "darwin" : "linux"}-${arch}`;
}

/** The asset name install.sh picks on this host. */
const ASSET = hostAsset();
const ignore = skip || Deno.build.os === "windows";

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A temp release folder served over loopback, plus temp install and home folders. */
async function createRelease(
  edit: (release: string, asset: string) => Promise<void> = () => Promise.resolve(),
) {
  const root = await Deno.makeTempDir({ prefix: "pylon_install_" });
  const release = `${root}/release`;
  const installDir = `${root}/bin`;
  const home = `${root}/home`;
  const tmp = `${root}/tmp`;
  await Deno.mkdir(release);
  await Deno.mkdir(home);
  await Deno.mkdir(tmp);
  const asset = ASSET;
  const bytes = new TextEncoder().encode(FAKE_BINARY);
  await Deno.writeFile(`${release}/${asset}`, bytes);
  await Deno.writeTextFile(`${release}/checksums.txt`, `${await sha256Hex(bytes)}  ${asset}\n`);
  await edit(release, asset);

  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const name = new URL(req.url).pathname.slice(1);
    try {
      return new Response(await Deno.readFile(`${release}/${name}`));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    url,
    asset,
    installDir,
    /** The environment for install.sh: temp HOME, TMPDIR and install folder. */
    env: { PYLON_INSTALL_URL: url, PYLON_INSTALL_DIR: installDir, HOME: home, TMPDIR: tmp },
    /** Names left in TMPDIR (install.sh's trap must remove its download folder). */
    async tmpLeftovers(): Promise<string[]> {
      return await names(tmp);
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
    },
  };
}

async function runInstall(env: Record<string, string>) {
  const out = await new Deno.Command("sh", {
    args: [INSTALL_SH],
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

Deno.test({
  name: "install.sh installs a verified binary that runs",
  ignore,
  async fn() {
    await using rel = await createRelease();
    const res = await runInstall(rel.env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Verified SHA-256 [0-9a-f]{64}/);
    assert.match(res.stdout, new RegExp(`Installed pylon 9\\.9\\.9 to ${rel.installDir}/pylon`));
    assert.match(res.stdout, /is not on your PATH/);

    const info = await Deno.stat(`${rel.installDir}/pylon`);
    assert.equal(info.mode! & 0o777, 0o755);
    assert.deepEqual(await names(rel.installDir), ["pylon"]);
    assert.deepEqual(await rel.tmpLeftovers(), []);
    const run = await new Deno.Command(`${rel.installDir}/pylon`, { args: ["version"] }).output();
    assert.equal(run.code, 0);
    assert.equal(decoder.decode(run.stdout), "pylon 9.9.9\n");
  },
});

Deno.test({
  name: "install.sh refuses a tampered binary and installs nothing",
  ignore,
  async fn() {
    await using rel = await createRelease(async (release, asset) => {
      await Deno.writeTextFile(`${release}/${asset}`, FAKE_BINARY.replace("9.9.9", "6.6.6"));
    });
    const res = await runInstall(rel.env);
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      new RegExp(
        `Error: checksum mismatch for ${rel.asset} \\(expected [0-9a-f]{64}, got [0-9a-f]{64}\\); refusing to install`,
      ),
    );
    assert.equal(await exists(rel.installDir), false);
    assert.deepEqual(await rel.tmpLeftovers(), []);
  },
});

Deno.test({
  name: "install.sh refuses a binary missing from checksums.txt",
  ignore,
  async fn() {
    await using rel = await createRelease(async (release) => {
      await Deno.writeTextFile(`${release}/checksums.txt`, `${"0".repeat(64)}  pylon-other\n`);
    });
    const res = await runInstall(rel.env);
    assert.equal(res.code, 1);
    assert.match(res.stderr, new RegExp(`${rel.asset}: it is not listed in checksums\\.txt`));
    assert.equal(await exists(rel.installDir), false);
    assert.deepEqual(await rel.tmpLeftovers(), []);
  },
});

Deno.test({
  name: "install.sh fails cleanly when the release URL is unreachable",
  ignore,
  async fn() {
    await using rel = await createRelease();
    // A port that was just free: nothing listens on it.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const res = await runInstall({
      ...rel.env,
      PYLON_INSTALL_URL: `http://127.0.0.1:${port}/nowhere`,
    });
    assert.equal(res.code, 1);
    assert.match(
      res.stderr,
      /Error: Cannot download http:\/\/127\.0\.0\.1:\d+\/nowhere\/checksums\.txt/,
    );
    assert.equal(await exists(rel.installDir), false);
  },
});
