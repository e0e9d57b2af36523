/**
 * The Swarm backend's files (issue 18): `docker.ca_certificates` as one Swarm config a custom
 * image reads at /pylon/ca.pem (`NODE_EXTRA_CA_CERTS`), the MCP config and OAuth files as Swarm
 * secrets the init step copies where the agent expects them (never in `docker service inspect`
 * nor the job's bundle), and the start-up cleanup: a finished job's service and secrets and an
 * unused config go, a running job's service, secrets and config stay.
 *
 * Through the daemon on the real single-node swarm, with the mock entrypoint on the real Claude
 * Code image (node and the init step): slow tier (`PYLON_SLOW_TESTS=1`), like swarm_e2e_test.ts.
 */

import assert from "node:assert/strict";
import { eventually, writeHome } from "../_helpers/daemon.ts";
import { homeLabel } from "../../src/runner/docker_runner.ts";
import { caConfigName } from "../../src/runner/swarm.ts";
import { openTestDocker, removeHomeContainers } from "./_docker.ts";
import { finishedJob, postJob, startDockerDaemon } from "./_daemon.ts";
import { printSlowSkipReason, SLOW_IGNORE } from "./images_slow.ts";
import { mockOnClaudeImage, startAgentProxy } from "./no_mounts_helpers.ts";
import { requireSwarm, serviceOfJob, SWARM_IGNORE } from "./swarm_helpers.ts";

printSlowSkipReason("Swarm secrets and configs (Claude Code image)");

const MCP_SECRET = "mcp-secret-5a7e91c0";
const OAUTH_SECRET = "oauth-secret-77c1d2e3";
const JSON_SECRET = "u-secret-json-0b4f";

/** `s` as a shell word that does not contain `s` (the prompt is in the service's spec). */
function split(s: string): string {
  return `"${s.slice(0, 6)}""${s.slice(6)}"`;
}

function pylonYaml(name: string, lines: string[]): string {
  return [
    `name: ${name}`,
    "trigger:",
    "  type: webhook",
    `  path: /${name}`,
    "workspace:",
    "  type: none",
    "agent:",
    "  network: host",
    '  placement: ["node.role==manager"]',
    ...lines,
  ].join("\n") + "\n";
}

/** A self-signed CA certificate (PEM), made with openssl. */
async function selfSignedPem(dir: string): Promise<string> {
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=pylon test corporate CA",
      "-keyout",
      `${dir}/ca.key`,
      "-out",
      `${dir}/ca.pem`,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return await Deno.readTextFile(`${dir}/ca.pem`);
}

