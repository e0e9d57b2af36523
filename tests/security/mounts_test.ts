/**
 * The probe of issue 12, item 6: the mount blocklist let a pylon mount `$PYLON_HOME` (an agent
 * read `daemon.token` and other pylons' `.env` files, and approved another pylon's job through
 * the API), credential folders, and the Docker socket actually in use when `DOCKER_HOST` points
 * elsewhere. One rule now covers `agent.volumes` and `local` workspaces, when a pylon loads and
 * when its job runs, after links are resolved.
 */

import assert from "node:assert/strict";
import { createPylonPaths, loadGlobalConfig, loadPylon } from "../../src/config/mod.ts";
import { ConfigError } from "../../src/errors.ts";
import { createDockerRunner } from "../../src/runner/mod.ts";
import { startTestDaemon, type TestDaemon } from "../_helpers/daemon.ts";
import { dockerTest } from "../integration/_docker.ts";
import {
  finished,
  removeJobContainers,
  startAttackedDaemon,
  trigger,
  writeAttackerHome,
} from "./_attacker.ts";

/** The agent prints what it finds at `/loot` as its result. */
const LOOTER = 'printf \'{"status":"completed","result":"%s"}\' ' +
  '"$(cat /loot/daemon.token /loot/pylons/*/.env /loot/* 2>&1 | tr -d \'"\\n\\\\\')" ' +
  '> "$PYLON_OUT/result.json"';

async function post(d: TestDaemon, name: string): Promise<Response> {
  return await fetch(`${d.url}/${name}`, { method: "POST", body: "{}" });
}

