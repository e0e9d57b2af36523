import assert from "node:assert/strict";
import { createRedactor, NO_REDACTION, redactChunks, redactorFor } from "../../src/log/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("createRedactor() replaces each secret, longest first, and skips short values", () => {
  const r = createRedactor(["ghp_abcdef123456", "ghp_abcdef123456-and-more", "dev", "", undefined]);
  assert.equal(
    r.redact("a ghp_abcdef123456 b ghp_abcdef123456-and-more c dev"),
    "a [redacted] b [redacted] c dev",
  );
  assert.equal(createRedactor(["short", "12345"]), NO_REDACTION);
});

Deno.test("createRedactor() also finds a secret JSON-escaped or URL-encoded", () => {
  const r = createRedactor(['pa"ss/wo rd']);
  assert.equal(r.redact(JSON.stringify({ p: 'pa"ss/wo rd' })), '{"p":"[redacted]"}');
  assert.equal(r.redact("u=pa%22ss%2Fwo%20rd&x=1"), "u=[redacted]&x=1");
  assert.equal(r.redact("a.b*c+d"), "a.b*c+d", "regex characters are literal");
});

Deno.test("StreamRedactor catches a secret split across pieces and holds back only a prefix", () => {
  const s = createRedactor(["sk-ant-0123456789"]).stream();
  let out = s.push("line one\nkey=sk-an");
  assert.equal(out, "line one\nkey=");
  out += s.push("t-0123456789 done\nsk");
  out += s.push("y is blue");
  out += s.flush();
  assert.equal(out, "line one\nkey=[redacted] done\nsky is blue");
});

Deno.test("bytes() redacts in place, keeping lengths and non-UTF-8 bytes", () => {
  const secret = "tök-0123456789abcdef"; // 21 bytes
  const r = createRedactor([secret, "hunter22"]);
  const input = new Uint8Array([0xff, ...enc.encode(`x ${secret} hunter22\n`), 0xfe]);
  for (const cuts of [[8], [3, 9, 15], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]]) {
    const b = r.bytes();
    const parts: number[] = [];
    let from = 0;
    for (const cut of [...cuts, input.length]) {
      parts.push(...b.push(input.subarray(from, cut)));
      from = cut;
    }
    parts.push(...b.flush());
    const out = new Uint8Array(parts);
    assert.equal(out.length, input.length, `cuts ${cuts}`);
    assert.equal(out[0], 0xff);
    assert.equal(out.at(-1), 0xfe);
    assert.equal(dec.decode(out.subarray(1, -1)), "x [redacted]*********** ********\n");
  }
});

Deno.test("redactChunks() redacts stdout and stderr separately and flushes at the end", async () => {
  async function* source() {
    yield { stream: "stdout" as const, data: enc.encode("token: SECRET-") };
    yield { stream: "stderr" as const, data: enc.encode("warn SECRET-VALUE-1\n") };
    yield { stream: "stdout" as const, data: enc.encode("VALUE-1 ok\nSEC") };
  }
  const out = { stdout: "", stderr: "" };
  for await (const c of redactChunks(source(), createRedactor(["SECRET-VALUE-1"]))) {
    out[c.stream] += dec.decode(c.data);
  }
  assert.deepEqual(out, {
    stdout: "token: [redacted]**** ok\nSEC",
    stderr: "warn [redacted]****\n",
  });
});

Deno.test("redactorFor() builds one redactor per resolved pylon", () => {
  const pylon = { secrets: ["abcdefgh"] };
  assert.equal(redactorFor(pylon), redactorFor(pylon));
  assert.equal(redactorFor(undefined), NO_REDACTION);
});
