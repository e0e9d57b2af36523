/**
 * The checks behind `pylon doctor`: each file returns `Check` lines for one area (config and
 * pylons, Docker and images, the daemon, its systemd unit, chat APIs, git access, signatures).
 * `commands/doctor.ts` runs them and renders the report; this file is the folder's only door.
 *
 * @module
 */

export { agentSettingsCheck } from "./agent_settings.ts";
export { channelLiveChecks } from "./channels.ts";
export type { ChannelLiveOptions } from "./channels.ts";
export {
  agentAuthCheck,
  caCertificateChecks,
  channelCheck,
  countChecks,
  cronCheck,
  DEFAULTS_NAME,
  envFileCheck,
  forPylons,
  homeCheck,
  renderReport,
  summaryLine,
  webhookCheck,
} from "./checks.ts";
export type { Check, CheckStatus, FetchFn, Fix, WebhookCheckOptions } from "./checks.ts";
export { daemonChecks } from "./daemon.ts";
export { dockerChecks } from "./docker.ts";
export { mountsChecks } from "./mounts.ts";
export { gitChecks } from "./git.ts";
export type { GitCheckOptions } from "./git.ts";
export { dashboardCheck, egressCheck, signatureCheck } from "./security.ts";
export { serviceCheck } from "./service.ts";
export type { ServiceCheckOptions } from "./service.ts";