dockerTest(
  "a pylon cannot mount the pylon home, by volume or local workspace: it does not load",
  async (docker) => {
    const root = await Deno.makeTempDir({ prefix: "pylon-sec-mount-" });
    const ids: string[] = [];
    await writeAttackerHome(docker, {
      thief: { script: LOOTER, extra: ["  volumes:", `    - "${root}:/loot"`] },
      parent: { script: LOOTER, extra: ["  volumes:", `    - "${root}/..:/loot"`] },
      local: {
        script: LOOTER,
        extra: ["workspace:", "  type: local", `  path: "${root}/pylons"`],
      },
      victim: { script: "true" },
    }, { root });
    await Deno.writeTextFile(`${root}/pylons/victim/.env`, "VICTIM_KEY=sk-victim-123\n");
    const d = await startAttackedDaemon(root);
    try {
      for (const name of ["thief", "parent", "local"]) {
        const res = await post(d, name);
        const body = await res.json();
        if (body.job_id) ids.push(body.job_id);
        assert.equal(res.status, 503, `${name}: ${JSON.stringify(body)}`);
      }
      const invalid = d.logs.filter((l) => l.includes("event=pylon.invalid")).join("\n");
      assert.match(invalid, /pylon=thief .*agent\.volumes.*inside the pylon home/);
      assert.match(invalid, /pylon=parent .*agent\.volumes.*holds /);
      assert.match(invalid, /pylon=local .*workspace\.path.*inside the pylon home/);
      const victim = await finished(d, await trigger(d, "victim"));
      assert.equal(victim.status, "completed", "the other pylons still run");
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "a volume whose link is pointed at the pylon home after loading is refused when the job runs",
  async (docker) => {
    const root = await Deno.makeTempDir({ prefix: "pylon-sec-mount-" });
    const outside = await Deno.makeTempDir({ prefix: "pylon-sec-shared-" });
    await Deno.mkdir(`${outside}/real`);
    await Deno.symlink(`${outside}/real`, `${outside}/shared`);
    await writeAttackerHome(docker, {
      thief: { script: LOOTER, extra: ["  volumes:", `    - "${outside}/shared:/loot"`] },
    }, { root });
    const d = await startAttackedDaemon(root);
    const ids: string[] = [];
    try {
      // Loaded while harmless; then the link moves (a previous job, another user, a script).
      await Deno.remove(`${outside}/shared`);
      await Deno.symlink(root, `${outside}/shared`);
      const id = await trigger(d, "thief");
      ids.push(id);
      const job = await finished(d, id);
      const token = (await Deno.readTextFile(`${root}/daemon.token`)).trim();
      assert.ok(!JSON.stringify(job).includes(token), "the daemon token did not leave");
      assert.equal(job.status, "failed", JSON.stringify(job));
      assert.match(
        String(job.error),
        /not allowed: it resolves to .*, and .* is inside the pylon home/,
      );
      assert.deepEqual(
        await docker.listContainers({ all: true, labels: { "pylon.job": id } }),
        [],
        "no container was created",
      );
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
      await Deno.remove(outside, { recursive: true });
    }
  },
);

dockerTest(
  "the Docker socket in use is protected when DOCKER_HOST points elsewhere",
  async (docker) => {
    const root = await Deno.makeTempDir({ prefix: "pylon-sec-mount-" });
    const engine = await Deno.makeTempDir({ prefix: "pylon-sec-engine-" });
    // This daemon talks to the Engine through a socket of its own choosing.
    await Deno.symlink("/var/run/docker.sock", `${engine}/docker.sock`);
    const env = { DOCKER_HOST: `unix://${engine}/docker.sock` };
    await writeAttackerHome(docker, {
      thief: {
        script: 'printf \'{"status":"completed","result":"%s"}\' "$(ls /engine)" ' +
          '> "$PYLON_OUT/result.json"',
        extra: ["  volumes:", `    - "${engine}:/engine:rw"`],
      },
    }, { root });
    const d = await startTestDaemon(root, {
      env,
      createRunner: (config) =>
        createDockerRunner(config, {
          paths: createPylonPaths(root),
          env: { HOME: root, ...env },
          output: () => {},
          clock: { now: () => new Date() },
        }),
    });
    const ids: string[] = [];
    try {
      const res = await post(d, "thief");
      const body = await res.json();
      if (body.job_id) ids.push(body.job_id);
      assert.equal(res.status, 503, JSON.stringify(body));
      await d.waitForLog(/event=pylon\.invalid pylon=thief .*holds the Docker socket/);
    } finally {
      await d.stop();
      await removeJobContainers(docker, ids);
      await Deno.remove(root, { recursive: true });
      await Deno.remove(engine, { recursive: true });
    }
  },
);

Deno.test("loading a pylon refuses credential folders, the pylon home and pylon's own mount points", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "pylon-sec-mount-" }));
  const home = `${root}/home/ada`;
  const pylonHome = `${home}/.pylon`;
  const paths = createPylonPaths(pylonHome);
  try {
    await Deno.mkdir(`${home}/.ssh`, { recursive: true });
    await Deno.mkdir(`${root}/home/bob/.aws`, { recursive: true });
    await Deno.mkdir(`${root}/data`);
    await Deno.mkdir(paths.pylonDir("greedy"), { recursive: true });
    const volumes = [
      "~/.ssh:/home/pylon/.ssh",
      `${root}/home/bob/.aws:/aws`,
      "~/.config/gh:/gh",
      "~:/h",
      `${pylonHome}/.env:/e`,
      `${root}/data:/workspace/data`,
      `${root}/data:/pylon/out`,
      `${root}/data:/data`,
    ];
    await Deno.writeTextFile(
      paths.pylonConfig("greedy"),
      "name: greedy\ntrigger:\n  type: webhook\n  path: /greedy\nagent:\n  prompt: hi\n" +
        `  volumes:\n${volumes.map((v) => `    - "${v}"`).join("\n")}\n`,
    );
    const global = await loadGlobalConfig(paths, { HOME: home, PYLON_HOME: pylonHome });
    const error = await loadPylon(paths, "greedy", global).then(() => undefined, (e) => e);
    assert.ok(error instanceof ConfigError, String(error));
    const refused = error.issues.map((i) => i.keyPath).sort();
    assert.deepEqual(refused, volumes.slice(0, -1).map((_, i) => `agent.volumes[${i}]`));
    const text = error.issues.map((i) => i.message).join("\n");
    assert.match(text, /\.ssh is a credential folder \(\.ssh\)/);
    assert.match(text, /bob\/\.aws is a credential folder \(\.aws\)/);
    assert.match(text, /inside the pylon home/);
    assert.match(text, /\/workspace\/data is at or under \/workspace, which pylon mounts itself/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
