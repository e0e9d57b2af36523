import assert from "node:assert/strict";
import { PylonError } from "../../src/errors.ts";
import { hostPathContext } from "../../src/host_paths.ts";
import { resolveVolumes } from "../../src/runner/volumes.ts";

async function setup() {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "pylon-vol-" }));
  const home = `${root}/home`;
  await Deno.mkdir(home);
  const hostPaths = await hostPathContext({ env: { HOME: home }, pylonHome: `${home}/.pylon` });
  return {
    root,
    home,
    options: { home, hostPaths },
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

Deno.test("resolveVolumes() expands ~, defaults to read-only and honours rw", async () => {
  await using t = await setup();
  await Deno.mkdir(`${t.home}/data`);
  await Deno.mkdir(`${t.home}/scripts`);
  const mounts = await resolveVolumes(
    ["~/data:/home/pylon/data", `${t.home}/scripts:/opt/s:rw`],
    t.options,
  );
  assert.deepEqual(mounts, [
    { Type: "bind", Source: `${t.home}/data`, Target: "/home/pylon/data", ReadOnly: true },
    { Type: "bind", Source: `${t.home}/scripts`, Target: "/opt/s", ReadOnly: false },
  ]);
});

Deno.test("resolveVolumes() follows symlinks before deciding, and names the entry", async () => {
  await using t = await setup();
  const home = t.home;
  await Deno.symlink("/etc", `${home}/innocent`);
  await Deno.symlink("/var/run/docker.sock", `${home}/sock`);
  await Deno.mkdir(`${home}/.aws`);
  for (
    const entry of [
      `${home}/innocent:/x`,
      "~/sock:/var/run/docker.sock",
      `${home}/../../../etc:/e`,
      "~/.aws:/home/pylon/.aws",
      `${home}:/h`,
      `${home}/data:/workspace/data`,
      `${home}/data:/pylon`,
    ]
  ) {
    await assert.rejects(
      resolveVolumes([entry], t.options),
      (e: unknown) =>
        e instanceof PylonError && e.message.includes(`"${entry}"`) &&
        /not allowed/.test(e.message),
      entry,
    );
  }
  await assert.rejects(resolveVolumes([`${home}/missing:/m`], t.options), /does not exist/);
  await assert.rejects(
    resolveVolumes(["relative:/m"], t.options),
    /absolute path or start with ~/,
  );
  await assert.rejects(resolveVolumes([`${home}:/m:rx`], t.options), /mode must be ro or rw/);
});
