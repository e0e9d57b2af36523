/**
 * Two pylons on one webhook path: the first by name serves it at start, the other is reported
 * with both files and lines, and takes the path as soon as the first leaves it.
 */

import assert from "node:assert/strict";
import { startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const yaml = (name: string, path: string, extra = "") =>
  `name: ${name}\ntrigger:\n  type: webhook\n  path: ${path}\n${extra}agent:\n  prompt: hi\n`;

async function post(url: string): Promise<{ status: number; pylon?: string }> {
  const res = await fetch(url, { method: "POST", body: "{}" });
  const body = await res.json().catch(() => ({}));
  return { status: res.status, pylon: body.pylon };
}

async function jobsOf(d: { api(p: string): Promise<Response> }, pylon: string): Promise<number> {
  const res = await d.api(`/api/jobs?pylon=${pylon}`);
  if (!res.ok) {
    await res.body?.cancel();
    return -1;
  }
  const body = await res.json();
  return (Array.isArray(body) ? body : body.jobs ?? []).length;
}

Deno.test("a path clash is reported with both files at start, and the loser takes the path once it is free", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "pylon-clash-" });
  await writeHome(root, {
    "pylons/a/pylon.yaml": yaml("a", "/shared"),
    "pylons/b/pylon.yaml": yaml("b", "/shared"),
    "pylons/c/pylon.yaml": yaml("c", "/shared"),
  });
  const d = await startTestDaemon(root);
  try {
    await t.step("at start: a wins, b and c are reported with file and line", async () => {
      const line = await d.waitForLog(/event=pylon\.invalid pylon=b/);
      assert.match(line, /file=.*pylons\/b\/pylon\.yaml/);
      assert.match(line, /line=4/);
      assert.match(line, /is also the path of pylon \\?"a\\?" \(.*pylons\/a\/pylon\.yaml:4\)/);
      assert.match(line, /takes the path as soon as the other pylon leaves it/);
      assert.equal((await post(`${d.url}/shared`)).status, 202);
      assert.equal(await jobsOf(d, "a"), 1);
    });

    await t.step("a disabled: b takes the path on that reload", async () => {
      await writeHome(root, { "pylons/a/pylon.yaml": yaml("a", "/shared", "disabled: true\n") });
      await d.waitForLog(/event=pylon\.added pylon=b .*free now/, 2000);
      assert.equal((await post(`${d.url}/shared`)).status, 202);
      assert.equal(await jobsOf(d, "b"), 1);
    });

    await t.step("a enabled again: b keeps the path, a is refused naming b", async () => {
      await writeHome(root, { "pylons/a/pylon.yaml": yaml("a", "/shared") });
      const line = await d.waitForLog(/event=pylon\.reload_failed pylon=a/, 2000);
      assert.match(line, /pylons\/b\/pylon\.yaml:4/);
    });

    await t.step("b moves to another path: a takes /shared back at once", async () => {
      await writeHome(root, { "pylons/b/pylon.yaml": yaml("b", "/moved") });
      await d.waitForLog(/event=pylon\.added pylon=a .*free now/, 2000);
      assert.equal((await post(`${d.url}/shared`)).status, 202);
      assert.equal(await jobsOf(d, "a"), 2);
      assert.equal((await post(`${d.url}/moved`)).status, 202);
      assert.equal(await jobsOf(d, "b"), 2);
    });

    await t.step("a destroyed: c, the last one waiting, takes the path", async () => {
      const res = await d.api("/api/pylons/a?force=1", { method: "DELETE" });
      assert.equal(res.status, 200, await res.text());
      await d.waitForLog(/event=pylon\.added pylon=c .*free now/, 2000);
      assert.equal((await post(`${d.url}/shared`)).status, 202);
      assert.equal(await jobsOf(d, "c"), 1);
    });
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
