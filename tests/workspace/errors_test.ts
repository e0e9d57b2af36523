import assert from "node:assert/strict";
import { remoteReason } from "../../src/workspace/mod.ts";

Deno.test("remoteReason() does not take a port or path containing 403 for a refusal", () => {
  const stderr = "fatal: unable to access 'http://127.0.0.1:34033/acme/app.git/': " +
    "Empty reply from server";
  assert.match(
    remoteReason(stderr, "http://127.0.0.1:34033/acme/app.git").reason,
    /cannot connect to 127\.0\.0\.1/,
  );
  assert.equal(
    remoteReason(
      "fatal: unable to access 'https://h/r.git/': The requested URL returned error: 403",
    )
      .reason,
    "the server wants credentials",
  );
});
