import assert from "node:assert/strict";
import {
  parseRepoUrl,
  redactUrl,
  refProblem,
  validateRef,
  WorkspaceError,
} from "../../src/workspace/mod.ts";

Deno.test("validateRef() accepts branches, tags, full refs and shas", () => {
  for (
    const ref of [
      "main",
      "trunk",
      "feature/login-page",
      "release-1.2",
      "v1.2.3",
      "v1.2.3+build.5",
      "user@team/fix_42",
      "refs/heads/main",
      "refs/pull/42/head",
      "HEAD",
      "3f2a9c1",
      "0123456789abcdef0123456789abcdef01234567",
      "fix-#12",
      "überarbeitung",
    ]
  ) {
    assert.equal(refProblem(ref), undefined, ref);
    assert.equal(validateRef(ref), ref);
  }
});

Deno.test("validateRef() refuses what git or a shell would misread", () => {
  const cases: [string, RegExp][] = [
    ["--upload-pack=touch /tmp/pwned", /starts with "-"/],
    ["-x", /starts with "-"/],
    ["a..b", /contains "\.\."/],
    ["$(id)", /contains "\$"/],
    ["`id`", /contains "`"/],
    ["a;b", /contains ";"/],
    ["a b", /whitespace/],
    ["a\tb", /control character/],
    ["a\u007fb", /control character/],
    ["main@{1}", /contains "@\{"/],
    ["main~1", /contains "~"/],
    ["main^2", /contains "\^"/],
    ["a:b", /contains ":"/],
    ["a*", /contains "\*"/],
    ["a?", /contains "\?"/],
    ["a[1]", /contains "\["/],
    ["a\\b", /contains "\\\\"/],
    ["@", /is "@"/],
    ["/main", /starts or ends with "\/"/],
    ["main/", /starts or ends with "\/"/],
    ["a//b", /contains "\/\/"/],
    ["main.", /ends with "\."/],
    [".hidden", /starts with "\."/],
    ["feature/.x", /starts with "\."/],
    ["x.lock", /ends with "\.lock"/],
    ["x".repeat(256), /longer than 255/],
    ["<no value>", /whitespace/],
  ];
  for (const [ref, why] of cases) {
    assert.match(refProblem(ref) ?? "(accepted)", why, JSON.stringify(ref));
    assert.throws(() => validateRef(ref), (e: unknown) => {
      assert.ok(e instanceof WorkspaceError);
      assert.equal(e.field, "workspace.ref");
      assert.ok(e.message.startsWith("Cannot use workspace.ref "), e.message);
      assert.ok(!e.message.endsWith("."));
      assert.ok(e.hint?.includes("branch, tag or commit"));
      return true;
    });
  }
});

Deno.test("parseRepoUrl() accepts the allowed forms and names one mirror per repository", () => {
  const same = [
    "https://github.com/acme/app.git",
    "https://github.com/acme/app",
    "HTTPS://GitHub.com/acme/app/",
    "https://x-access-token:ghs_abc123@github.com/acme/app.git",
  ];
  const keys = new Set(same.map((u) => parseRepoUrl(u, "/home/u").normalized));
  assert.equal(keys.size, 1, [...keys].join(" "));
  assert.equal(
    parseRepoUrl("git@github.com:acme/app.git", undefined).normalized,
    "git@github.com:acme/app",
  );
  assert.equal(
    parseRepoUrl("ssh://git@github.com:22/acme/app.git", undefined).normalized,
    "ssh://git@github.com:22/acme/app",
  );
  assert.equal(parseRepoUrl("git://host/r.git", undefined).normalized, "git://host/r");
  assert.equal(parseRepoUrl("/srv/git/r.git", undefined).normalized, "file:///srv/git/r");
  assert.equal(parseRepoUrl("file:///srv/git/r.git", undefined).normalized, "file:///srv/git/r");
  assert.equal(parseRepoUrl("~/r.git", "/home/u").url, "/home/u/r.git");
  assert.equal(parseRepoUrl("  https://h/r.git\n", undefined).url, "https://h/r.git");
  assert.notEqual(
    parseRepoUrl("https://github.com/acme/app", undefined).normalized,
    parseRepoUrl("https://github.com/acme/other", undefined).normalized,
  );
});

Deno.test("parseRepoUrl() hides credentials in display and redact()", () => {
  const repo = parseRepoUrl("https://bot:p%40ss-w0rd@git.example.com/acme/app.git", undefined);
  assert.equal(repo.display, "https://***@git.example.com/acme/app.git");
  // git gets the URL without them, and the credentials (decoded) through a helper.
  assert.equal(repo.url, "https://git.example.com/acme/app.git");
  assert.deepEqual(repo.credentials, {
    origin: "https://git.example.com",
    username: "bot",
    password: "p@ss-w0rd",
  });
  assert.equal(
    repo.redact("fatal: could not read p@ss-w0rd nor p%40ss-w0rd for bot"),
    "fatal: could not read *** nor *** for ***",
  );
  const token = parseRepoUrl("https://ghp_T0KEN@github.com/a/b", undefined);
  assert.equal(token.display, "https://***@github.com/a/b");
  assert.equal(token.url, "https://github.com/a/b");
  assert.deepEqual(token.credentials, {
    origin: "https://github.com",
    username: "ghp_T0KEN",
    password: "",
  });
  const ssh = parseRepoUrl("ssh://git@host/a/b", undefined);
  assert.equal(ssh.display, "ssh://git@host/a/b");
  assert.equal(ssh.credentials, undefined);
  assert.equal(
    parseRepoUrl("ssh://git:pw@host:2222/a/b", undefined).url,
    "ssh://git@host:2222/a/b",
  );
  assert.equal(ssh.redact("git said git"), "git said git");
  assert.equal(
    redactUrl("see ssh://git:pw@h/x and http://u:p@h/y"),
    "see ssh://git:***@h/x and http://***@h/y",
  );
});

Deno.test("parseRepoUrl() refuses helpers, options and unknown schemes", () => {
  const cases: [string, RegExp][] = [
    ["ext::sh -c touch% /tmp/pwned", /whitespace/],
    ["ext::sh", /remote helpers/],
    ["fd::17", /remote helpers/],
    ["--upload-pack=touch", /starts with "-"/],
    ["ftp://host/r.git", /ftp:\/\/ scheme is not allowed/],
    ["ssh://-oProxyCommand=x/r", /starts with "-"/],
    ["git@-oProxyCommand=x:r", /neither an allowed URL nor an absolute path/],
    ["host:-r", /path is not valid/],
    ["file://remote/r.git", /cannot name a host/],
    ["relative/r.git", /neither an allowed URL nor an absolute path/],
    ["", /it is empty/],
  ];
  for (const [value, why] of cases) {
    assert.throws(() => parseRepoUrl(value, "/home/u"), (e: unknown) => {
      assert.ok(e instanceof WorkspaceError, value);
      assert.equal(e.field, "workspace.repo");
      assert.match(e.message, why, value);
      return true;
    });
  }
});
