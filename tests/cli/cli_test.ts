import assert from "node:assert/strict";
import { createStoreRegistry } from "../../src/store/mod.ts";
import { cli, createTestContext, writePylon } from "../_helpers/cli.ts";

const COMMAND_NAMES = [
  "jobs",
  "cost",
  "stop",
  "restart",
  "start",
  "construct",
  "list",
  "edit",
  "test",
  "destroy",
  "cron",
  "completion",
  "version",
];

Deno.test("pylon --help lists every visible command", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "--help"), 0);
  for (const name of COMMAND_NAMES) {
    assert.match(ctx.stdout(), new RegExp(`^  ${name} `, "m"), name);
  }
  assert.doesNotMatch(ctx.stdout(), /__complete/);
});

Deno.test("every command answers --help and pylon help <command>", async (t) => {
  for (const name of COMMAND_NAMES) {
    await t.step(name, async () => {
      await using ctx = await createTestContext();
      assert.equal(await cli(ctx, name, "--help"), 0);
      assert.match(ctx.stdout(), new RegExp(`Usage:\n  pylon ${name}`));
      await using ctx2 = await createTestContext();
      assert.equal(await cli(ctx2, "help", name), 0);
      assert.equal(ctx2.stdout(), ctx.stdout());
    });
  }
});

Deno.test("an unknown command exits 2 and suggests the closest one", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "lsit"), 2);
  assert.match(ctx.stderr(), /Unknown command "lsit"/);
  assert.match(ctx.stderr(), /did you mean `pylon list`\?/);
});

Deno.test("a wrong option or argument count exits 2 with the usage", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "list", "--jsn"), 2);
  assert.match(ctx.stderr(), /Unknown option '--jsn'/);
  await using ctx2 = await createTestContext();
  assert.equal(await cli(ctx2, "edit"), 2);
  assert.match(ctx2.stderr(), /expected 1, got 0/);
  assert.match(ctx2.stderr(), /usage: pylon edit <name>/);
});

Deno.test("pylon version prints the version from deno.json", async () => {
  await using ctx = await createTestContext();
  const { version } = JSON.parse(
    await Deno.readTextFile(new URL("../../deno.json", import.meta.url)),
  );
  assert.equal(await cli(ctx, "version"), 0);
  assert.equal(ctx.stdout(), `pylon ${version}\n`);
});

Deno.test("pylon construct --from writes a valid pylon and prints where", async (t) => {
  for (const template of ["sentry", "github-pr", "cron-audit", "blank"]) {
    await t.step(template, async () => {
      await using ctx = await createTestContext({
        env: { GITHUB_TOKEN: "ghp_test", SENTRY_CLIENT_SECRET: "from-sentry" },
      });
      const code = await cli(
        ctx,
        "construct",
        "my-pylon",
        "--from",
        template,
        "--repo",
        "https://example.com/r.git",
      );
      assert.equal(code, 0, ctx.stderr());
      assert.match(
        ctx.stdout(),
        /Pylon constructed: my-pylon\n {2}Config: .*pylons\/my-pylon\/pylon\.yaml/,
      );
      assert.doesNotMatch(ctx.stdout(), /Before it can run/);
      if (template !== "cron-audit") {
        assert.match(
          ctx.stdout(),
          /Webhook: http:\/\/localhost:8080\/my-pylon\n.*public_url is unset/,
        );
      } else assert.match(ctx.stdout(), /Schedule: 0 9 \* \* 1 \(UTC\)/);
      assert.equal(await cli(ctx, "list", "--json"), 0);
      const list = JSON.parse(ctx.stdout().slice(ctx.stdout().indexOf("[")));
      assert.equal(list[0].ok, true, JSON.stringify(list));
    });
  }
});

Deno.test("pylon construct fills the fields a template leaves open from flags", async () => {
  await using ctx = await createTestContext();
  const code = await cli(
    ctx,
    "construct",
    "audit",
    "--from",
    "cron-audit",
    "--repo",
    "git@github.com:acme/app.git",
    "--ref",
    "develop",
    "--cron",
    "30 6 * * 1-5",
    "--tz",
    "Europe/Berlin",
  );
  assert.equal(code, 0, ctx.stderr());
  const yaml = await Deno.readTextFile(ctx.paths.pylonConfig("audit"));
  assert.match(yaml, /repo: "git@github\.com:acme\/app\.git"/);
  assert.match(yaml, /ref: "develop"/);
  assert.match(yaml, /cron: "30 6 \* \* 1-5"/);
  assert.match(yaml, /timezone: "Europe\/Berlin"/);
  assert.match(yaml, /created: "2026-11-24T10:00:00Z"/);
});

