/**
 * `pylon rebuild-images [claude|opencode|mock…] [--base-image IMAGE]`: rebuilds the built-in
 * agent images from the build contexts embedded in the binary, without the build cache.
 *
 * @module
 */

import { formatDuration, loadGlobalConfig } from "../../config/mod.ts";
import { createDockerClient } from "../../docker/mod.ts";
import { UsageError } from "../../errors.ts";
import { AGENT_IMAGE_TYPES, type AgentImageType, rebuildAgentImages } from "../../runner/images.ts";
import type { Command } from "../command.ts";

const DEFAULT_TYPES: readonly AgentImageType[] = ["claude", "opencode"];

export const rebuildImagesCommand: Command = {
  name: "rebuild-images",
  summary: "Rebuild the built-in agent images",
  usage: "rebuild-images [claude|opencode|mock…] [--base-image IMAGE]",
  description:
    "Builds pylon/agent-<type> again from the Dockerfiles embedded in pylon, without the build " +
    "cache (default: claude and opencode; mock is the test agent). The CA certificates listed " +
    "under docker.ca_certificates in config.yaml are added to the images. Images are otherwise " +
    "built on first use and whenever pylon's agent files change.",
  options: {
    "base-image": {
      type: "string",
      valueName: "IMAGE",
      description: "Base image to build on (BASE_IMAGE; default: the Dockerfile's own)",
    },
  },
  positionals: { min: 0, max: AGENT_IMAGE_TYPES.length },
  async run(args, ctx) {
    const types = parseTypes(args.positionals);
    const baseImage = typeof args.values["base-image"] === "string"
      ? args.values["base-image"]
      : undefined;
    const { config } = await loadGlobalConfig(ctx.paths, ctx.env);
    using docker = createDockerClient({ env: ctx.env });
    const results = await rebuildAgentImages({
      docker,
      types,
      caCertificates: config.docker.ca_certificates,
      baseImages: baseImage ? Object.fromEntries(types.map((t) => [t, baseImage])) : undefined,
      home: ctx.env.HOME,
      onBuild(_type, ref, base) {
        const certs = config.docker.ca_certificates.length;
        const extra = certs > 0 ? `, ${certs} CA certificate${certs === 1 ? "" : "s"}` : "";
        ctx.io.out(`Building ${ref} (base ${base}${extra})\n`);
      },
      onProgress(line) {
        ctx.io.out(`  ${line}\n`);
      },
    });
    let failed = 0;
    for (const r of results) {
      if (r.ok) {
        ctx.io.out(`Built ${r.image} in ${formatDuration(r.ms)}\n`);
      } else {
        failed++;
        ctx.io.err(`${r.error.message}\n`);
        if (r.error.hint) ctx.io.err(`  ${r.error.hint}\n`);
      }
    }
    return failed > 0 ? 1 : 0;
  },
};

function parseTypes(positionals: readonly string[]): AgentImageType[] {
  if (positionals.length === 0) return [...DEFAULT_TYPES];
  const types: AgentImageType[] = [];
  for (const p of positionals) {
    const type = AGENT_IMAGE_TYPES.find((t) => t === p);
    if (!type) {
      throw new UsageError(`Unknown agent type "${p}"`, {
        hint: `choose from ${AGENT_IMAGE_TYPES.join(", ")}`,
      });
    }
    if (!types.includes(type)) types.push(type);
  }
  return types;
}
