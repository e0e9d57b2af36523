/**
 * Config files: schemas, loading with positioned errors, `.env` files, `${VAR}` references,
 * resolution of a pylon's effective settings, and the file layout under `PYLON_HOME`.
 *
 * Imports nothing of ours except `errors.ts` and the pure `cron/` and `template/` leaves.
 *
 * @module
 */

export { createPylonPaths, displayPath, resolvePylonHome } from "./paths.ts";
export type { PylonPaths } from "./paths.ts";
export {
  ensurePrivateDir,
  ensurePrivateHome,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
} from "./home.ts";
export {
  listPylonNames,
  loadAllPylons,
  loadDotEnvFile,
  loadGlobalConfig,
  loadPylon,
  onlyUnsetVariables,
  pathClashOf,
  readPathClaims,
} from "./load.ts";
export { claimLocation, pathClaim, pathClashIssue, pathLosers } from "./path_clash.ts";
export type { PathClaim } from "./path_clash.ts";
export type { LoadedGlobal, LoadedPylon, PylonLoadResult } from "./load.ts";
export { expandReferences, findReferences, mergeGlobalEnv, parseDotEnv } from "./env.ts";
export { formatDuration, parseByteSize, parseDuration } from "./duration.ts";
export {
  builtinImage,
  channelTypes,
  hasPublicUrl,
  providerKeyVar,
  resolveChannel,
  resolvePylon,
  webhookUrl,
} from "./resolve.ts";
export type { ResolvedAgent, ResolvedChannel, ResolvedPylon } from "./resolve.ts";
export { DEFAULT_APPROVE_TIMEOUT_MS, unsupportedSettingsNote } from "./agent_settings.ts";
export { matchingRule, permissionRuleProblem } from "./permission_rule.ts";
export { OPENCODE_TOOLS, opencodeMcpConfig, opencodeTools } from "./opencode_settings.ts";
export { type Budget, type BudgetConfig, budgetSchema, resolveBudget } from "./budget.ts";
export type { AgentSettings, McpServerConfig } from "./agent_settings.ts";
export { assertPylonName, pylonNameProblem, suggestPylonName } from "./names.ts";
export { rawTriggerPath, readRawPylon } from "./raw.ts";
export type { RawPylon } from "./raw.ts";
export { SECURITY_FIELDS, securityFingerprint, securityTouch } from "./security.ts";
export type { SecurityFingerprint, SecurityTouch } from "./security.ts";
export { volumeProblem } from "./validate.ts";
export { parseConfigText } from "./parse.ts";
export { withDisabledFlag, writeDisabledFlag } from "./disabled_flag.ts";
export { closest, formatIssue } from "./issues.ts";
export {
  AGENT_TYPES,
  CHANNEL_TYPES,
  globalConfigSchema,
  JOB_STATUSES,
  normalizeWebhookPath,
  pylonConfigSchema,
  TRIGGER_TYPES,
  WORKSPACE_TYPES,
} from "./schema.ts";
export type {
  AgentType,
  ChannelType,
  GitHubSettings,
  GlobalConfig,
  JobStatus,
  PylonConfig,
  SlackSettings,
  TelegramSettings,
  TriggerConfig,
  WebhookSettings,
  WorkspaceConfig,
} from "./schema.ts";