Deno.test("pylon construct says what is left to fill when a template needs a repo", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "construct", "triage", "--from", "sentry"), 0);
  assert.match(
    ctx.stdout(),
    /Before it can run, fix:\n {4}.*pylon\.yaml:\d+:\d+: workspace\.repo: is empty; a git-clone workspace needs a repository/,
  );
  // Constructing it again fails (it exists): the advice is to edit it.
  assert.match(ctx.stdout(), /set workspace\.repo with: pylon edit triage/);
  assert.doesNotMatch(ctx.stdout(), /construct it again/);
});

Deno.test("pylon construct refuses bad names, existing pylons, unknown templates and no terminal", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "construct", "../evil", "--from", "blank"), 2);
  assert.match(ctx.stderr(), /Invalid pylon name "\.\.\/evil"/);
  assert.equal(await cli(ctx, "construct", "MyPylon", "--from", "blank"), 2);
  assert.match(ctx.stderr(), /use lowercase: "mypylon"/);
  assert.equal(await cli(ctx, "construct", "ok", "--from", "nope"), 2);
  assert.match(ctx.stderr(), /Unknown template "nope"/);
  assert.equal(await cli(ctx, "construct", "ok"), 2);
  assert.match(ctx.stderr(), /needs an interactive terminal/);
  assert.equal(await cli(ctx, "construct", "ok", "--from", "blank"), 0);
  assert.equal(await cli(ctx, "construct", "ok", "--from", "blank"), 1);
  assert.match(ctx.stderr(), /Pylon "ok" already exists/);
  assert.equal(await cli(ctx, "construct", "x", "--from", "sentry", "--cron", "* * * * *"), 2);
  assert.match(ctx.stderr(), /--cron only applies to the cron-audit template/);
});

Deno.test("pylon construct asks questions on a terminal", async () => {
  await using ctx = await createTestContext({
    isTty: true,
    input: [
      "cron", // trigger
      "Nightly checks", // description
      "0 2 * * *", // cron
      "Mars/Base", // bad zone, asked again
      "Asia/Tokyo",
      "git-clone",
      "https://example.com/app.git",
      "", // ref default main
      "opencode",
      "Check {{ .body }}",
      "for regressions",
      "",
      "", // timeout default
    ],
  });
  assert.equal(await cli(ctx, "construct", "nightly"), 0, ctx.stderr());
  assert.match(ctx.stdout(), /not an IANA time zone/);
  const yaml = await Deno.readTextFile(ctx.paths.pylonConfig("nightly"));
  assert.match(yaml, /timezone: "Asia\/Tokyo"/);
  assert.match(yaml, /type: opencode/);
  assert.match(yaml, /prompt: \|\n {4}Check \{\{ \.body \}\}\n {4}for regressions\n/);
  assert.doesNotMatch(ctx.stdout(), /Before it can run/);
});

Deno.test("pylon list shows a broken pylon with its error instead of hiding it", async () => {
  await using ctx = await createTestContext();
  await cli(ctx, "construct", "hook", "--from", "blank");
  await cli(ctx, "construct", "weekly", "--from", "cron-audit", "--repo", "https://e.com/r.git");
  await writePylon(
    ctx,
    "broken",
    "name: broken\ntrigger:\n  type: webhook\n  path: /broken\napproval: true\n",
  );
  await using out = await createTestContext();
  Object.assign(out, { paths: ctx.paths });
  assert.equal(await cli(out, "list"), 0);
  const text = out.stdout();
  assert.match(text, /^NAME\s+TRIGGER\s+PATH\s+DESCRIPTION$/m);
  assert.match(text, /^broken\s+\?\s+error: cannot load \(see below\)$/m);
  assert.match(text, /^hook\s+webhook\s+\/hook$/m);
  assert.match(
    text,
    /^weekly\s+cron\s+0 9 \* \* 1 \(.*Monday.*\)\s+Weekly codebase security audit$/m,
  );
  assert.match(
    text,
    /broken: Cannot load pylon "broken": .*pylon\.yaml:5:1: approval: .*belongs under `channel`/,
  );
});

Deno.test("pylon edit runs $EDITOR on the file, then validates it", async () => {
  let seen: string[] = [];
  await using ctx = await createTestContext({
    env: { EDITOR: "code --wait" },
    editor: async (cmd, args) => {
      seen = [cmd, ...args];
      const file = args.at(-1)!;
      await Deno.writeTextFile(
        file,
        (await Deno.readTextFile(file)).replace("type: webhook", "type: webhooks"),
      );
      return 0;
    },
  });
  await cli(ctx, "construct", "hook", "--from", "blank");
  assert.equal(await cli(ctx, "edit", "hook"), 1);
  assert.deepEqual(seen, ["code", "--wait", ctx.paths.pylonConfig("hook")]);
  assert.match(ctx.stderr(), /trigger\.type: "webhooks" is not supported; use "webhook"/);
  assert.equal(await cli(ctx, "edit", "missing"), 1);
  assert.match(ctx.stderr(), /Pylon "missing" does not exist/);
});