Deno.test({
  name: "docker.backend: swarm — CA config, MCP/OAuth secrets, start-up cleanup",
  ignore: SLOW_IGNORE || SWARM_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    requireSwarm();
    using docker = openTestDocker();
    const swarm = docker.swarm!;
    const image = await mockOnClaudeImage(docker);
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-swarm-files-" });
    const pem = await selfSignedPem(root);
    // The bundle as the runner writes it (create.ts): the trimmed files, joined.
    const bundle = pem.trim() + "\n";
    const caName = await caConfigName(bundle);
    const home = homeLabel(`${root}/jobs`);
    const mine = { "pylon.managed": "1", "pylon.home": home };
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  backend: swarm\n` +
        `  ca_certificates: [${root}/ca.pem]\n`,
      "pylons/ca/pylon.yaml": pylonYaml("ca", [
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        "  prompt: " + JSON.stringify(
          'warn=$(node -e 0 2>&1 | grep -c "Ignoring extra certs" || true); ' +
            `printf '{"status":"completed","result":"%s %s %s warn=%s"}' ` +
            '"$(sha256sum /pylon/ca.pem | cut -c1-64)" "$(stat -c %a /pylon/ca.pem)" ' +
            '"$NODE_EXTRA_CA_CERTS" "$warn" > "$PYLON_OUT/result.json"',
        ),
      ]),
      "pylons/hold/pylon.yaml": pylonYaml("hold", [
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        "  prompt: sleep 120",
      ]),
      "pylons/mcp/.env": `TRACKER_TOKEN=${MCP_SECRET}\n`,
      "pylons/mcp/pylon.yaml": pylonYaml("mcp", [
        "  type: claude",
        `  image: ${JSON.stringify(image)}`,
        "  auth: oauth",
        // The OAuth session goes into the job (not held by the gateway): both files travel.
        "  gateway: false",
        "  mcp_servers:",
        "    tracker:",
        "      command: tracker-mcp",
        "      env:",
        "        TRACKER_TOKEN: ${TRACKER_TOKEN}",
        "  prompt: " + JSON.stringify(
          "sleep 4; " +
            `printf '{"status":"completed","result":"mcp=%s cred=%s json=%s mode=%s ls=%s"}' ` +
            `"$(grep -c ${split(MCP_SECRET)} /pylon/mcp.json)" ` +
            `"$(grep -c ${split(OAUTH_SECRET)} /pylon/oauth/.credentials.json)" ` +
            `"$(grep -c ${split(JSON_SECRET)} /pylon/oauth.json)" ` +
            '"$(stat -c %a /pylon/mcp.json)" "$(ls /run/secrets | tr "\\n" " ")" ' +
            '> "$PYLON_OUT/result.json"',
        ),
      ]),
      // The runner's HOME is the test home: ~/.claude/.credentials.json and ~/.claude.json.
      ".claude/.credentials.json": JSON.stringify({ claudeAiOauth: { accessToken: OAUTH_SECRET } }),
      ".claude.json": JSON.stringify({ userID: JSON_SECRET }),
    });
    let d = await startDockerDaemon(root, { proxy });
    let caJob = "";
    try {
      await t.step("a custom image reads the CA bundle from a Swarm config", async () => {
        caJob = await postJob(d, "/ca");
        const svc = await serviceOfJob(docker, caJob, 30_000);
        const c = svc.Spec.TaskTemplate.ContainerSpec;
        assert.deepEqual(
          (c.Configs ?? []).map((x) => [x.File.Name, x.File.Mode, x.ConfigName]),
          [["/pylon/ca.pem", 0o444, caName]],
        );
        assert.ok(c.Env?.includes("NODE_EXTRA_CA_CERTS=/pylon/ca.pem"), JSON.stringify(c.Env));
        const job = await finishedJob(d, caJob, 90_000);
        assert.equal(job.status, "completed", JSON.stringify(job));
        const sha = Array.from(
          new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(bundle))),
          (b) => b.toString(16).padStart(2, "0"),
        ).join("");
        // The bytes of docker.ca_certificates, read-only, and node loads them without a warning.
        assert.equal(job.result, `${sha} 444 /pylon/ca.pem warn=0`);
        // The config outlives the job (shared, immutable), labelled as this home's.
        const configs = await swarm.listConfigs({ name: caName });
        assert.equal(configs.length, 1);
        assert.equal(configs[0]!.Spec.Labels?.["pylon.home"], home);
      });

      await t.step(
        "the MCP config and OAuth files are Swarm secrets: the agent sees the files, " +
          "service inspect and the bundle do not",
        async () => {
          const id = await postJob(d, "/mcp");
          const svc = await serviceOfJob(docker, id, 30_000);
          const info = (await swarm.inspectService(svc.ID))!;
          const text = JSON.stringify(info);
          for (const secret of [MCP_SECRET, OAUTH_SECRET, JSON_SECRET]) {
            const at = text.indexOf(secret);
            assert.ok(
              at < 0,
              `${secret} is in the service's spec: ${text.slice(at - 300, at + 50)}`,
            );
            assert.ok(!text.includes(btoa(secret).slice(0, 12)), `${secret} not even in base64`);
          }
          const c = info.Spec.TaskTemplate.ContainerSpec;
          const files = (c.Secrets ?? []).map((x) => [x.File.Name, x.File.Mode]);
          for (const n of [1, 2, 3]) {
            assert.ok(
              files.some(([name, mode]) =>
                name === `/run/secrets/pylon-file${n}` && mode === 0o400
              ),
              JSON.stringify(files),
            );
          }
          const copies = c.Env?.find((e) => e.startsWith("PYLON_SECRET_FILES="));
          assert.ok(copies?.includes("/pylon/mcp.json=/run/secrets/pylon-file"), copies);
          assert.ok(copies?.includes("/pylon/oauth/.credentials.json="), copies);
          assert.ok(copies?.includes("/pylon/oauth.json="), copies);
          // The job's bundle (served over the channel) carries the prompt, not these files.
          const raw = await Deno.readTextFile(`${root}/jobs/${id}/channel/bundle.json`);
          const paths = JSON.parse(raw).files.map((f: { path: string }) => f.path);
          assert.deepEqual(paths, ["/pylon/prompt"]);
          assert.ok(!raw.includes(btoa(MCP_SECRET).slice(0, 12)));
          const job = await finishedJob(d, id, 90_000);
          assert.equal(job.status, "completed", JSON.stringify(job));
          assert.match(job.result, /^mcp=1 cred=1 json=1 mode=600 ls=/);
          assert.match(job.result, /pylon-file1 pylon-file2 pylon-file3/);
          // Removed with the job, like the token's.
          await eventually(
            async () => (await swarm.listSecrets({ labels: { "pylon.job": id } })).length === 0,
            20_000,
          );
        },
      );

      await t.step(
        "a restart removes a finished job's service and secrets and an unused config, and " +
          "keeps a running job's",
        async () => {
          const hold = await postJob(d, "/hold");
          const running = await serviceOfJob(docker, hold, 30_000);
          const heldSecrets = await swarm.listSecrets({ labels: { "pylon.job": hold } });
          assert.equal(heldSecrets.length, 1); // its token
          await d.stop();
          // What a daemon that died before its cleanup leaves of a finished job: its service and
          // secret; and a config no service uses.
          const labels = { ...mine, "pylon.job": caJob, "pylon.pylon": "ca" };
          const secretId = await swarm.createSecret(
            `pylon-${caJob}-leftover`,
            new TextEncoder().encode("x"),
            { labels },
          );
          const leftover = await swarm.createService({
            Name: `pylon-ca-${caJob.slice(0, 8)}-left`,
            Labels: labels,
            TaskTemplate: {
              ContainerSpec: {
                Image: image,
                Command: ["sleep", "600"],
                Secrets: [{
                  File: { Name: "leftover", UID: "0", GID: "0", Mode: 0o400 },
                  SecretID: secretId,
                  SecretName: `pylon-${caJob}-leftover`,
                }],
              },
              RestartPolicy: { Condition: "none" },
              Placement: { Constraints: ["node.role==manager"] },
            },
            Mode: { Replicated: { Replicas: 1 } },
          });
          const unused = await swarm.createConfig(
            "pylon-ca-000000000000",
            new TextEncoder().encode("unused"),
            { labels: mine },
          );
          assert.ok(unused);
          d = await d.restart();
          const line = await d.waitForLog(/orphans\.pruned_swarm/, 30_000);
          assert.match(line, /services=1 /, line);
          assert.match(line, /secrets=1 /, line);
          assert.match(line, /configs=1 /, line);
          assert.equal(await swarm.inspectService(leftover), null);
          const secretsLeft = (await swarm.listSecrets({ labels: mine })).map((s) => s.ID);
          assert.ok(!secretsLeft.includes(secretId), "the finished job's secret is gone");
          const configs = (await swarm.listConfigs({ labels: mine })).map((c) => c.Spec.Name);
          assert.deepEqual(configs, [caName], "the unused config is gone, the used one stays");
          // The running job: the same service, its secret, re-attached.
          assert.ok(await swarm.inspectService(running.ID));
          assert.deepEqual(
            (await swarm.listSecrets({ labels: { "pylon.job": hold } })).map((s) => s.ID),
            heldSecrets.map((s) => s.ID),
          );
          await d.waitForLog(/service\.reattached/, 10_000);
          (await d.api(`/api/jobs/${hold}/kill`, { method: "POST" })).body?.cancel();
          assert.equal((await finishedJob(d, hold, 90_000)).status, "killed");
          await eventually(
            async () => (await swarm.listServices({ labels: { "pylon.job": hold } })).length === 0,
            20_000,
          );
        },
      );
    } finally {
      await d.stop();
      await proxy.close();
      for (const s of await swarm.listServices({ labels: mine })) {
        await swarm.removeService(s.ID).catch(() => {});
      }
      await eventually(async () => {
        let left = 0;
        for (const s of await swarm.listSecrets({ labels: mine })) {
          if (!await swarm.removeSecret(s.ID).then(() => true, () => false)) left++;
        }
        for (const c of await swarm.listConfigs({ labels: mine })) {
          if (!await swarm.removeConfig(c.ID).then(() => true, () => false)) left++;
        }
        return left === 0;
      }, 30_000).catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "docker.mounts: none (Engine) — a custom image reads the CA bundle from the channel",
  ignore: SLOW_IGNORE,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    using docker = openTestDocker();
    const image = await mockOnClaudeImage(docker);
    const proxy = startAgentProxy();
    const root = await Deno.makeTempDir({ prefix: "pylon-engine-ca-" });
    const pem = await selfSignedPem(root);
    await writeHome(root, {
      "config.yaml": `server:\n  agent_url: ${proxy.url}\ndocker:\n  mounts: none\n` +
        `  ca_certificates: [${root}/ca.pem]\n`,
      "pylons/ca/pylon.yaml": pylonYaml("ca", [
        "  type: custom",
        `  image: ${JSON.stringify(image)}`,
        "  prompt: " + JSON.stringify(
          'warn=$(node -e 0 2>&1 | grep -c "Ignoring extra certs" || true); ' +
            `printf '{"status":"completed","result":"%s %s %s warn=%s"}' ` +
            '"$(sha256sum /pylon/ca.pem | cut -c1-64)" "$(stat -c %a /pylon/ca.pem)" ' +
            '"$NODE_EXTRA_CA_CERTS" "$warn" > "$PYLON_OUT/result.json"',
        ),
      ]),
    });
    const d = await startDockerDaemon(root, { proxy });
    try {
      const id = await postJob(d, "/ca");
      const job = await finishedJob(d, id, 90_000);
      assert.equal(job.status, "completed", JSON.stringify(job));
      const sha = Array.from(
        new Uint8Array(
          await crypto.subtle.digest("SHA-256", new TextEncoder().encode(pem.trim() + "\n")),
        ),
        (b) => b.toString(16).padStart(2, "0"),
      ).join("");
      assert.equal(job.result, `${sha} 444 /pylon/ca.pem warn=0`);
    } finally {
      await d.stop();
      await proxy.close();
      await removeHomeContainers(docker, root);
      await Deno.remove(root, { recursive: true });
    }
  },
});
