import assert from "node:assert/strict";
import { Demuxer, demuxStream, DockerError, type LogChunk } from "../../src/docker/mod.ts";

const enc = new TextEncoder();

function frame(kind: number, text: string): Uint8Array {
  const payload = enc.encode(text);
  const out = new Uint8Array(8 + payload.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(4, payload.length);
  out.set(payload, 8);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Joins pieces per stream and in arrival order of stream switches. */
function joined(pieces: LogChunk[]): { stdout: string; stderr: string; order: string } {
  const dec = new TextDecoder();
  let stdout = "", stderr = "", order = "";
  for (const p of pieces) {
    const text = dec.decode(p.data);
    if (p.stream === "stdout") stdout += text;
    else stderr += text;
    if (!order.endsWith(p.stream[3]!)) order += p.stream[3]; // "o" or "e"
  }
  return { stdout, stderr, order };
}

const STREAM = concat(
  frame(1, "out one\n"),
  frame(2, "err one\n"),
  frame(1, ""),
  frame(1, "out two ✓\n"),
  frame(2, "x".repeat(70_000)),
  frame(1, "end"),
);

Deno.test("Demuxer.push() separates frames split at every possible boundary", () => {
  const expected = {
    stdout: "out one\nout two ✓\nend",
    stderr: "err one\n" + "x".repeat(70_000),
    order: "oeoeo",
  };
  for (const cut of [1, 3, 7, 8, 9, 15, 16, 17, 23, 24, 25, 40, 100, 5000, 70_020]) {
    const d = new Demuxer();
    const pieces = [...d.push(STREAM.subarray(0, cut)), ...d.push(STREAM.subarray(cut))];
    d.end();
    assert.deepEqual(joined(pieces), expected, `cut at ${cut}`);
  }
});

Deno.test("Demuxer.push() handles one byte at a time", () => {
  const small = concat(frame(1, "ab"), frame(2, "cd"), frame(0, "e"), frame(3, "engine says no"));
  const d = new Demuxer();
  const pieces: LogChunk[] = [];
  for (let i = 0; i < small.length; i++) pieces.push(...d.push(small.subarray(i, i + 1)));
  d.end();
  assert.deepEqual(joined(pieces), { stdout: "abe", stderr: "cdengine says no", order: "oeoe" });
});

Deno.test("Demuxer.end() rejects a stream cut inside a header or payload", () => {
  for (const cut of [3, 12]) {
    const d = new Demuxer();
    d.push(frame(1, "hello world").subarray(0, cut));
    assert.throws(() => d.end(), DockerError);
  }
});

Deno.test("Demuxer.push() rejects an unknown stream type with a TTY hint", () => {
  const d = new Demuxer();
  assert.throws(() => d.push(enc.encode("hello, raw tty output")), (e: unknown) => {
    assert.ok(e instanceof DockerError);
    assert.match(e.message, /unexpected stream type 104/);
    assert.match(e.hint ?? "", /tty/);
    return true;
  });
});

Deno.test("demuxStream() demultiplexes an async source", async () => {
  async function* source() {
    yield STREAM.subarray(0, 10);
    yield STREAM.subarray(10, 10); // empty chunk
    yield STREAM.subarray(10);
  }
  const pieces: LogChunk[] = [];
  for await (const p of demuxStream(source())) pieces.push(p);
  assert.equal(joined(pieces).stdout, "out one\nout two ✓\nend");
});