Deno.test("pylon destroy asks first and removes the pylon's folder", async () => {
  await using ctx = await createTestContext({ input: ["n", "y"] });
  await cli(ctx, "construct", "hook", "--from", "blank");
  assert.equal(await cli(ctx, "destroy", "hook"), 0);
  assert.match(ctx.stdout(), /Cancelled\./);
  await Deno.stat(ctx.paths.pylonConfig("hook"));
  assert.equal(await cli(ctx, "destroy", "hook"), 0);
  assert.match(ctx.stdout(), /Pylon "hook" destroyed\./);
  await assert.rejects(Deno.stat(ctx.paths.pylonDir("hook")), Deno.errors.NotFound);
  await cli(ctx, "construct", "other", "--from", "blank");
  assert.equal(await cli(ctx, "destroy", "other"), 1, "no answer on stdin cancels");
  assert.equal(await cli(ctx, "destroy", "other", "--yes"), 0);
});

Deno.test("pylon construct --from github-pr says the GitHub token is still missing", async () => {
  await using ctx = await createTestContext();
  assert.equal(await cli(ctx, "construct", "pr", "--from", "github-pr"), 0);
  assert.match(
    ctx.stdout(),
    /Before it can run, fix:\n.*channel\.github\.token: references \$\{GITHUB_TOKEN\} but it is not set; add GITHUB_TOKEN=<value> to .*pylons\/pr\/\.env/,
  );
  const yaml = await Deno.readTextFile(ctx.paths.pylonConfig("pr"));
  assert.match(yaml, /^ {2}type: \[github\]$/m);
});

Deno.test("pylon test --dry-run renders every templated field against the payload", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_test" } });
  await cli(ctx, "construct", "pr", "--from", "github-pr");
  const payload = JSON.stringify({
    number: 42,
    pull_request: {
      title: "Fix it",
      head: { ref: "fix/it", sha: "6dcb09b5b57875f334f61aebed695e2e4193db5e" },
      user: { login: "ada" },
      html_url: "https://gh/pr/42",
    },
    repository: { clone_url: "https://github.com/acme/app.git" },
  });
  assert.equal(
    await cli(ctx, "test", "pr", "--payload", payload, "--dry-run", "--json"),
    0,
    ctx.stderr(),
  );
  const out = JSON.parse(ctx.stdout().slice(ctx.stdout().indexOf("{\n")));
  assert.equal(out.repo, "https://github.com/acme/app.git");
  // The exact commit reviewed (a fork's branch is not in the base repository; its commits are,
  // under refs/pull/, which the mirror fetches).
  assert.equal(out.ref, "6dcb09b5b57875f334f61aebed695e2e4193db5e");
  assert.equal(out.topic, "PR #42: Fix it");
  assert.equal(out.message, "New PR from ada\nhttps://gh/pr/42\n");
  assert.match(out.prompt, /^Review pull request #42: Fix it\./);
});

