/**
 * Agent images without Docker: tag digests, build contexts, CA files, the embedded copy of
 * `agents/`, the ensure/rebuild logic over a fake client, and the in-image helpers' JSON mapping.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { DockerError, type ProgressEvent } from "../../src/docker/mod.ts";
import { PylonError } from "../../src/errors.ts";
import { EMBEDDED_AGENT_FILES } from "../../src/runner/embedded.ts";
import {
  AGENT_IMAGE_TYPES,
  agentBuildContext,
  agentFiles,
  agentImageDigest,
  agentImageRef,
  builtinAgentType,
  type EmbeddedFile,
  ensureAgentImage,
  ensureCustomImage,
  progressLines,
  readCaCertificates,
  rebuildAgentImages,
} from "../../src/runner/images.ts";
import { readAgentSources, renderEmbeddedModule } from "../../scripts/embed_agents.ts";
import { FakeDockerClient } from "../fakes/docker_fake.ts";
import * as claudeHelper from "../../agents/claude/pylon-claude.mjs";
import * as opencodeHelper from "../../agents/opencode/pylon-opencode.mjs";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const dec = new TextDecoder();

function file(path: string, content: string, mode = 0o644): EmbeddedFile {
  return { path, content, mode, sha256: "" };
}

const FILES = [
  file("Dockerfile", "ARG BASE_IMAGE=busybox\nFROM ${BASE_IMAGE}\n"),
  file("entrypoint.sh", "#!/bin/sh\n", 0o755),
];

/** A minimal ustar reader: path, mode, type and text of each entry. */
function readTar(bytes: Uint8Array): { path: string; mode: number; type: string; data: string }[] {
  const field = (b: Uint8Array, at: number, len: number) => {
    const raw = b.subarray(at, at + len);
    const end = raw.indexOf(0);
    return dec.decode(end < 0 ? raw : raw.subarray(0, end));
  };
  const out = [];
  for (let at = 0; at + 512 <= bytes.length;) {
    const h = bytes.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(field(h, 124, 12).trim() || "0", 8);
    const prefix = field(h, 345, 155);
    const name = field(h, 0, 100);
    out.push({
      path: prefix ? `${prefix}/${name}` : name,
      mode: parseInt(field(h, 100, 8).trim(), 8),
      type: field(h, 156, 1),
      data: dec.decode(bytes.subarray(at + 512, at + 512 + size)),
    });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

Deno.test("agentImageRef() names pylon/agent-<type> with 12 hex digits, stable across calls", () => {
  const a = agentImageRef("claude");
  assert.match(a, /^pylon\/agent-claude:[0-9a-f]{12}$/);
  assert.equal(agentImageRef("claude"), a);
  assert.notEqual(agentImageRef("opencode"), a.replace("claude", "opencode"));
  for (const type of AGENT_IMAGE_TYPES) assert.match(agentImageRef(type), /:[0-9a-f]{12}$/);
});

Deno.test("agentImageDigest() is pinned for a fixed input (changing it rebuilds every image)", () => {
  assert.equal(
    agentImageDigest([file("Dockerfile", "FROM scratch\n")]),
    "600c37ea3c3a8ad79b8417a47ba4490ba759e4bcbc2f48db6098d42ed531ac96",
  );
});

Deno.test("agentImageDigest() changes with every input that changes the image", async (t) => {
  const base = agentImageDigest(FILES);
  await t.step("file order does not matter", () => {
    assert.equal(agentImageDigest([...FILES].reverse()), base);
  });
  await t.step("the stored sha256 field is not trusted, the content is", () => {
    assert.equal(agentImageDigest(FILES.map((f) => ({ ...f, sha256: "x" }))), base);
  });
  const variants: [string, string][] = [
    ["content", agentImageDigest([FILES[0]!, file("entrypoint.sh", "#!/bin/sh\n# v2\n", 0o755)])],
    ["mode", agentImageDigest([FILES[0]!, file("entrypoint.sh", "#!/bin/sh\n", 0o644)])],
    ["path", agentImageDigest([FILES[0]!, file("entry.sh", "#!/bin/sh\n", 0o755)])],
    ["extra file", agentImageDigest([...FILES, file("helper.mjs", "")])],
    ["base image", agentImageDigest(FILES, { baseImage: "debian:bookworm" })],
    [
      "CA",
      agentImageDigest(FILES, {
        caCertificates: [{ name: "1-a.crt", data: new TextEncoder().encode(PEM) }],
      }),
    ],
    [
      "CA content",
      agentImageDigest(FILES, {
        caCertificates: [{ name: "1-a.crt", data: new TextEncoder().encode(PEM + "\n") }],
      }),
    ],
  ];
  await t.step("each variant differs from the base and from the others", () => {
    const seen = new Set([base]);
    for (const [name, digest] of variants) {
      assert.ok(!seen.has(digest), `${name} changes the digest`);
      seen.add(digest);
    }
  });
});

Deno.test("agentBuildContext() holds the files with their modes and ca/*.crt", () => {
  const entries = readTar(
    agentBuildContext(FILES, [{ name: "1-proxy.crt", data: new TextEncoder().encode(PEM) }]),
  );
  assert.deepEqual(entries.map((e) => [e.path, e.type, e.mode.toString(8)]), [
    ["Dockerfile", "0", "644"],
    ["entrypoint.sh", "0", "755"],
    ["ca/", "5", "755"],
    ["ca/1-proxy.crt", "0", "644"],
  ]);
  assert.equal(entries[3]!.data, PEM);
  assert.equal(entries[0]!.data, FILES[0]!.content);
  assert.ok(!readTar(agentBuildContext(FILES)).some((e) => e.path.startsWith("ca")));
});

Deno.test("readCaCertificates() reads PEM files, names them .crt and explains bad ones", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "pylon-ca-" });
  try {
    await Deno.writeTextFile(join(dir, "corp proxy.pem"), PEM);
    await Deno.writeTextFile(join(dir, "b.crt"), PEM);
    await Deno.writeFile(join(dir, "der.cer"), new Uint8Array([0x30, 0x82, 1, 2]));
    await t.step("names are numbered, sanitised and end in .crt", async () => {
      const certs = await readCaCertificates([join(dir, "corp proxy.pem"), "~/b.crt"], dir);
      assert.deepEqual(certs.map((c) => c.name), ["1-corp_proxy.crt", "2-b.crt"]);
      assert.equal(dec.decode(certs[0]!.data), PEM);
    });
    await t.step("a missing file names the path and the config key", async () => {
      const e = await readCaCertificates([join(dir, "nope.crt")]).catch((e) => e);
      assert.ok(e instanceof PylonError);
      assert.match(e.message, /Cannot read CA certificate ".*nope\.crt"/);
      assert.match(e.hint ?? "", /docker\.ca_certificates/);
    });
    await t.step("a DER file is refused with a conversion hint", async () => {
      const e = await readCaCertificates([join(dir, "der.cer")]).catch((e) => e);
      assert.ok(e instanceof PylonError);
      assert.match(e.message, /not a PEM certificate/);
      assert.match(e.hint ?? "", /openssl x509 -inform der/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("src/runner/embedded.ts matches agents/ (regenerate with scripts/embed_agents.ts)", async () => {
  const expected = renderEmbeddedModule(await readAgentSources());
  const actual = await Deno.readTextFile(new URL("../../src/runner/embedded.ts", import.meta.url));
  assert.ok(
    actual === expected,
    "src/runner/embedded.ts is stale: run `deno run --allow-read --allow-write scripts/embed_agents.ts`",
  );
});

Deno.test("embedded agent files follow the image contract", async (t) => {
  for (const type of AGENT_IMAGE_TYPES) {
    await t.step(type, async () => {
      const files = agentFiles(type);
      for (const f of files) {
        const sha = Array.from(
          new Uint8Array(
            await crypto.subtle.digest("SHA-256", new TextEncoder().encode(f.content)),
          ),
          (b) => b.toString(16).padStart(2, "0"),
        ).join("");
        assert.equal(f.sha256, sha, `${type}/${f.path} sha256`);
      }
      const dockerfile = files.find((f) => f.path === "Dockerfile")?.content ?? "";
      assert.match(dockerfile, /^ARG BASE_IMAGE=\S+$/m);
      assert.match(dockerfile, /^FROM \$\{BASE_IMAGE\}$/m);
      assert.match(dockerfile, /^WORKDIR \/workspace$/m);
      assert.match(dockerfile, /^ENTRYPOINT \["\/usr\/local\/bin\/pylon-entrypoint"\]$/m);
      const entrypoint = files.find((f) => f.path === "entrypoint.sh");
      assert.equal(entrypoint?.mode, 0o755);
      assert.match(entrypoint?.content ?? "", /^#!\/bin\/(ba)?sh\n/);
      if (type !== "mock") {
        assert.match(dockerfile, /^COPY Dockerfile ca\* \/tmp\/pylon-ca\/$/m);
        assert.match(dockerfile, /update-ca-certificates/);
        assert.match(dockerfile, /NODE_EXTRA_CA_CERTS=/);
        assert.match(dockerfile, /^ARG (CLAUDE_CODE|OPENCODE)_VERSION=\d+\.\d+\.\d+$/m);
      }
    });
  }
  assert.deepEqual(Object.keys(EMBEDDED_AGENT_FILES).sort(), [...AGENT_IMAGE_TYPES].sort());
});

Deno.test("builtinAgentType() recognises pylon/agent-<type>[:tag] only", () => {
  assert.equal(builtinAgentType("pylon/agent-claude"), "claude");
  assert.equal(builtinAgentType("pylon/agent-opencode:0123456789ab"), "opencode");
  assert.equal(builtinAgentType("ghcr.io/pylonto/agent-claude"), undefined);
  assert.equal(builtinAgentType("pylon/agent-codex"), undefined);
  assert.equal(builtinAgentType("myorg/claude:1"), undefined);
});

Deno.test("progressLines() keeps build steps and pull statuses, drops noise", () => {
  const cases: [ProgressEvent, string[]][] = [
    [{ stream: "Step 1/9 : ARG BASE_IMAGE\n" }, ["Step 1/9 : ARG BASE_IMAGE"]],
    [{ stream: " ---> Running in 1234\n" }, []],
    [{ stream: "Removing intermediate container 1234\n" }, []],
    [{ stream: "a\n\nb  \n" }, ["a", "b"]],
    [{ stream: "\u001b[91mnpm WARN x\n\u001b[0m" }, ["npm WARN x"]],
    [{ status: "Pull complete", id: "abc" }, ["abc: Pull complete"]],
    [{ status: "Downloading", id: "abc", progress: "[==>   ]" }, []],
    [{ aux: { ID: "sha256:1" } }, []],
  ];
  for (const [event, lines] of cases) assert.deepEqual(progressLines(event), lines);
});

/** A fake whose builds can fail and report progress like the Engine. */
class BuildingFake extends FakeDockerClient {
  builds: {
    tag: string;
    buildArgs?: Record<string, string>;
    labels?: Record<string, string>;
    noCache?: boolean;
  }[] = [];
  buildStream: ProgressEvent[] = [];
  buildError: string | undefined;
  gate: Promise<void> = Promise.resolve();

  override async buildImage(
    context: unknown,
    opts: {
      tag: string;
      buildArgs?: Record<string, string> | undefined;
      labels?: Record<string, string> | undefined;
      noCache?: boolean | undefined;
      onProgress?: ((e: ProgressEvent) => void) | undefined;
    },
  ): Promise<string> {
    this.builds.push({
      tag: opts.tag,
      ...(opts.buildArgs ? { buildArgs: opts.buildArgs } : {}),
      ...(opts.labels ? { labels: opts.labels } : {}),
      noCache: opts.noCache === true,
    });
    await this.gate;
    for (const e of this.buildStream) opts.onProgress?.(e);
    if (this.buildError) {
      throw new DockerError(`Cannot build image "${opts.tag}": ${this.buildError}`, {
        op: "image.build",
      });
    }
    return await super.buildImage(context, opts);
  }
}

Deno.test("ensureAgentImage() builds a missing image once and reuses it", async (t) => {
  using docker = new BuildingFake();
  const lines: string[] = [];
  docker.buildStream = [{ stream: "Step 1/2 : ARG BASE_IMAGE=busybox\n" }];
  const ref = await ensureAgentImage({
    type: "mock",
    docker,
    baseImage: "local/busybox:1",
    onProgress: (l) => lines.push(l),
  });
  assert.equal(ref, agentImageRef("mock", agentFiles("mock"), { baseImage: "local/busybox:1" }));
  assert.deepEqual(docker.builds, [{
    tag: ref,
    buildArgs: { BASE_IMAGE: "local/busybox:1" },
    labels: { "pylon.agent": "mock", "pylon.digest": ref.split(":")[1]! },
    noCache: false,
  }]);
  assert.deepEqual(lines, ["Step 1/2 : ARG BASE_IMAGE=busybox"]);
  await t.step("present: one inspect, no build", async () => {
    assert.equal(
      await ensureAgentImage({ type: "mock", docker, baseImage: "local/busybox:1" }),
      ref,
    );
    assert.equal(docker.builds.length, 1);
  });
  await t.step("force: builds again without the cache", async () => {
    await ensureAgentImage({ type: "mock", docker, baseImage: "local/busybox:1", force: true });
    assert.equal(docker.builds.length, 2);
    assert.equal(docker.builds[1]!.noCache, true);
  });
  await t.step("no base image: no build argument, the Dockerfile's default applies", async () => {
    const plain = await ensureAgentImage({ type: "mock", docker });
    assert.notEqual(plain, ref);
    assert.equal(docker.builds.at(-1)!.buildArgs, undefined);
  });
});

Deno.test("ensureAgentImage() shares one build between concurrent callers", async () => {
  using docker = new BuildingFake();
  const gate = Promise.withResolvers<void>();
  docker.gate = gate.promise;
  const both = Promise.all([
    ensureAgentImage({ type: "claude", docker }),
    ensureAgentImage({ type: "claude", docker }),
  ]);
  await new Promise((r) => setTimeout(r, 10));
  gate.resolve();
  const [a, b] = await both;
  assert.equal(a, b);
  assert.equal(docker.builds.length, 1);
});

Deno.test("ensureAgentImage() errors name the image and hint at the likely fix", async (t) => {
  const cases: [string, ProgressEvent[], string, RegExp][] = [
    [
      "base image pull",
      [{ stream: "Step 1/12 : ARG BASE_IMAGE=node:22-bookworm-slim\n" }, {
        stream: "Step 2/12 : FROM ${BASE_IMAGE}\n",
      }],
      "pull access denied for node, repository does not exist",
      /base image "node:22-bookworm-slim" could not be pulled: set defaults\.agent\.claude\.base_image/,
    ],
    [
      "TLS interception",
      [{ stream: "Step 5/12 : RUN npm install\n" }, {
        stream: "npm ERR! code SELF_SIGNED_CERT_IN_CHAIN\n",
      }],
      "The command '/bin/sh -c npm install' returned a non-zero code: 1",
      /docker\.ca_certificates/,
    ],
    [
      "network",
      [{ stream: "Step 3/12 : RUN apt-get update\n" }, {
        stream: "Temporary failure resolving 'deb.debian.org'\n",
      }],
      "The command returned a non-zero code: 100",
      /could not reach a package server/,
    ],
  ];
  for (const [name, stream, message, hint] of cases) {
    await t.step(name, async () => {
      using docker = new BuildingFake();
      docker.buildStream = stream;
      docker.buildError = message;
      const e = await ensureAgentImage({ type: "claude", docker }).catch((e) => e);
      assert.ok(e instanceof PylonError);
      assert.match(e.message, /^Cannot build agent image "pylon\/agent-claude:[0-9a-f]{12}": /);
      assert.ok(e.message.includes(message));
      assert.match(e.message, /Last build output:/);
      assert.match(e.hint ?? "", hint);
    });
  }
});

Deno.test("ensureCustomImage() pulls only a missing image and names it on failure", async () => {
  using docker = new FakeDockerClient();
  docker.addImage("myorg/agent:1");
  assert.equal(await ensureCustomImage("myorg/agent:1", { docker }), "myorg/agent:1");
  assert.ok(!docker.calls.some((c) => c.method === "pullImage"));
  assert.equal(await ensureCustomImage("myorg/agent:2", { docker }), "myorg/agent:2");
  assert.deepEqual(docker.calls.filter((c) => c.method === "pullImage").map((c) => c.args[0]), [
    "myorg/agent:2",
  ]);
  docker.pullError = "manifest unknown";
  const e = await ensureCustomImage("myorg/agent:3", { docker }).catch((e) => e);
  assert.ok(e instanceof PylonError);
  assert.equal(e.message, 'Cannot pull agent image "myorg/agent:3": manifest unknown');
  assert.match(e.hint ?? "", /docker pull myorg\/agent:3/);
});

Deno.test("rebuildAgentImages() rebuilds each type and reports failures without stopping", async () => {
  using docker = new BuildingFake();
  const started: string[] = [];
  let n = 0;
  const orig = docker.buildImage.bind(docker);
  docker.buildImage = (ctx, opts) => {
    if (++n === 1) {
      return Promise.reject(new DockerError("Cannot build image: boom", { op: "image.build" }));
    }
    return orig(ctx, opts);
  };
  const results = await rebuildAgentImages({
    docker,
    types: ["claude", "mock"],
    baseImages: { mock: "local/busybox:1" },
    onBuild: (type, ref) => started.push(`${type} ${ref}`),
  });
  assert.deepEqual(results.map((r) => [r.type, r.ok]), [["claude", false], ["mock", true]]);
  assert.equal(started.length, 2);
  assert.equal(docker.builds.at(-1)!.noCache, true);
});

Deno.test("claude helper: tool events from PostToolUse(Failure) hook input", () => {
  assert.deepEqual(
    claudeHelper.toolEvent({
      hook_event_name: "PostToolUse",
      tool_name: "Bash",
      tool_input: { command: "npm test\n  --silent", description: "run tests" },
    }),
    { tool: "Bash", summary: "npm test --silent" },
  );
  assert.deepEqual(
    claudeHelper.toolEvent({ tool_name: "Edit", tool_input: { file_path: "/workspace/a.ts" } }),
    { tool: "Edit", summary: "/workspace/a.ts" },
  );
  assert.deepEqual(
    claudeHelper.toolEvent({ tool_name: "TodoWrite", tool_input: { todos: [{}, {}] } }),
    { tool: "TodoWrite", summary: "2 todos" },
  );
  assert.deepEqual(
    claudeHelper.toolEvent({
      hook_event_name: "PostToolUseFailure",
      tool_name: "Read",
      tool_input: { file_path: "/workspace/nope.txt" },
    }),
    { tool: "Read", summary: "/workspace/nope.txt (failed)" },
  );
  assert.equal(claudeHelper.toolEvent({}), null);
  assert.equal(
    claudeHelper.summarizeInput({ command: "x".repeat(50_000) }).length,
    claudeHelper.SUMMARY_MAX,
  );
});

Deno.test("agent helpers keep a secret past the display length whole for the daemon's redactor", () => {
  // The daemon redacts a summary before cutting it to what it shows (300 characters); a cut made
  // in the container first would leave a fragment of a secret that straddles it (issue 12).
  const secret = "ghp_straddlingSecret0123456789";
  const command = `curl ${"-v ".repeat(58)}-H 'Authorization: ${secret}' https://x`;
  assert.ok(command.indexOf(secret) < 200 && command.indexOf(secret) + secret.length > 200);
  const claude = claudeHelper.toolEvent({ tool_name: "Bash", tool_input: { command } });
  assert.ok(claude?.summary.includes(secret), JSON.stringify(claude));
  const collector = new opencodeHelper.EventCollector();
  const opencode = collector.add(JSON.stringify({
    type: "tool_use",
    part: { tool: "bash", state: { input: { command } } },
  }));
  assert.ok(opencode?.summary.includes(secret), JSON.stringify(opencode));
  assert.ok(opencodeHelper.SUMMARY_MAX >= 4096 && claudeHelper.SUMMARY_MAX >= 4096);
});

Deno.test("claude helper: settings keep the user's hooks and hold pylon's once", () => {
  const cmd = 'node "/usr/local/lib/pylon/pylon-claude.mjs" hook';
  const user = {
    model: "opus",
    hooks: { PostToolUse: [{ matcher: "Edit", hooks: [] }], Stop: [] },
  };
  const once = claudeHelper.mergeSettings(user, cmd);
  const twice = claudeHelper.mergeSettings(once, cmd);
  assert.deepEqual(twice, once);
  assert.equal(once.model, "opus");
  assert.deepEqual(once.hooks.Stop, []);
  const ours = { matcher: "*", hooks: [{ type: "command", command: cmd }] };
  assert.deepEqual(once.hooks.PostToolUse, [{ matcher: "Edit", hooks: [] }, ours]);
  assert.deepEqual(once.hooks.PostToolUseFailure, [ours]);
  assert.deepEqual(claudeHelper.mergeSettings(null, cmd).hooks.PostToolUse, [ours]);
});

Deno.test("claude helper: CLI output maps to result.json and an exit code", async (t) => {
  const ok = JSON.stringify({
    type: "result",
    subtype: "success",
    is_error: false,
    result: 'Done: "quoted"\nline 2',
    session_id: "0cf0e407-fe55-47fe-bcd1-722c0e761586",
  });
  await t.step("success", () => {
    assert.deepEqual(claudeHelper.claudeResult({ stdout: ok + "\n", stderr: "", code: 0 }), {
      result: {
        status: "completed",
        result: 'Done: "quoted"\nline 2',
        session_id: "0cf0e407-fe55-47fe-bcd1-722c0e761586",
      },
      exitCode: 0,
    });
  });
  await t.step("is_error with exit 0 still fails", () => {
    const out = JSON.stringify({
      type: "result",
      is_error: true,
      result: "API Error: 401",
      session_id: "s",
    });
    const r = claudeHelper.claudeResult({ stdout: out, stderr: "", code: 0 });
    assert.equal(r.exitCode, 1);
    assert.deepEqual(r.result, {
      status: "failed",
      result: "API Error: 401",
      session_id: "s",
      error: "API Error: 401",
    });
  });
  await t.step("no JSON: the stderr tail is the error", () => {
    const r = claudeHelper.claudeResult({
      stdout: "",
      stderr: "No conversation found with session ID: x\n",
      code: 1,
    });
    assert.deepEqual(r, {
      result: { status: "failed", result: "", error: "No conversation found with session ID: x" },
      exitCode: 1,
    });
  });
  await t.step("noise before the JSON line is tolerated", () => {
    const r = claudeHelper.claudeResult({ stdout: `warning: x\n${ok}\n`, stderr: "", code: 0 });
    assert.equal(r.result.status, "completed");
  });
  await t.step("killed by a signal", () => {
    const r = claudeHelper.claudeResult({ stdout: "", stderr: "", code: 0, signal: "SIGTERM" });
    assert.equal(r.result.error, "claude was stopped by SIGTERM");
    assert.equal(r.exitCode, 1);
  });
});

Deno.test("opencode helper: JSON events map to tool events and result.json", async (t) => {
  const sid = "ses_df4d43198ffehbKGXIVBmeRVh9";
  // Recorded from `opencode run --format json` 1.18.33 against the fake Messages API.
  const lines = [
    { type: "step_start", sessionID: sid, part: { messageID: "m1", type: "step-start" } },
    { type: "text", sessionID: sid, part: { messageID: "m1", type: "text", text: "Let me look." } },
    {
      type: "tool_use",
      sessionID: sid,
      part: {
        type: "tool",
        tool: "bash",
        state: {
          status: "completed",
          input: { command: "echo hi > x.txt" },
          title: "echo hi > x.txt",
        },
      },
    },
    { type: "step_finish", sessionID: sid, part: { messageID: "m1", reason: "tool-calls" } },
    { type: "text", sessionID: sid, part: { messageID: "m2", type: "text", text: "Hello" } },
    { type: "text", sessionID: sid, part: { messageID: "m2", type: "text", text: "world" } },
  ].map((l) => JSON.stringify(l));
  await t.step("completed", () => {
    const c = new opencodeHelper.EventCollector();
    const events = [...lines, "not json"].map((l) => c.add(l)).filter(Boolean);
    assert.deepEqual(events, [{ tool: "bash", summary: "echo hi > x.txt" }]);
    assert.deepEqual(c.finish({ code: 0, stderr: "" }), {
      result: { status: "completed", result: "Hello\n\nworld", session_id: sid },
      exitCode: 0,
    });
  });
  await t.step("an error event fails the job even with exit 0", () => {
    const c = new opencodeHelper.EventCollector();
    c.add(JSON.stringify({
      type: "error",
      sessionID: sid,
      error: { name: "APIError", data: { message: "Cannot connect to API" } },
    }));
    assert.deepEqual(c.finish({ code: 0, stderr: "" }), {
      result: { status: "failed", result: "", session_id: sid, error: "Cannot connect to API" },
      exitCode: 1,
    });
  });
  await t.step("no events: stderr without colours is the error", () => {
    const c = new opencodeHelper.EventCollector();
    const r = c.finish({
      code: 1,
      stderr: "\u001b[91m\u001b[1mError: \u001b[0mSession not found\n",
    });
    assert.deepEqual(r.result, { status: "failed", result: "", error: "Error: Session not found" });
  });
  await t.step("the job config restricts providers only when one is chosen", () => {
    assert.equal(opencodeHelper.jobConfig("").enabled_providers, undefined);
    assert.deepEqual(opencodeHelper.jobConfig("anthropic").enabled_providers, ["anthropic"]);
  });
});
