/**
 * `pylon doctor`'s git access rows, with real git against repositories made in a temp folder,
 * a loopback HTTP server that wants credentials, and a fake `ssh` that refuses the key.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runDoctor } from "../../src/cli/commands/doctor.ts";
import { createTestContext, type TestContext, writePylon } from "../_helpers/cli.ts";
import { fakeDocker, freePort, offline } from "./_doctor.ts";

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text.trim();
}

/** A repository with one commit on `main` and a tag `v1`, in a temp folder. */
async function repository(): Promise<{ dir: string; sha: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "pylon-doctor-git-" });
  await git(dir, "init", "-q", "-b", "main");
  await Deno.writeTextFile(join(dir, "README"), "hi\n");
  await git(dir, "add", "README");
  await git(dir, "commit", "-q", "-m", "first");
  await git(dir, "tag", "v1");
  const sha = await git(dir, "rev-parse", "HEAD");
  return { dir, sha, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

async function home(env: Record<string, string> = {}): Promise<TestContext> {
  const ctx = await createTestContext({ env });
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    `server:\n  host: 127.0.0.1\n  port: ${freePort()}\n` +
      `defaults:\n  agent:\n    claude:\n      oauth_path: ${ctx.paths.root}\n`,
  );
  return ctx;
}

function gitPylon(name: string, repo: string, ref?: string): string {
  return `name: ${name}\ntrigger:\n  type: webhook\n  path: /${name}\nagent:\n  prompt: hi\n` +
    `workspace:\n  type: git-clone\n  repo: "${repo}"\n${ref ? `  ref: ${ref}\n` : ""}`;
}

async function doctor(ctx: TestContext): Promise<{ code: number; out: string }> {
  const before = ctx.stdout().length;
  const code = await runDoctor(ctx, {
    deps: { docker: fakeDocker, fetch: offline, timeoutMs: 10_000 },
  });
  return { code, out: ctx.stdout().slice(before) };
}

function line(out: string, label: string): string {
  const m = new RegExp(`\\n {2}${label} \\.+ [^\\n]*(\\n {6}fix: [^\\n]*)?`).exec(out);
  assert.ok(m, `no line "${label}" in:\n${out}`);
  return m[0].trim();
}

Deno.test("doctor reaches an existing repository once for the pylons sharing it", async () => {
  await using repo = await repository();
  await using ctx = await home();
  await writePylon(ctx, "alpha", gitPylon("alpha", `file://${repo.dir}`, "main"));
  await writePylon(ctx, "beta", gitPylon("beta", `file://${repo.dir}`, "main"));
  await writePylon(ctx, "gamma", gitPylon("gamma", repo.dir));
  const { code, out } = await doctor(ctx);
  assert.equal(code, 0, out);
  assert.match(out, /\nGit\n/);
  assert.equal(
    line(out, "alpha repo"),
    `alpha repo ............ ok    file://${repo.dir} reachable, branch main at ` +
      `${repo.sha.slice(0, 7)} (also beta)`,
  );
  assert.doesNotMatch(out, /beta repo/);
  assert.equal(line(out, "gamma repo"), `gamma repo ............ ok    ${repo.dir} reachable`);
});

Deno.test("doctor fails a missing repository and a missing branch with the fix", async () => {
  await using repo = await repository();
  await using ctx = await home();
  await writePylon(ctx, "gone", gitPylon("gone", `file://${repo.dir}-missing`));
  await writePylon(ctx, "typo", gitPylon("typo", `file://${repo.dir}`, "mian"));
  await writePylon(ctx, "tagged", gitPylon("tagged", `file://${repo.dir}`, "v1"));
  const { code, out } = await doctor(ctx);
  assert.equal(code, 1);
  assert.match(
    line(out, "gone repo"),
    /FAIL {2}file:\/\/.*-missing: repository not found \(git: .*\)\n {6}fix: check workspace\.repo; a private repository also answers "not found"/,
  );
  assert.match(
    line(out, "typo repo"),
    /FAIL {2}file:\/\/.* is reachable, but it has no branch or tag "mian"\n {6}fix: fix workspace\.ref with `pylon edit typo`/,
  );
  assert.match(line(out, "tagged repo"), /ok {4}file:\/\/.* reachable, tag v1 at [0-9a-f]{7}$/);
  assert.match(out, /\n2 problems found\.\n/);
});

Deno.test("doctor runs ssh in batch mode and explains a refused key", async () => {
  const bin = await Deno.makeTempDir({ prefix: "pylon-doctor-ssh-" });
  try {
    const log = join(bin, "args");
    const ssh = join(bin, "ssh");
    await Deno.writeTextFile(
      ssh,
      `#!/bin/sh\necho "$@" >> ${log}\necho 'git@example.test: Permission denied (publickey).' >&2\nexit 255\n`,
      { mode: 0o755 },
    );
    await using ctx = await home({ GIT_SSH_COMMAND: ssh });
    await writePylon(ctx, "alpha", gitPylon("alpha", "git@example.test:org/private.git"));
    const { code, out } = await doctor(ctx);
    assert.equal(code, 1);
    assert.match(
      line(out, "alpha repo"),
      /FAIL {2}git@example\.test:org\/private\.git: the SSH key was refused \(or this user has none\) \(git: .*Permission denied \(publickey\)\.\)\n {6}fix: add the daemon user's public key .* to example\.test .*`ssh -T git@example\.test`/,
    );
    assert.match(await Deno.readTextFile(log), /-o BatchMode=yes/);
  } finally {
    await Deno.remove(bin, { recursive: true });
  }
});

Deno.test("doctor says an https repository wants credentials, without printing the token", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response("auth", {
        status: 401,
        headers: { "www-authenticate": 'Basic realm="git"' },
      }),
  );
  try {
    await using ctx = await home();
    const url = `http://127.0.0.1:${server.addr.port}/org/repo.git`;
    await writePylon(ctx, "alpha", gitPylon("alpha", url));
    await writePylon(
      ctx,
      "beta",
      gitPylon("beta", url.replace("http://", "http://x-access-token:s3cr3t@")),
    );
    const { code, out } = await doctor(ctx);
    assert.equal(code, 1);
    assert.match(
      line(out, "alpha repo"),
      /FAIL {2}http:\/\/127\.0\.0\.1:\d+\/org\/repo\.git: the server wants credentials .*\n {6}fix: use an SSH URL .* put a token in the URL/,
    );
    assert.match(line(out, "beta repo"), /FAIL {2}http:\/\/\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(out, /s3cr3t/);
  } finally {
    await server.shutdown();
  }
});
