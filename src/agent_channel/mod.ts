/**
 * The agent channel (`docker.mounts: none`, issue 18): what a job's container would otherwise
 * find in bind mounts of the daemon's folders crosses an HTTP channel of the daemon instead,
 * authenticated by a per-job token. This folder owns the token files, the job's channel files and
 * the checks of what comes back; the routes are `src/daemon/routes/agent_channel.ts`, the runner
 * writes the bundle and hands the token over. Imports nothing of the daemon or the runner.
 *
 * @module
 */

export {
  channelDir,
  isJobId,
  issueJobToken,
  revokeJobToken,
  sha256Hex,
  verifyJobToken,
} from "./token.ts";
export type { AccessRefusal, JobAccess } from "./token.ts";
export { channelFiles, stateArchive, writeAtomically } from "./files.ts";
export type { JobBundle } from "./files.ts";
export { checkStateTar, problemOfPath } from "./tar_check.ts";
export type { TarCheck, TarLimits } from "./tar_check.ts";
