/**
 * The Docker rows of `pylon doctor`: the Engine answers, and each image the enabled pylons need
 * is present. A missing built-in agent image carries a `--fix` that builds it.
 *
 * @module
 */

import type { LoadedGlobal, ResolvedPylon } from "../config/mod.ts";
import { type DockerClient, HINT_NOT_RUNNING } from "../docker/mod.ts";
import {
  agentImageRef,
  type AgentImageType,
  builtinAgentType,
  ensureAgentImage,
  readCaCertificates,
} from "../runner/images.ts";
import type { Check } from "./doctor_checks.ts";

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
  // ref → how to build it (built-in agent types), or null (an image to pull)
  const refs = new Map<string, { type: AgentImageType; baseImage: string | undefined } | null>();
  for (const p of pylons.filter((x) => !x.config.disabled && x.agent.image !== "")) {
    const type = builtinAgentType(p.agent.image);
    if (type && !p.agent.image.includes(":")) {
      if (certs === null) continue;
      refs.set(
        agentImageRef(type, undefined, { baseImage: p.agent.baseImage, caCertificates: certs }),
        { type, baseImage: p.agent.baseImage },
      );
    } else {
      refs.set(p.agent.image, null);
    }
  }
  for (const [ref, builtin] of refs) {
    let present: boolean;
    try {
      present = (await docker.inspectImage(ref, { signal: AbortSignal.timeout(5000) })) !== null;
    } catch (e) {
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "FAIL",
        detail: `${ref}: ${e instanceof Error ? e.message : String(e)}`,
        hint: HINT_NOT_RUNNING,
      });
      continue;
    }
    if (present) out.push({ section: "Docker", label: "Agent image", status: "ok", detail: ref });
    else if (builtin) {
      out.push({
        section: "Docker",
        label: "Agent image",
        status: "--",
        detail: `${ref} not built yet (built on first use, or now by \`pylon doctor --fix\`)`,
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
        detail: `${ref} not present (will be pulled on first use)`,
        hint: `pull it now with \`docker pull ${ref}\``,
      });
    }
  }
  return out;
}
