import assert from "node:assert/strict";
import { checkStateTar, problemOfPath } from "../../src/agent_channel/mod.ts";
import { tarBytes } from "../../src/docker/mod.ts";

const LIMITS = { maxBytes: 1024 * 1024 };

/** Sets byte 156 (the type flag) of the header at `offset` and fixes its checksum. */
function retype(tar: Uint8Array, offset: number, type: string): Uint8Array {
  const out = tar.slice();
  out[offset + 156] = type.charCodeAt(0);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : out[offset + i]!;
  const text = sum.toString(8).padStart(6, "0") + "\0 ";
  for (let i = 0; i < 8; i++) out[offset + 148 + i] = text.charCodeAt(i);
  return out;
}

Deno.test("checkStateTar() accepts folders and regular files under relative paths", () => {
  const tar = tarBytes([
    { type: "dir", path: "claude" },
    { type: "file", path: "claude/settings.json", data: "{}" },
    { type: "file", path: `home/${"deep/".repeat(40)}n`, data: "2\n" },
  ]);
  const r = checkStateTar(tar, LIMITS);
  assert.deepEqual(r, { ok: true, entries: 3, fileBytes: 4 });
});

Deno.test("checkStateTar() refuses links, devices and FIFOs", async (t) => {
  const link = tarBytes([{ type: "symlink", path: "home", target: "/etc" }]);
  const refused = checkStateTar(link, LIMITS);
  assert.equal(refused.ok, false);
  assert.match(!refused.ok ? refused.problem : "", /symbolic link/);
  const file = tarBytes([{ type: "file", path: "a", data: "" }]);
  for (const [type, kind] of [["1", "hard link"], ["3", "device"], ["6", "FIFO"]]) {
    await t.step(kind!, () => {
      const r = checkStateTar(retype(file, 0, type!), LIMITS);
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.problem : "", new RegExp(kind!));
    });
  }
});

Deno.test("checkStateTar() refuses absolute paths, .., a bad checksum and oversize archives", () => {
  assert.equal(problemOfPath("/etc/passwd"), "an absolute path");
  assert.equal(problemOfPath("a/../../x"), "a path with ..");
  assert.equal(problemOfPath("./claude/x"), undefined);
  const tar = tarBytes([{ type: "file", path: "a", data: "x".repeat(5000) }]);
  const big = checkStateTar(tar, { maxBytes: 4096 });
  assert.equal(big.ok, false);
  const broken = tar.slice();
  broken[0] = "b".charCodeAt(0);
  const bad = checkStateTar(broken, LIMITS);
  assert.match(!bad.ok ? bad.problem : "", /bad header/);
  const cut = checkStateTar(tar.subarray(0, 1024), LIMITS);
  assert.match(!cut.ok ? cut.problem : "", /ends inside an entry/);
});

Deno.test("checkStateTar() reads what GNU tar writes (PAX headers, ./ names)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/s/claude/projects`, { recursive: true });
    await Deno.writeTextFile(`${dir}/s/claude/projects/${"x".repeat(150)}.jsonl`, "{}\n");
    const out = await new Deno.Command("tar", {
      args: ["-c", "--format=posix", "-C", `${dir}/s`, "."],
      stdout: "piped",
    }).output();
    assert.ok(out.success);
    const r = checkStateTar(out.stdout, LIMITS);
    assert.equal(r.ok, true, JSON.stringify(r));
    await Deno.symlink("/etc/passwd", `${dir}/s/claude/link`);
    const withLink = await new Deno.Command("tar", {
      args: ["-c", "--format=posix", "-C", `${dir}/s`, "."],
      stdout: "piped",
    }).output();
    const refused = checkStateTar(withLink.stdout, LIMITS);
    assert.equal(refused.ok, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
