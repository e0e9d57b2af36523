/**
 * The github channel end to end with real containers: a pull request reviewed by an agent in
 * Docker, questions in its comments continuing the same agent state (a chain of them too), and a
 * new commit stopping the running container of an outdated review.
 */

import assert from "node:assert/strict";
import { eventually, startTestDaemon, type TestDaemon, writeHome } from "../_helpers/daemon.ts";
import { startFakeGitHub } from "../fakes/github_server.ts";
import {
  githubHeaders,
  issueCommentEvent,
  OWNER,
  PR_NUMBER,
  prEvent,
  REPO,
} from "../fixtures/github/mod.ts";
import { countingAgentYaml, dockerRunnerFor } from "./_agent.ts";
import { dockerTest, ensureTestImage } from "./_docker.ts";

function send(d: TestDaemon, event: string, body: unknown): Promise<Record<string, string>> {
  return fetch(`${d.url}/review`, {
    method: "POST",
    headers: githubHeaders(event),
    body: JSON.stringify(body),
  }).then((r) => r.json());
}

dockerTest(
  "questions on a reviewed pull request continue the review's agent state, one comment each",
  async (docker) => {
    const image = await ensureTestImage(docker);
    await using github = startFakeGitHub({ token: "ghp_test" });
    const root = await Deno.makeTempDir({ prefix: "pylon-gh-e2e-" });
    await writeHome(root, {
      "pylons/review/pylon.yaml": [
        "name: review",
        "trigger:",
        "  type: webhook",
        "  path: /review",
        "channel:",
        "  type: github",
        "  github:",
        "    token: ghp_test",
        `    api_url: ${github.url}`,
        '    mention: "@pylon"',
        "agent:",
        '  prompt: "review the pull request"',
        ...countingAgentYaml(image),
      ].join("\n") + "\n",
    });
    const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
    const comments = () => github.comments(OWNER, REPO, PR_NUMBER);
    const commentWith = (text: string) =>
      eventually(() => Promise.resolve(comments().find((c) => c.body.includes(text))), 60_000);
    try {
      await send(d, "pull_request", prEvent("opened", { headSha: "a".repeat(40) }));
      const review = await commentWith("**run 1** (prompt: review the pull request)");
      // The status follows the comment (it links to it).
      await eventually(() =>
        Promise.resolve(
          github.statuses(OWNER, REPO, "a".repeat(40)).at(-1)?.state === "success" || undefined,
        )
      );

      const ask = (body: string) =>
        send(d, "issue_comment", issueCommentEvent({ body, onPullRequest: true, sender: "ada" }));
      assert.equal((await ask("@pylon why the retry loop")).status, "queued");
      // The agent's state folder counted the review: this is its second run.
      const first = await commentWith("**run 2** (prompt: ada asks on pylon why the retry loop)");
      assert.match(first!.body, /^<!-- pylon:review follow-up [0-9a-f]{8} -->\n> ada asks on #42:/);
      await ask("@pylon and the timeout");
      await commentWith("**run 3** (prompt: ada asks on pylon and the timeout)");

      assert.equal(comments().length, 3, "the review and one answer per question");
      assert.equal(comments()[0]!.body, review!.body, "the review comment is untouched");
    } finally {
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
);

dockerTest(
  "a new commit stops the running container of the outdated review",
  async (docker) => {
    const image = await ensureTestImage(docker);
    await using github = startFakeGitHub({ token: "ghp_test" });
    const root = await Deno.makeTempDir({ prefix: "pylon-gh-e2e-" });
    // The first commit's review takes a minute; the next one answers at once.
    const prompt = '{{ if eq .body.action "opened" }}sleep 60; {{ end }}' +
      `echo '{"status":"completed","result":"reviewed {{ .body.pull_request.head.sha }}"}' ` +
      '> "$PYLON_OUT/result.json"';
    await writeHome(root, {
      "pylons/review/pylon.yaml": [
        "name: review",
        "trigger:",
        "  type: webhook",
        "  path: /review",
        '  supersede: "{{ .body.repository.full_name }}#{{ .body.number }}"',
        "  supersede_running: true",
        "channel:",
        "  type: github",
        "  github:",
        "    token: ghp_test",
        `    api_url: ${github.url}`,
        "agent:",
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        '  command: ["sh", "-c", "eval \\"$PROMPT\\""]',
        `  prompt: ${JSON.stringify(prompt)}`,
      ].join("\n") + "\n",
    });
    const d = await startTestDaemon(root, { createRunner: dockerRunnerFor(root) });
    const job = async (id: string) => await (await d.api(`/api/jobs/${id}`)).json();
    try {
      const a = "a".repeat(40), b = "b".repeat(40);
      const opened = await send(d, "pull_request", prEvent("opened", { headSha: a }));
      const running = await eventually(async () => {
        const j = await job(opened.job_id!);
        return j.status === "running" && j.container_id ? j : undefined;
      }, 30_000);
      const started = Date.now();
      const sync = await send(d, "pull_request", prEvent("synchronize", { headSha: b }));
      const stopped = await eventually(async () => {
        const j = await job(opened.job_id!);
        return j.status === "killed" ? j : undefined;
      }, 30_000);
      assert.ok(Date.now() - started < 20_000, "stopped, not left to sleep out its minute");
      assert.equal(stopped.error, `superseded by job ${sync.job_id!.slice(0, 8)}`);
      assert.equal(
        await docker.inspectContainer(running.container_id).then((c) => c?.State?.Running ?? false),
        false,
        "its container no longer runs",
      );
      await eventually(
        () =>
          Promise.resolve(
            github.comments(OWNER, REPO, PR_NUMBER).find((c) => c.body.includes(`reviewed ${b}`)),
          ),
        60_000,
      );
      await eventually(() =>
        Promise.resolve(github.statuses(OWNER, REPO, b).at(-1)?.state === "success" || undefined)
      );
      assert.equal(github.statuses(OWNER, REPO, a).at(-1)?.state, "error");
    } finally {
      await d.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
);
