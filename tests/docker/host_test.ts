import assert from "node:assert/strict";
import { DockerError, parseDockerHost } from "../../src/docker/mod.ts";

Deno.test("parseDockerHost() defaults to /var/run/docker.sock", () => {
  assert.deepEqual(parseDockerHost(undefined, {}), {
    kind: "unix",
    socketPath: "/var/run/docker.sock",
    baseUrl: "http://docker",
    display: "/var/run/docker.sock",
  });
  assert.equal(parseDockerHost(undefined, { DOCKER_HOST: "" }).kind, "unix");
});

Deno.test("parseDockerHost() reads unix sockets from DOCKER_HOST or the option", () => {
  const e = parseDockerHost(undefined, { DOCKER_HOST: "unix:///run/user/1000/docker.sock" });
  assert.equal(e.kind === "unix" && e.socketPath, "/run/user/1000/docker.sock");
  const o = parseDockerHost("/tmp/d.sock", { DOCKER_HOST: "tcp://ignored:1" });
  assert.equal(o.kind === "unix" && o.socketPath, "/tmp/d.sock");
});

Deno.test("parseDockerHost() turns tcp:// into http(s) with default ports", async (t) => {
  const cases: [string, Record<string, string>, string, boolean][] = [
    ["tcp://10.0.0.5:2375", {}, "http://10.0.0.5:2375", false],
    ["tcp://docker.example", {}, "http://docker.example:2375", false],
    ["tcp://docker.example", { DOCKER_TLS_VERIFY: "1" }, "https://docker.example:2376", true],
    ["tcp://docker.example:9999", { DOCKER_TLS_VERIFY: "0" }, "http://docker.example:9999", false],
    ["https://docker.example", {}, "https://docker.example:2376", true],
    ["http://127.0.0.1:8080/prefix/", {}, "http://127.0.0.1:8080/prefix", false],
    ["tcp://[::1]:2375", {}, "http://[::1]:2375", false],
  ];
  for (const [host, env, baseUrl, tls] of cases) {
    await t.step(`${host} ${JSON.stringify(env)}`, () => {
      const e = parseDockerHost(host, env);
      assert.equal(e.kind, "tcp");
      assert.equal(e.baseUrl, baseUrl);
      assert.equal(e.kind === "tcp" && e.tls, tls);
    });
  }
});

Deno.test("parseDockerHost() refuses unsupported or malformed values with a hint", () => {
  for (
    const bad of [
      "ssh://me@host",
      "npipe:////./pipe/docker_engine",
      "unix://relative.sock",
      "localhost:2375",
      "tcp://",
    ]
  ) {
    assert.throws(() => parseDockerHost(bad), (e: unknown) => {
      assert.ok(e instanceof DockerError, bad);
      assert.match(e.message, /^Cannot use DOCKER_HOST "/);
      assert.match(e.hint ?? "", /unix:\/\/\//);
      return true;
    });
  }
});
