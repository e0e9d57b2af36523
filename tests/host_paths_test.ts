import assert from "node:assert/strict";
import {
  blockedHostPath,
  blockedMountTarget,
  checkHostPath,
  dockerSocketOf,
  type HostPathContext,
  hostPathContext,
  resolveExisting,
} from "../src/host_paths.ts";

const CTX: HostPathContext = {
  homes: ["/home/ada"],
  pylonHomes: ["/srv/pylon"],
  dockerSockets: ["/var/run/docker.sock", "/run/docker.sock", "/srv/docker/engine.sock"],
};

Deno.test("blockedHostPath() refuses the host, homes, credentials, the pylon home and the socket", () => {
  for (
    const p of [
      "/",
      "/root",
      "/root/.ssh",
      "/home",
      "/home/ada",
      "/home/bob",
      "/etc",
      "/etc/ssh",
      "/proc/1",
      "/sys",
      "/dev/sda",
      "/boot",
      "/var/lib/docker/volumes",
      "/var/lib",
      "/var",
      "/var/run",
      "/run",
      "/var/run/docker.sock",
      "/srv/docker/engine.sock",
      "/srv/docker",
      "/srv",
      "/srv/pylon",
      "/srv/pylon/daemon.token",
      "/srv/pylon/pylons/other/.env",
      "/home/ada/.ssh",
      "/home/ada/.gnupg/private-keys-v1.d",
      "/home/ada/.aws",
      "/home/ada/.docker/config.json",
      "/home/ada/.kube",
      "/home/ada/.config/gh",
      "/home/ada/.claude",
      "/opt/build/.ssh",
      "/home/ada/projects/../../../etc",
    ]
  ) {
    assert.ok(blockedHostPath(p, CTX), p);
  }
  for (
    const p of [
      "/home/ada/projects/app",
      "/home/ada/.config/nvim",
      "/opt/tools",
      "/var/log/app",
      "/tmp/x",
      "/srv/data",
    ]
  ) {
    assert.equal(blockedHostPath(p, CTX), undefined, p);
  }
  assert.match(blockedHostPath("/srv/pylon/x", CTX)!, /inside the pylon home \/srv\/pylon/);
  assert.match(blockedHostPath("/srv/docker", CTX)!, /holds the Docker socket/);
});

Deno.test("blockedMountTarget() keeps /workspace and /pylon to pylon", () => {
  for (const t of ["/workspace", "/workspace/x", "/pylon", "/pylon/out/", "/pylon//state"]) {
    assert.ok(blockedMountTarget(t), t);
  }
  for (const t of ["/data", "/workspaces", "/home/pylon/.cache", "/pylonx"]) {
    assert.equal(blockedMountTarget(t), undefined, t);
  }
});

Deno.test("dockerSocketOf() follows DOCKER_HOST", () => {
  assert.equal(dockerSocketOf({}), "/var/run/docker.sock");
  assert.equal(dockerSocketOf({ DOCKER_HOST: "unix:///srv/d.sock" }), "/srv/d.sock");
  assert.equal(dockerSocketOf({ DOCKER_HOST: "/srv/d.sock" }), "/srv/d.sock");
  assert.equal(dockerSocketOf({ DOCKER_HOST: "tcp://10.0.0.5:2375" }), undefined);
});

Deno.test("checkHostPath() resolves links, also under a path that does not exist yet", async () => {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "pylon-hp-" }));
  try {
    const ctx = await hostPathContext({
      env: { HOME: `${root}/home`, DOCKER_HOST: `unix://${root}/run/engine.sock` },
      pylonHome: `${root}/pylon`,
    });
    await Deno.mkdir(`${root}/pylon/pylons/a`, { recursive: true });
    await Deno.mkdir(`${root}/run`);
    await Deno.symlink(`${root}/pylon`, `${root}/innocent`);
    await Deno.symlink(`${root}/run`, `${root}/tools`);
    const viaLink = await checkHostPath(`${root}/innocent/pylons/a`, ctx);
    assert.equal(viaLink.ok, false);
    assert.match(
      !viaLink.ok ? viaLink.problem : "",
      /resolves to .*\/pylon\/pylons\/a.*pylon home/,
    );
    const notYet = await checkHostPath(`${root}/innocent/not/there/yet`, ctx);
    assert.equal(notYet.ok, false, "a link in a parent counts before the leaf exists");
    const socketDir = await checkHostPath(`${root}/tools`, ctx);
    assert.match(!socketDir.ok ? socketDir.problem : "", /holds the Docker socket/);
    await Deno.mkdir(`${root}/data`);
    assert.deepEqual(await checkHostPath(`${root}/data`, ctx), { ok: true, real: `${root}/data` });
    assert.equal(await resolveExisting(`${root}/innocent/x/y`), `${root}/pylon/x/y`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
