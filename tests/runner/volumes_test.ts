import assert from "node:assert/strict";
import { PylonError } from "../../src/errors.ts";
import { blockedReason, resolveVolumes } from "../../src/runner/volumes.ts";

Deno.test("blockedReason() refuses the host's sensitive places and the Docker socket", () => {
  for (
    const p of [
      "/",
      "/etc",
      "/etc/ssh",
      "/root",
      "/proc/1",
      "/sys",
      "/dev/sda",
      "/boot",
      "/var/run/docker.sock",
      "/run/docker.sock",
      "/var/run",
      "/run",
      "/var",
      "/var/lib/docker/volumes",
      "/home/u/../../etc",
    ]
  ) {
    assert.ok(blockedReason(p), p);
  }
  for (const p of ["/home/u/.aws", "/srv/data", "/opt/tools", "/var/log/app", "/tmp/x"]) {
    assert.equal(blockedReason(p), undefined, p);
  }
});

Deno.test("resolveVolumes() expands ~, defaults to read-only and honours rw", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${home}/.aws`);
    await Deno.mkdir(`${home}/scripts`);
    const mounts = await resolveVolumes(["~/.aws:/home/pylon/.aws", `${home}/scripts:/opt/s:rw`], {
      home,
    });
    assert.deepEqual(mounts, [
      { Type: "bind", Source: `${home}/.aws`, Target: "/home/pylon/.aws", ReadOnly: true },
      { Type: "bind", Source: `${home}/scripts`, Target: "/opt/s", ReadOnly: false },
    ]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("resolveVolumes() follows symlinks before deciding, and names the entry", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.symlink("/etc", `${home}/innocent`);
    await Deno.symlink("/var/run/docker.sock", `${home}/sock`);
    for (
      const entry of [`${home}/innocent:/x`, "~/sock:/var/run/docker.sock", `${home}/../../etc:/e`]
    ) {
      await assert.rejects(
        resolveVolumes([entry], { home }),
        (e: unknown) =>
          e instanceof PylonError && e.message.includes(`"${entry}"`) &&
          /not allowed/.test(e.message),
        entry,
      );
    }
    await assert.rejects(resolveVolumes([`${home}/missing:/m`], { home }), /does not exist/);
    await assert.rejects(
      resolveVolumes(["relative:/m"], { home }),
      /absolute path or start with ~/,
    );
    await assert.rejects(resolveVolumes([`${home}:/m:rx`], { home }), /mode must be ro or rw/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
