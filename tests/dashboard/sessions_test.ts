/**
 * Dashboard logins without a browser: codes work once and briefly, sessions expire (idle and
 * absolute), survive a restart through a 0600 file that holds only hashes, and can be revoked;
 * the login rate limit; the Markdown and ANSI renderers on hostile input.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ansiToHtml } from "../../src/daemon/dashboard/ansi_html.ts";
import { renderMarkdown } from "../../src/daemon/dashboard/markdown.ts";
import { RateLimiter } from "../../src/daemon/dashboard/rate_limit.ts";
import {
  CODE_TTL_MS,
  csrfFor,
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  SessionStore,
} from "../../src/daemon/dashboard/sessions.ts";

function clockAt(start: number) {
  const clock = { t: start, now: () => new Date(clock.t) };
  return clock;
}

Deno.test("SessionStore: a code logs in once, and not after 2 minutes", async () => {
  const clock = clockAt(Date.UTC(2026, 0, 1));
  const store = new SessionStore({ clock });
  const { code } = await store.mintCode();
  const id = await store.exchange(code);
  assert.ok(id);
  assert.equal(await store.exchange(code), null, "used");
  const late = await store.mintCode();
  clock.t += CODE_TTL_MS + 1;
  assert.equal(await store.exchange(late.code), null, "expired");
  assert.equal(await store.exchange("x".repeat(43)), null, "never minted");
  const session = await store.check(id);
  assert.equal(session?.csrf, await csrfFor(id));
});

Deno.test("SessionStore: sessions end after 12 idle hours or 7 days", async () => {
  const clock = clockAt(Date.UTC(2026, 0, 1));
  const store = new SessionStore({ clock });
  const id = (await store.exchange((await store.mintCode()).code))!;
  clock.t += SESSION_IDLE_MS - 60_000;
  assert.ok(await store.check(id), "used within 12 hours");
  clock.t += SESSION_IDLE_MS + 1;
  assert.equal(await store.check(id), null, "idle too long");

  const busy = (await store.exchange((await store.mintCode()).code))!;
  const start = clock.t;
  while (clock.t + 6 * 3_600_000 - start < SESSION_MAX_MS) {
    clock.t += 6 * 3_600_000;
    assert.ok(await store.check(busy));
  }
  clock.t = start + SESSION_MAX_MS;
  assert.equal(await store.check(busy), null, "older than 7 days");
});

Deno.test("SessionStore: a held session is told when it is revoked and turns invalid on expiry", async () => {
  // What keeps an open event stream from outliving its session (tests/security/event_stream_test.ts).
  const clock = clockAt(Date.UTC(2026, 0, 1));
  const store = new SessionStore({ clock });
  const id = (await store.exchange((await store.mintCode()).code))!;
  const other = (await store.exchange((await store.mintCode()).code))!;
  const session = (await store.check(id))!;
  const otherSession = (await store.check(other))!;
  const ended: string[] = [];
  store.watch(session, () => ended.push("mine"));
  const stop = store.watch(otherSession, () => ended.push("other"));
  await store.revoke(id);
  assert.deepEqual(ended, ["mine"]);
  assert.equal(store.valid(session), false);
  assert.equal(store.valid(otherSession), true);
  stop();
  await store.revokeAll();
  assert.deepEqual(ended, ["mine"], "a watcher that stopped is not called");

  const third = (await store.exchange((await store.mintCode()).code))!;
  const held = (await store.check(third))!;
  clock.t += SESSION_IDLE_MS + 1;
  assert.equal(store.valid(held), false, "expired while held, without a request noticing");
});

Deno.test("SessionStore: sessions survive a restart in a 0600 file of hashes; revoke ends them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "dashboard_sessions.json");
    const first = new SessionStore({ file });
    const code = (await first.mintCode()).code;
    const id = (await first.exchange(code))!;
    const other = (await first.exchange((await first.mintCode()).code))!;
    const text = await Deno.readTextFile(file);
    assert.ok(!text.includes(id) && !text.includes(code), "only hashes are written");
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);

    const second = new SessionStore({ file });
    await second.load();
    assert.ok(await second.check(id), "still logged in after a restart");
    await second.revoke(id);
    assert.equal(await second.check(id), null);
    assert.ok(await second.check(other));
    assert.equal(await second.revokeAll(), 1);

    const third = new SessionStore({ file });
    await third.load();
    assert.equal(await third.check(other), null, "revoked for good");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("RateLimiter: limits each address and everyone together per window", () => {
  const clock = clockAt(0);
  const limit = new RateLimiter({ perKey: 2, overall: 3, windowMs: 60_000, clock });
  assert.equal(limit.take("a"), 0);
  assert.equal(limit.take("a"), 0);
  assert.equal(limit.take("a"), 60, "a third try from a");
  assert.equal(limit.take("b"), 0);
  assert.equal(limit.take("c"), 60, "over the overall limit");
  clock.t += 60_000;
  assert.equal(limit.take("a"), 0, "a new window");
});

Deno.test("renderMarkdown() passes no raw HTML and only http, https and mailto links", () => {
  const out = renderMarkdown([
    "# Title <b>bold</b>",
    "<script>alert(1)</script>",
    "[a](javascript:alert(1)) [b](JaVa\tScRiPt:alert(1)) [c](data:text/html,x) [d](/dashboard/x)",
    "[ok](https://example.com) [mail](mailto:a@example.com) ![img](https://example.com/i.png)",
    '<a href="javascript:alert(1)">x</a> <img src=x onerror=alert(1)>',
    "`<code>`",
  ].join("\n\n"));
  assert.doesNotMatch(out, /<script|<img|<b>|<a href="(?!https:|mailto:)/i);
  assert.match(out, /<h1>Title &lt;b&gt;bold&lt;\/b&gt;<\/h1>/);
  assert.match(out, /<a href="https:\/\/example.com" rel="noopener noreferrer nofollow">ok<\/a>/);
  assert.match(out, /<a href="mailto:a@example.com" rel="noopener noreferrer nofollow">mail<\/a>/);
  assert.match(
    out,
    /<a href="https:\/\/example.com\/i.png" rel="noopener noreferrer nofollow">img<\/a>/,
  );
  assert.match(out, /<code>&lt;code&gt;<\/code>/);
});

Deno.test("ansiToHtml() keeps colours as classes and drops every other escape", () => {
  assert.equal(
    ansiToHtml("\x1b[1;31mred\x1b[0m <b> \x1b]0;title\x07\x1b[2Jok\x1b[38;5;10mX\x1b[48;2;1;2;3mY"),
    '<span class="a-f1 a-b">red</span> &lt;b&gt; ok<span class="a-f10">X</span><span class="a-f10">Y</span>',
  );
});
