/**
 * The model API gateway (issue 19): agents call the model API through the daemon with their
 * job's channel token as their API key; the daemon relays each request to the real upstream
 * with the real key (or OAuth token) swapped in, streams the answer back unbuffered, and counts
 * the usage every response reports, so budgets hold mid-run. The routes are
 * `src/daemon/routes/gateway.ts`; whether a pylon uses the gateway is {@linkcode gatewayEnabled}.
 *
 * @module
 */

export { apiError, OAUTH_BETA, RELAY_LIMITS, relayRequest, upstreamHeaders } from "./relay.ts";
export type { RelayLimits, RelayOptions, UpstreamCredential } from "./relay.ts";
export { countsOf, usageMeter } from "./usage_meter.ts";
export type { UsageDelta } from "./usage_meter.ts";
export { costOf, priceOf } from "./pricing.ts";
export type { ModelPrice, TokenCounts } from "./pricing.ts";
export { countedUsageFile, GatewayLedger, readCountedUsage, withCountedUsage } from "./ledger.ts";
export type { CountedUsage } from "./ledger.ts";
export { ANTHROPIC_UPSTREAM, credentialOf, gatewayJobs, jobUsageOf, upstreamOf } from "./jobs.ts";
export type { GatewayJobsDeps } from "./jobs.ts";
export { defaultAgentUrl, gatewayBaseUrl, gatewayEnabled } from "./policy.ts";
