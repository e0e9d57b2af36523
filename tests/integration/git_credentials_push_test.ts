/**
 * Issue 19, item 4: an agent pushes with a credential pylon serves per job, never one at rest in
 * its container. The real daemon and Docker runner, a real repository served over loopback HTTP
 * by `git http-backend` behind a server that checks Basic credentials, and the agent (a shell
 * script on pylon's Claude Code image, which brings node, git and the credential helper), in both
 * mount modes (`docker.mounts: host`, the default, and `none`):
 *
 * - the agent commits and pushes; the push arrives with the repository's credential;
 * - a hunt inside the container (`grep -r` over every file, every process's `environ`, `env`)
 *   finds no trace of the credential, and the workspace's `.git/config` holds none;
 * - the helper answers for the job's repository only (another path on the same host gets
 *   nothing);
 * - after the job, the channel refuses the job's token and the daemon's copy of the credential
 *   is gone.
 *
 * Slow tier (`PYLON_SLOW_TESTS=1`): it needs the Claude Code image, like the no-mounts tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { startGitHttpServer } from "../fakes/git_http_server.ts";
import { createFixture, HERMETIC_ENV } from "../workspace/_fixture.ts";
import { openTestDocker } from "./_docker.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { mockOnClaudeImage, startAgentProxy } from "./no_mounts_helpers.ts";

printSlowSkipReason("git credentials served per job");

/** The repository's token, in two halves: the agent joins them, so no file holds it whole. */
const TOKEN_A = "ghs_PUSHTOKEN";
const TOKEN_B = crypto.randomUUID().replaceAll("-", "");
const TOKEN = TOKEN_A + TOKEN_B;

/** The agent: commit, push, ask for another repository's credential, then hunt for the token. */
const AGENT_SCRIPT = [
  "set -e",
  'echo "pushed by the agent" > pushed.txt',
  "git add pushed.txt",
  "git -c user.name=agent -c user.email=agent@example.com commit -qm 'agent commit'",
  "git push -q origin HEAD:refs/heads/from-agent-$RUN",
  // The helper answers for this repository only: another path on the same host gets nothing.
  'host=$(git remote get-url origin | sed -E "s#^http://([^/]*)/.*#\\1#")',
  'other=$(printf "protocol=http\\nhost=%s\\npath=other.git\\n\\n" "$host" | ' +
  "GIT_TERMINAL_PROMPT=0 git credential fill 2>/dev/null | grep -c ^password= || true)",
  `K="${TOKEN_A}"; K="$K"${TOKEN_B}`,
  'files=$(grep -rlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "$K" / | wc -l)',
  // The control: the same hunt finds the first half, which the prompt file holds.
  `ctl=$(grep -rlsF --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev "${TOKEN_A}" / | wc -l)`,
  "environ=$(for f in /proc/[0-9]*/environ; do tr '\\0' '\\n' < \"$f\"; done 2>/dev/null | " +
  'grep -cF "$K" || true)',
  'envs=$(env | grep -cF "$K" || true)',
  'config=$(grep -cF "$K" .git/config || true)',
  // (pylon renders `${…}` in prompts: plain `$VAR` here)
  "tok=$PYLON_AGENT_TOKEN",
  `printf '{"status":"completed","result":"ctl=%s files=%s environ=%s env=%s config=%s other=%s token=%s"}' ` +
  '"$ctl" "$files" "$environ" "$envs" "$config" "$other" "$tok" > "$PYLON_OUT/result.json"',
].join("\n");

/** A job that may not push: it waits, so the test can look at the daemon's files meanwhile. */
const READ_ONLY_SCRIPT = [
  "sleep 4",
  `printf '{"status":"completed","result":"read %s"}' "$(cat feature.ts)" > "$PYLON_OUT/result.json"`,
].join("\n");