Deno.test("pylon test --dry-run reads @file payloads and prints <no value> for missing fields", async () => {
  await using ctx = await createTestContext();
  await cli(ctx, "construct", "triage", "--from", "sentry", "--repo", "https://e.com/r.git");
  const file = `${ctx.paths.root}/event.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({ data: { event: { title: "ZeroDivisionError" } } }),
  );
  assert.equal(
    await cli(ctx, "test", "triage", "--payload", `@${file}`, "--dry-run"),
    0,
    ctx.stderr(),
  );
  assert.match(ctx.stdout(), /Topic: ZeroDivisionError\n/);
  assert.match(ctx.stdout(), / {2}Culprit: <no value>\n/);
});

Deno.test("pylon test --dry-run names the agent settings the pylon's agent ignores", async () => {
  await using ctx = await createTestContext();
  await cli(ctx, "construct", "oc", "--from", "blank");
  const file = ctx.paths.pylonConfig("oc");
  await Deno.writeTextFile(
    file,
    "  type: opencode\n  max_turns: 3\n  max_cost_usd: 2\n  fallback_model: sonnet\n",
    { append: true },
  );
  assert.equal(await cli(ctx, "test", "oc", "--sample", "--dry-run"), 0, ctx.stderr());
  assert.match(
    ctx.stdout(),
    /Note: agent\.fallback_model is not supported by OpenCode and will be ignored/,
  );
  assert.equal(await cli(ctx, "test", "oc", "--sample", "--dry-run", "--json"), 0);
  const out = ctx.stdout();
  // OpenCode honours max_turns and max_cost_usd; only the fallback model is named.
  assert.deepEqual(JSON.parse(out.slice(out.lastIndexOf("{\n"))).ignored_agent_settings, [
    "fallback_model",
  ]);
});

Deno.test("pylon construct names the settings an OpenCode pylon ignores, and only those", async () => {
  await using ctx = await createTestContext();
  await Deno.writeTextFile(
    ctx.paths.globalConfig,
    "defaults:\n  agent:\n    type: opencode\n    opencode:\n" +
      "      allowed_tools: [Read, Grep, Bash, NotebookEdit]\n",
  );
  assert.equal(
    await cli(ctx, "construct", "s1", "--from", "sentry", "--repo", "https://github.com/acme/app"),
    0,
    ctx.stderr(),
  );
  // The template's mcp_servers and Bash(git push:*) deny rule are OpenCode's mcp and permission.
  const note = ctx.stdout().split("\n").find((l) => l.includes("Note: agent."));
  assert.match(
    String(note),
    /Note: agent\.allowed_tools entry NotebookEdit is not supported by OpenCode and will be ignored/,
  );
  assert.doesNotMatch(String(note), /mcp_servers is|disallowed_tools[ ,]/);
});

Deno.test("pylon test --dry-run exits 1 naming the field and position of a template error", async () => {
  await using ctx = await createTestContext();
  await writePylon(
    ctx,
    "hook",
    'name: hook\ntrigger:\n  type: webhook\n  path: /hook\nagent:\n  prompt: "{{ index .body.items 5 }}"\n',
  );
  assert.equal(await cli(ctx, "test", "hook", "--payload", '{"items":[1]}', "--dry-run"), 1);
  assert.match(ctx.stderr(), /cannot render agent\.prompt of pylon "hook" at line 1, column \d+/);
  assert.equal(await cli(ctx, "test", "hook", "--payload", "{not json", "--dry-run"), 2);
  assert.match(ctx.stderr(), /not valid JSON/);
});

Deno.test("pylon test --dry-run says whether trigger.when accepts the payload and headers", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_test" } });
  await cli(ctx, "construct", "pr", "--from", "github-pr");
  const payload = JSON.stringify({ action: "opened", number: 1, pull_request: { draft: false } });
  const run = async (...extra: string[]) => {
    const before = ctx.stdout().length;
    assert.equal(
      await cli(ctx, "test", "pr", "--payload", payload, "--dry-run", "--json", ...extra),
      0,
    );
    return JSON.parse(ctx.stdout().slice(before)).when;
  };
  assert.equal(await run("--header", "X-GitHub-Event: pull_request"), "accepted");
  assert.match(await run("--header", "X-GitHub-Event: push"), /^ignored/);
  assert.equal(await cli(ctx, "test", "pr", "--dry-run", "--header", "nonsense"), 2);
});

Deno.test("pylon test --dry-run says when an event would count on an existing job (trigger.dedupe)", async () => {
  await using ctx = await createTestContext({ env: { GITHUB_TOKEN: "ghp_test" } });
  await cli(ctx, "construct", "pr", "--from", "github-pr");
  const event = (sha: string) =>
    JSON.stringify({
      action: "synchronize",
      number: 7,
      pull_request: { draft: false, head: { sha } },
      repository: { full_name: "octo-org/octo-repo" },
    });
  const outcome = async (payload: string) => {
    const before = ctx.stdout().length;
    const code = await cli(
      ctx,
      "test",
      "pr",
      "--payload",
      payload,
      "--dry-run",
      "--json",
      "--header",
      "X-GitHub-Event: pull_request",
    );
    assert.equal(code, 0, ctx.stderr());
    return JSON.parse(ctx.stdout().slice(before));
  };
  const first = await outcome(event("aaa111"));
  assert.equal(first.dedupe_key, "octo-org/octo-repo#7@aaa111");
  assert.match(first.outcome, /^accepted/);

  await using stores = createStoreRegistry(ctx.paths);
  const store = await stores.open("pr");
  const id = crypto.randomUUID();
  await store.insert({
    id,
    pylon: "pr",
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
  });
  await store.transition(id, "queued", "running");
  await store.update(id, { dedupeKey: "octo-org/octo-repo#7@aaa111" });
  await store.incrementRepeats(id);
  const again = await outcome(event("aaa111"));
  assert.match(
    again.outcome,
    new RegExp(`^deduplicated: counted on job ${id.slice(0, 8)} \\(running, seen 2×\\)`),
  );
  const next = await outcome(event("bbb222"));
  assert.match(next.outcome, /^accepted/, "a new commit is a new run");
  const waiting = crypto.randomUUID();
  await store.insert({
    id: waiting,
    pylon: "pr",
    status: "queued",
    trigger: "webhook",
    payload: {},
    headers: {},
    supersedeKey: "octo-org/octo-repo#7",
  });
  assert.match(
    (await outcome(event("ccc333"))).outcome,
    new RegExp(
      `^accepted \\(no job has this dedupe key\\); it supersedes ${
        waiting.slice(0, 8)
      } \\(queued\\)`,
    ),
  );
});
