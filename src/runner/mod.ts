/**
 * Runs jobs in Docker: the hardened container spec, volume checks, results, agent images.
 *
 * @module
 */

export { DockerRunner } from "./docker_runner.ts";
export type { ApprovalWatch, DockerRunnerDeps } from "./docker_runner.ts";
export {
  APPROVAL_PATHS,
  approvalFolders,
  approvesTools,
  writeApprovalFiles,
} from "./approval_files.ts";
export type { ApprovalFolders } from "./approval_files.ts";
export { buildContainerSpec, CONTAINER_PATHS, containerName, LABELS } from "./container_spec.ts";
export { resolveVolumes } from "./volumes.ts";
export {
  archiveTokenDelivery,
  NO_MOUNT_PATHS,
  noMountsProblem,
  prepareChannelJob,
} from "./no_mounts.ts";
export type { ChannelJobInput, TokenDelivery } from "./no_mounts.ts";
export { outcomeOf, readResultFile } from "./result.ts";
export { formatBytes, readAgentFile } from "./agent_file.ts";
export type { AgentFile, ReadAgentFileOptions } from "./agent_file.ts";
export { createDockerRunner } from "./create.ts";
export {
  AGENT_IMAGE_TYPES,
  agentImageRef,
  ensureAgentImage,
  ensureCustomImage,
  rebuildAgentImages,
} from "./images.ts";
