/**
 * Start-up image check: every built-in agent image a pylon needs is present or built from the
 * embedded files (never pulled); every custom image is present or pulled. A failure is logged
 * for the pylons it affects and does not stop the daemon.
 *
 * @module
 */

import type { ResolvedPylon } from "../config/mod.ts";
import type { DockerClient } from "../docker/mod.ts";
import type { Logger } from "../log/mod.ts";
import { ensureAgentImage, ensureCustomImage } from "./images.ts";

/** Builds/pulls what the pylons need; returns the image of each built-in agent type built. */
export async function prepareAgentImages(
  pylons: readonly ResolvedPylon[],
  deps: {
    docker: DockerClient;
    caCertificates: string[];
    log: Logger;
    /** Filled with why each built-in agent type's image could not be made. */
    failures?: Map<string, string>;
  },
): Promise<Map<string, string>> {
  const builtIn = new Map<string, string[]>();
  const bases = new Map<string, string | undefined>();
  const custom = new Map<string, string[]>();
  for (const p of pylons) {
    const own = p.config.agent.image;
    if (p.agent.type === "custom" || own) {
      custom.set(p.agent.image, [...(custom.get(p.agent.image) ?? []), p.name]);
    } else {
      builtIn.set(p.agent.type, [...(builtIn.get(p.agent.type) ?? []), p.name]);
      bases.set(p.agent.type, p.agent.baseImage);
    }
  }
  const refs = new Map<string, string>();
  for (const [type, names] of builtIn) {
    const log = deps.log.with({ agent: type });
    try {
      let lastStep = "";
      const ref = await ensureAgentImage({
        type: type as "claude" | "opencode",
        docker: deps.docker,
        caCertificates: deps.caCertificates,
        baseImage: bases.get(type),
        log,
        onProgress: (line: string) => {
          const step = line.trim();
          if (step.startsWith("Step ") && step !== lastStep) {
            lastStep = step;
            log.info("image.build", { step });
          }
        },
      });
      refs.set(type, ref);
      deps.failures?.delete(type);
      log.info("image.ready", { image: ref });
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      deps.failures?.set(type, error);
      log.error("image.failed", { pylons: names.join(","), error });
    }
  }
  for (const [image, names] of custom) {
    try {
      await ensureCustomImage(image, { docker: deps.docker });
      deps.log.info("image.ready", { image });
    } catch (e) {
      deps.log.error("image.failed", {
        image,
        pylons: names.join(","),
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
  return refs;
}
