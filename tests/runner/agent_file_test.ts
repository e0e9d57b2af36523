import assert from "node:assert/strict";
import { join } from "node:path";
import { readAgentFile } from "../../src/runner/mod.ts";
import { readResultFile } from "../../src/runner/mod.ts";

async function mkfifo(path: string): Promise<void> {
  const out = await new Deno.Command("mkfifo", { args: [path] }).output();
  assert.ok(out.success, "mkfifo");
}

Deno.test("readAgentFile() refuses links, FIFOs and folders without following or blocking", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const secret = join(dir, "secret");
    await Deno.writeTextFile(secret, "not for the agent");
    await Deno.symlink(secret, join(dir, "link"));
    await Deno.symlink("/dev/zero", join(dir, "zero"));
    await mkfifo(join(dir, "fifo"));
    await Deno.mkdir(join(dir, "folder"));
    const read = (name: string) => readAgentFile(join(dir, name), { maxBytes: 1024 });
    assert.deepEqual(await read("missing"), { kind: "missing" });
    assert.deepEqual(await read("link"), { kind: "refused", reason: "is a symbolic link" });
    assert.deepEqual(await read("zero"), { kind: "refused", reason: "is a symbolic link" });
    assert.deepEqual(await read("fifo"), {
      kind: "refused",
      reason: "is not a regular file (a FIFO)",
    });
    assert.deepEqual(await read("folder"), {
      kind: "refused",
      reason: "is not a regular file (a folder)",
    });
    const ok = await read("secret");
    assert.equal(ok.kind, "read");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readAgentFile() caps what it reads: refused, or the first or last bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "big");
    await Deno.writeTextFile(file, "a\nb\nc\n".repeat(1000));
    assert.deepEqual(await readAgentFile(file, { maxBytes: 100 }), {
      kind: "refused",
      reason: "is larger than 100 bytes",
    });
    const tail = await readAgentFile(file, { maxBytes: 100, whenLarger: "tail" });
    assert.equal(tail.kind, "read");
    if (tail.kind !== "read") return;
    assert.equal(tail.bytes.length, 100);
    assert.equal(tail.truncated, true);
    assert.equal(tail.size, 6000);
    assert.match(new TextDecoder().decode(tail.bytes), /c\n$/);
    const stop = new AbortController();
    stop.abort(new Error("deadline"));
    await assert.rejects(readAgentFile(file, { maxBytes: 100, signal: stop.signal }), /deadline/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readResultFile() fails the job for a result.json it does not read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await mkfifo(join(dir, "result.json"));
    const fifo = await readResultFile(dir);
    assert.equal(fifo?.status, "failed");
    assert.match(fifo?.error ?? "", /result\.json is not a regular file \(a FIFO\)/);
    await Deno.remove(join(dir, "result.json"));
    await Deno.writeTextFile(join(dir, "result.json"), "x".repeat(1024 * 1024 + 1));
    assert.match((await readResultFile(dir))?.error ?? "", /larger than 1 MiB/);
    await Deno.writeTextFile(join(dir, "result.json"), '{"status":"completed","result":"ok"}');
    assert.deepEqual(await readResultFile(dir), {
      status: "completed",
      result: "ok",
      error: null,
      sessionId: null,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
