/**
 * The Docker rows of `pylon doctor`: the Engine answers, and each image the enabled pylons need
 * is present, naming the pylons that use it. A missing built-in agent image is a WARN that
 * names `pylon rebuild-images` and carries a `--fix` that builds it.
 *
 * @module
 */

import type { LoadedGlobal, ResolvedPylon } from "../../config/mod.ts";
import { type DockerClient, HINT_NOT_RUNNING } from "../../docker/mod.ts";
import {
  agentImageRef,
  type AgentImageType,
  builtinAgentType,
  ensureAgentImage,
  readCaCertificates,
} from "../../runner/images.ts";
import { type Check, forPylons } from "./checks.ts";
import { egressRelayChecks } from "./egress_relay.ts";

/** The Engine row, then (when it answers) one row per image. */
export async function dockerChecks(
  docker: DockerClient,
  pylons: readonly ResolvedPylon[],
  global: LoadedGlobal,
  home: string | undefined,
): Promise<Check[]> {
  let version: { Version: string; ApiVersion: string };
  try {
    version = await docker.version({ signal: AbortSignal.timeout(5000) });
  } catch (e) {
    const err = e as Error & { hint?: string };
    return [{
      section: "Docker",
      label: "Engine",
      status: "FAIL",
      detail: err.message.split("\n")[0] ?? String(e),
      hint: err.hint ?? HINT_NOT_RUNNING,
    }];
  }
  return [
    {
      section: "Docker",
      label: "Engine",
      status: "ok",
      detail: `running (v${version.Version}, API ${version.ApiVersion})`,
    },
    ...await imageChecks(docker, pylons, global, home),
    ...await egressRelayChecks(docker, pylons, global),
  ];
}

async function imageChecks(
  docker: DockerClient,
  pylons: readonly ResolvedPylon[],
  global: LoadedGlobal,
  home: string | undefined,
): Promise<Check[]> {
  const out: Check[] = [];
  let certs: Awaited<ReturnType<typeof readCaCertificates>> | null;
  try {
    certs = await readCaCertificates(global.config.docker.ca_certificates, home);
  } catch {
    certs = null; // reported under Config
  }
  // ref → how to build it (built-in agent types, or null: an image to pull) and its pylons
  const refs = new Map<
    string,
    { builtin: { type: AgentImageType; baseImage: string | undefined } | null; names: string[] }
  >();
  for (const p of pylons.filter((x) => !x.config.disabled && x.agent.image !== "")) {
    const type = builtinAgentType(p.agent.image);
    let ref = p.agent.image;
    let builtin: { type: AgentImageType; baseImage: string | undefined } | null = null;
    if (type && !p.agent.image.includes(":")) {
      if (certs === null) continue;
      ref = agentImageRef(type, undefined, {
        baseImage: p.agent.baseImage,
        caCertificates: certs,
      });
      builtin = { type, baseImage: p.agent.baseImage };
    }
    const entry = refs.get(ref) ?? { builtin, names: [] };
    entry.names.push(p.name);
    refs.set(ref, entry);
  }
  for (const [ref, { builtin, names }] of refs) {
    const who = forPylons(names);
    let present: boolean;
    try {
      present = (await docker.inspectImage(ref, { signal: AbortSignal.timeout(5000) })) !== null;
    } catch (e) {
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "FAIL",
        detail: `${ref}: ${e instanceof Error ? e.message : String(e)}${who}`,
        hint: HINT_NOT_RUNNING,
      });
      continue;
    }
    if (present) {
      out.push({ section: "Docker", label: "Agent image", status: "ok", detail: ref + who });
    } else if (builtin) {
      const base = builtin.baseImage ? ` --base-image ${builtin.baseImage}` : "";
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "WARN",
        detail: `${ref} not built yet${who}`,
        hint: `build it now with \`pylon rebuild-images ${builtin.type}${base}\` (a few ` +
          "minutes); otherwise the first job waits while it is built",
        fix: {
          description: `build ${ref} (a few minutes)`,
          async run() {
            await ensureAgentImage({
              docker,
              type: builtin.type,
              baseImage: builtin.baseImage,
              caCertificates: global.config.docker.ca_certificates,
              home,
            });
          },
        },
      });
    } else {
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "WARN",
        detail: `${ref} not present (will be pulled on first use)${who}`,
        hint: `pull it now with \`docker pull ${ref}\``,
      });
    }
  }
  return out;
}
