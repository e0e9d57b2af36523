import assert from "node:assert/strict";
import { tarBytes, type TarBytesEntry, tarStream } from "../../src/docker/mod.ts";

interface ReadEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  size: number;
  mtime: number;
  linkname: string;
  data: string;
}

const dec = new TextDecoder();

function field(b: Uint8Array, offset: number, length: number): string {
  const raw = b.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return dec.decode(end < 0 ? raw : raw.subarray(0, end));
}

function octal(b: Uint8Array, offset: number, length: number): number {
  return parseInt(field(b, offset, length).trim() || "0", 8);
}

/** A minimal ustar/PAX reader: enough to check what the writer produced. */
function readTar(bytes: Uint8Array): ReadEntry[] {
  assert.equal(bytes.length % 512, 0, "archive is whole blocks");
  const out: ReadEntry[] = [];
  let pax: Record<string, string> = {};
  for (let pos = 0; pos < bytes.length;) {
    const h = bytes.subarray(pos, pos + 512);
    if (h.every((x) => x === 0)) break;
    const sum = h.reduce((a, x, i) => a + (i >= 148 && i < 156 ? 0x20 : x), 0);
    assert.equal(octal(h, 148, 8), sum, "header checksum");
    assert.equal(field(h, 257, 6), "ustar");
    const size = octal(h, 124, 12);
    const data = bytes.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    const type = field(h, 156, 1);
    if (type === "x") {
      pax = {};
      for (const line of dec.decode(data).split("\n").filter(Boolean)) {
        const [len, rest] = [line.slice(0, line.indexOf(" ")), line.slice(line.indexOf(" ") + 1)];
        assert.equal(new TextEncoder().encode(line).length + 1, Number(len), "PAX record length");
        pax[rest.slice(0, rest.indexOf("="))] = rest.slice(rest.indexOf("=") + 1);
      }
      continue;
    }
    const prefix = field(h, 345, 155);
    out.push({
      path: pax.path ?? (prefix ? `${prefix}/` : "") + field(h, 0, 100),
      type,
      mode: octal(h, 100, 8),
      uid: octal(h, 108, 8),
      size,
      mtime: octal(h, 136, 12),
      linkname: pax.linkpath ?? field(h, 157, 100),
      data: dec.decode(data),
    });
    pax = {};
  }
  return out;
}

const ENTRIES: TarBytesEntry[] = [
  { type: "dir", path: "./bin/" },
  {
    type: "file",
    path: "bin/tool",
    data: "#!/bin/sh\n",
    mode: 0o755,
    uid: 1000,
    mtime: 1_700_000_000,
  },
  { type: "symlink", path: "bin/alias", target: "tool" },
  { type: "file", path: "empty", data: new Uint8Array(0) },
  { type: "file", path: "block", data: "b".repeat(512) },
  { type: "dir", path: "tmp", mode: 0o1777 },
  { type: "file", path: `a/${"p".repeat(140)}/${"n".repeat(95)}`, data: "split" },
  { type: "file", path: `${"z".repeat(300)}.txt`, data: "pax" },
  { type: "symlink", path: "far", target: `/${"t".repeat(150)}` },
];

Deno.test("tarBytes() round-trips files, folders, links, modes and long names", () => {
  const entries = readTar(tarBytes(ENTRIES));
  assert.deepEqual(entries.map((e) => [e.path, e.type]), [
    ["bin/", "5"],
    ["bin/tool", "0"],
    ["bin/alias", "2"],
    ["empty", "0"],
    ["block", "0"],
    ["tmp/", "5"],
    [`a/${"p".repeat(140)}/${"n".repeat(95)}`, "0"],
    [`${"z".repeat(300)}.txt`, "0"],
    ["far", "2"],
  ]);
  const [dir, tool, alias, empty, block, tmp] = entries;
  assert.equal(dir!.mode, 0o755);
  assert.deepEqual([tool!.mode, tool!.uid, tool!.mtime, tool!.data], [
    0o755,
    1000,
    1_700_000_000,
    "#!/bin/sh\n",
  ]);
  assert.equal(alias!.linkname, "tool");
  assert.equal(empty!.size, 0);
  assert.equal(block!.data.length, 512);
  assert.equal(tmp!.mode, 0o1777);
  assert.equal(entries[7]!.data, "pax");
  assert.equal(entries[8]!.linkname, `/${"t".repeat(150)}`);
});

Deno.test("tarBytes() is reproducible", () => {
  const a = tarBytes([{ type: "file", path: "x", data: "1" }]);
  const b = tarBytes([{ type: "file", path: "x", data: "1" }]);
  assert.deepEqual(a, b);
});

Deno.test("tarStream() streams file contents and matches tarBytes()", async () => {
  async function* chunks() {
    yield new TextEncoder().encode("hello ");
    yield new TextEncoder().encode("world");
  }
  const streamed = new Uint8Array(
    await new Response(
      tarStream([
        { type: "dir", path: "d" },
        { type: "file", path: "d/f", size: 11, stream: chunks() },
      ]),
    ).arrayBuffer(),
  );
  const bytes = tarBytes([{ type: "dir", path: "d" }, {
    type: "file",
    path: "d/f",
    data: "hello world",
  }]);
  assert.deepEqual(streamed, bytes);
});

Deno.test("tarStream() fails when a stream's length differs from its size", async () => {
  async function* chunks() {
    yield new Uint8Array(5);
  }
  const stream = tarStream([{ type: "file", path: "f", size: 4, stream: chunks() }]);
  await assert.rejects(new Response(stream).arrayBuffer(), /gave 5 bytes, expected 4/);
});

Deno.test("tarBytes() refuses paths that escape the archive", () => {
  assert.throws(() => tarBytes([{ type: "file", path: "../etc/passwd", data: "" }]), TypeError);
  assert.throws(() => tarBytes([{ type: "dir", path: "/" }]), TypeError);
});
