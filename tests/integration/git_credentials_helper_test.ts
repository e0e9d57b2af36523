/**
 * Issue 19, item 4, the fast parts: the channel's `git-credential` route with host mounts (only
 * that route, only with the job's token, gone with the job), and the image's credential helper
 * answering for the job's repository alone. The slow end-to-end test with real Docker and git is
 * `git_credentials_push_test.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { issueJobToken, revokeJobToken } from "../../src/agent_channel/mod.ts";
import { createAgentChannelRoutes } from "../../src/daemon/routes/agent_channel.ts";
import { createLogger } from "../../src/log/mod.ts";
import { agentCredentialJson, parseRepoUrl } from "../../src/workspace/mod.ts";
import { credentialMatches } from "../../agents/_shared/pylon-init.mjs";

const CREDENTIAL = agentCredentialJson(
  parseRepoUrl("https://x-access-token:ghs_secret@git.example.com/acme/app.git", "/tmp"),
)!;

Deno.test("git-credential with host mounts: the job's token only, that route only, dropped, gone after the job", async () => {
  const jobsDir = await Deno.makeTempDir({ prefix: "pylon-gitcred-" });
  try {
    const app = createAgentChannelRoutes({
      jobsDir,
      clock: { now: () => new Date() },
      log: createLogger({ write: () => {}, level: "error" }),
      gitCredentialOnly: true,
    });
    const token = await issueJobToken(jobsDir, "job-a", {
      expiresAt: Date.now() + 60_000,
      stateJob: "job-a",
    });
    await Deno.writeTextFile(`${jobsDir}/job-a/channel/git-credential.json`, CREDENTIAL);
    await Deno.writeTextFile(`${jobsDir}/job-a/channel/bundle.json`, '{"version":1}\n');
    const call = (path: string, t = token, init: RequestInit = {}) =>
      app.request(`/jobs/job-a/${path}`, {
        ...init,
        headers: { authorization: `Bearer ${t}` },
      });

    const ok = await call("git-credential");
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("cache-control"), "no-store");
    assert.deepEqual(await ok.json(), {
      origin: "https://git.example.com",
      username: "x-access-token",
      password: "ghs_secret",
      path: "acme/app.git",
    });
    const wrong = await call("git-credential", "x".repeat(43));
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    // The rest of the channel goes through bind mounts with host mounts: not served.
    for (const [path, method] of [["bundle", "GET"], ["result", "PUT"], ["state", "PUT"]]) {
      const res = await call(path!, token, {
        method: method!,
        body: method === "PUT" ? "{}" : null,
      });
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }

    // The init step drops it once cloned when the job may not push: the token then gets none.
    const drop = await call("git-credential", token, { method: "DELETE" });
    assert.equal(drop.status, 204);
    const gone = await call("git-credential");
    assert.equal(gone.status, 404);
    await gone.body?.cancel();
    await Deno.writeTextFile(`${jobsDir}/job-a/channel/git-credential.json`, CREDENTIAL);

    await revokeJobToken(jobsDir, "job-a");
    const after = await call("git-credential");
    assert.equal(after.status, 401);
    await after.body?.cancel();
    await assert.rejects(Deno.stat(`${jobsDir}/job-a/channel/git-credential.json`));
  } finally {
    await Deno.remove(jobsDir, { recursive: true });
  }
});

Deno.test("the image's credential helper answers for the job's repository only", () => {
  const c = JSON.parse(CREDENTIAL);
  const ask = (protocol: string, host: string, path?: string) =>
    credentialMatches({ protocol, host, ...(path === undefined ? {} : { path }) }, c);
  assert.equal(ask("https", "git.example.com", "acme/app.git"), true);
  assert.equal(ask("https", "git.example.com", "/acme/app.git/"), true);
  assert.equal(ask("https", "git.example.com", "acme/other.git"), false, "another repository");
  assert.equal(ask("https", "git.example.com"), false, "no path: git was not told useHttpPath");
  assert.equal(ask("http", "git.example.com", "acme/app.git"), false, "another scheme");
  assert.equal(ask("https", "evil.example.com", "acme/app.git"), false, "another host");
  // A credential without a path (an older daemon's) is the origin's.
  assert.equal(
    credentialMatches({ protocol: "https", host: "git.example.com" }, { ...c, path: undefined }),
    true,
  );
});