function pylonYaml(name: string, image: string, repo: string, push = true): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "workspace:",
    "  type: git-clone",
    `  repo: ${JSON.stringify(repo)}`,
    "  ref: feature",
    ...(push ? ["  push: true"] : []),
    "agent:",
    "  type: custom",
    `  image: ${JSON.stringify(image)}`,
    "  network: host",
    `  prompt: ${JSON.stringify(push ? AGENT_SCRIPT : READ_ONLY_SCRIPT)}`,
    "  env:",
    `    RUN: ${name}`,
  ].join("\n") + "\n";
}

async function branchOf(bare: string, branch: string): Promise<string> {
  const out = await new Deno.Command("git", {
    args: ["--git-dir", bare, "log", "--format=%s", "-1", branch],
    env: HERMETIC_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

for (const mounts of ["host", "none"] as const) {
  Deno.test({
    name: `git credentials (docker.mounts: ${mounts}): the agent pushes; no credential at rest`,
    ignore: SLOW_IGNORE,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      using docker = openTestDocker();
      const image = await mockOnClaudeImage(docker);
      await using fx = await createFixture();
      await using git = startGitHttpServer(fx.served, { user: "x-access-token", password: TOKEN });
      const repo = git.url("app.git").replace("http://", `http://x-access-token:${TOKEN}@`);
      const proxy = startAgentProxy();
      const root = await Deno.makeTempDir({ prefix: `pylon-gitcred-${mounts}-` });
      const name = `push${mounts}`;
      await writeHome(root, {
        "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  mounts: ${mounts}\n`,
        [`pylons/${name}/pylon.yaml`]: pylonYaml(name, image, repo),
        "pylons/readonly/pylon.yaml": pylonYaml("readonly", image, repo, false),
      });
      const d = await startDockerDaemon(root, { proxy });
      try {
        const id = await postJob(d, `/${name}`);
        const job = await finishedJob(d, id, 180_000);
        const log = await Deno.readTextFile(`${root}/jobs/${id}.log`).catch(() => "");
        assert.equal(job.status, "completed", `${JSON.stringify(job)}\n${log}`);

        // The push arrived, with the repository's credential.
        assert.equal(
          await branchOf(join(fx.served, "app.git"), `from-agent-${name}`),
          "agent commit",
        );
        assert.ok(git.logins.includes(`x-access-token:${TOKEN}`));

        // Nothing in the container held it; the helper refused another repository.
        const result = String(job.result);
        assert.match(
          result,
          /^ctl=[1-9]\d* files=0 environ=0 env=0 config=0 other=0 token=\S{40,}$/,
          result,
        );
        assert.ok(!log.includes(TOKEN), "the token is in the job's log");
        const jobDir = `${root}/jobs/${id}`;
        await assert.rejects(Deno.stat(`${jobDir}/git-credentials`));

        // After the job: the token is refused and the daemon's copy of the credential is gone.
        const token = result.slice(result.indexOf("token=") + 6);
        const after = await fetch(`${d.url}/agent/v1/jobs/${id}/git-credential`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(after.status, 401);
        await after.body?.cancel();
        await assert.rejects(Deno.stat(`${jobDir}/channel/git-credential.json`));
        await assert.rejects(Deno.stat(`${jobDir}/channel/access.json`));

        if (mounts === "none") {
          // Without workspace.push the daemon stops serving the credential once the init step
          // has cloned: while the agent runs, there is none to ask for.
          const rid = await postJob(d, "/readonly");
          await eventually(async () => {
            const text = await Deno.readTextFile(`${root}/jobs/${rid}.log`).catch(() => "");
            return text.includes("starting the agent") ? true : undefined;
          }, 60_000);
          await assert.rejects(Deno.stat(`${root}/jobs/${rid}/channel/git-credential.json`));
          const rjob = await finishedJob(d, rid, 180_000);
          assert.equal(rjob.status, "completed", JSON.stringify(rjob));
          assert.equal(rjob.result, "read export const f = 1;");
        }
      } finally {
        await d.stop();
        await proxy.close();
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    },
  });
}
