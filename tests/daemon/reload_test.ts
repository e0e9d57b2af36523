// deno-lint-ignore-file no-console
/**
 * Hot reload against a running daemon: edits, new, disabled and removed pylons, secrets in the
 * pylon's .env, and an invalid edit that keeps the previous config.
 */

import assert from "node:assert/strict";
import { eventually, startTestDaemon, writeHome } from "../_helpers/daemon.ts";

const yaml = (name: string, path: string, extra = "") =>
  `name: ${name}\ntrigger:\n  type: webhook\n  path: ${path}\n${extra}agent:\n  prompt: hi\n`;

async function status(url: string, init: RequestInit = { method: "POST", body: "{}" }) {
  const res = await fetch(url, init);
  await res.body?.cancel();
  return res.status;
}

Deno.test("hot reload applies pylon edits within a second and keeps the last good config", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-reload-" });
  await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/old") });
  const d = await startTestDaemon(root);
  try {
    assert.equal(await status(`${d.url}/old`), 202);

    let t0 = Date.now();
    await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/new") });
    await eventually(async () => (await status(`${d.url}/new`)) === 202, 1000);
    const pathMs = Date.now() - t0;
    await d.waitForLog(/event=pylon\.reloaded pylon=hook changed=trigger\b/, 2000);
    assert.equal(await status(`${d.url}/old`), 404);

    // An invalid edit: the old config keeps serving and the log says where and why.
    await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/new") + "approval: true\n" });
    const line = await d.waitForLog(/event=pylon\.reload_failed/, 2000);
    assert.match(line, /pylon=hook/);
    assert.match(line, /line=7/);
    assert.match(line, /belongs under `channel`/);
    assert.match(line, /kept="previous config"/);
    assert.equal(await status(`${d.url}/new`), 202);

    // A secret added through the pylon's .env takes effect too.
    await writeHome(root, {
      "pylons/hook/pylon.yaml": yaml(
        "hook",
        "/new",
        '  secret: "${HOOK_SECRET}"\n  signature_header: X-Signature\n',
      ),
      "pylons/hook/.env": "HOOK_SECRET=s3cret\n",
    });
    await eventually(async () => (await status(`${d.url}/new`)) === 401, 1000);

    // New pylon, then disabled, then removed.
    t0 = Date.now();
    await writeHome(root, { "pylons/fresh/pylon.yaml": yaml("fresh", "/fresh") });
    await eventually(async () => (await status(`${d.url}/fresh`)) === 202, 1000);
    const addMs = Date.now() - t0;
    await writeHome(root, {
      "pylons/fresh/pylon.yaml": yaml("fresh", "/fresh", "disabled: true\n"),
    });
    // A disabled pylon's path says so (200: senders must not retry), unlike an unknown path.
    await eventually(async () => (await status(`${d.url}/fresh`)) === 200, 1000);
    await writeHome(root, { "pylons/fresh/pylon.yaml": yaml("fresh", "/fresh") });
    await eventually(async () => (await status(`${d.url}/fresh`)) === 202, 1000);
    await Deno.remove(`${root}/pylons/fresh`, { recursive: true });
    await eventually(async () => (await status(`${d.url}/fresh`)) === 404, 1000);

    await writeHome(root, { "config.yaml": "server:\n  port: 9999\n" });
    await d.waitForLog(/event=config\.changed .*restart the daemon/, 2000);
    console.log(`reload: path edit effective in ${pathMs} ms, new pylon in ${addMs} ms`);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("hot reload sees a pylon's .env created later and every save by rename", async () => {
  const root = await Deno.makeTempDir({ prefix: "pylon-reload-" });
  const signed = '  secret: "${HOOK_SECRET}"\n  signature_header: X-Signature\n';
  await writeHome(root, {
    "pylons/hook/pylon.yaml": yaml("hook", "/a"),
    "pylons/plain/pylon.yaml": yaml("plain", "/plain"),
    "pylons/plain/.env": "UNUSED=1\n",
  });
  const d = await startTestDaemon(root);
  try {
    // No .env yet: the pylon's folder is watched, so creating one is seen.
    await writeHome(root, { "pylons/hook/pylon.yaml": yaml("hook", "/a", signed) });
    await d.waitForLog(/event=pylon\.(reloaded|reload_failed) pylon=hook/, 1000);
    await writeHome(root, { "pylons/hook/.env": "HOOK_SECRET=s3cret\n" });
    await eventually(async () => (await status(`${d.url}/a`)) === 401, 1000);

    // Both files exist: only they are watched, and an editor's rename-over save ends a file
    // watch, so the watch must be re-armed each time.
    for (const path of ["/b", "/c", "/d"]) {
      const tmp = `${root}/pylons/plain/pylon.yaml.tmp`;
      await Deno.writeTextFile(tmp, yaml("plain", path));
      await Deno.rename(tmp, `${root}/pylons/plain/pylon.yaml`);
      await eventually(async () => (await status(`${d.url}${path}`)) === 202, 1000);
    }
    const reloads = () => d.logs.filter((l) => /event=pylon\.reloaded pylon=plain/.test(l)).length;
    const before = reloads();
    await Deno.writeTextFile(`${root}/pylons/plain/.env`, "UNUSED=2\n");
    await eventually(() => Promise.resolve(reloads() > before), 1000);
  } finally {
    await d.stop();
    await Deno.remove(root, { recursive: true });
  }
});
