import assert from "node:assert/strict";
import { DockerError, HINT_PERMISSION } from "../../src/docker/mod.ts";
import { connectError, envValues, redact } from "../../src/docker/errors.ts";
import { jsonLines, readProgress } from "../../src/docker/progress.ts";

const enc = new TextEncoder();

Deno.test("jsonLines() parses objects split across chunks and inside UTF-8 characters", async () => {
  const bytes = enc.encode(
    '{"stream":"Step 1 ✓\\n"}\r\n\r\n{"aux":{"ID":"sha256:ab"}}\n{"status":"done"}',
  );
  const cut = bytes.indexOf(0x9c); // inside the 3-byte "✓"
  const values = [];
  for await (
    const v of jsonLines([bytes.subarray(0, 5), bytes.subarray(5, cut), bytes.subarray(cut)])
  ) {
    values.push(v);
  }
  assert.deepEqual(values, [{ stream: "Step 1 ✓\n" }, { aux: { ID: "sha256:ab" } }, {
    status: "done",
  }]);
});

Deno.test("readProgress() returns the image id and throws on an error event", async () => {
  const ok = await readProgress([enc.encode('{"status":"sha256:0123"}\n')], {
    op: "image.import",
    action: "import",
  });
  assert.equal(ok.imageId, "sha256:0123");
  const lines = enc.encode('{"status":"Pulling"}\n{"error":"manifest unknown"}\n');
  const ctx = { op: "image.pull", action: 'pull image "x:1"', image: "x:1" };
  const err = await readProgress([lines], ctx).catch((e) => e);
  assert.ok(err instanceof DockerError);
  assert.equal(err.message, 'Cannot pull image "x:1": manifest unknown');
  assert.match(err.hint ?? "", /"x:1"/);
});

Deno.test("connectError() maps permission and refusal to hints", () => {
  const ctx = { op: "ping", action: "reach the Docker Engine" };
  const wrap = (m: string) =>
    new TypeError("fetch failed", { cause: new Error(`client error (Connect): ${m}`) });
  const denied = connectError(ctx, "/var/run/docker.sock", wrap("Permission denied (os error 13)"));
  assert.equal(
    denied.message,
    "Cannot reach the Docker Engine: permission denied on the Docker socket /var/run/docker.sock",
  );
  assert.equal(denied.hint, HINT_PERMISSION);
  const refused = connectError(
    ctx,
    "tcp://10.0.0.5:2375",
    wrap("Connection refused (os error 111)"),
  );
  assert.match(refused.message, /nothing answers on tcp:\/\/10\.0\.0\.5:2375/);
  assert.match(refused.hint ?? "", /is Docker running\?/);
});

Deno.test("redact() hides env values of three or more characters", () => {
  const secrets = envValues(["A=hunter2", "B=", "C=ab", "D=x=y=z"]);
  assert.deepEqual(secrets, ["hunter2", "ab", "x=y=z"]);
  assert.equal(redact("bad hunter2 ab x=y=z", secrets), "bad *** ab ***");
});
