/**
 * The Slack channel: Web API for posting, Socket Mode for buttons and replies, one socket per app
 * token shared by every pylon that uses it.
 *
 * ```ts
 * const hubs = new Map<string, SlackHub>();             // one per daemon
 * const channel = slackChannelFor(pylon.channel.slack, { hubs, log }); // per pylon; no I/O
 * await channel.start(signal);                           // connects (or joins) the socket
 * const thread = await channel.createThread("Sentry: TypeError in checkout"); // {channel, ts}
 * ```
 *
 * Refs are `{ channel, ts }`: a thread is its top-level message, a message is itself.
 *
 * **Why a thin client over `fetch` + `WebSocket` and not `npm:@slack/web-api` /
 * `npm:@slack/socket-mode`** (both work under Deno 2.9.6 with the daemon's flags, checked against
 * a loopback server): pylon needs an injected `fetch`, `WebSocket` and timers to test offline,
 * errors as {@linkcode ChannelError} with `retryable`/`retryAfter`, a bounded 429 policy and one
 * socket routed to many conversations. The libraries go through axios and `ws` (neither
 * injectable), log to the console by default, retry for minutes on their own, and axios errors
 * carry the request config, Authorization header included, which would put tokens in logs. The
 * five Web API methods and the Socket Mode protocol (`hello`, `disconnect`, envelopes acked by
 * `envelope_id`) fit in a few hundred lines, without ~45 transitive packages.
 *
 * This area imports only `../channel.ts`, `errors.ts`, `log/` and config types; nothing imports it
 * but the composition root (and tests).
 *
 * @module
 */

export { createSlackHub, slackChannelFor, SlackHub, tokenId } from "./hub.ts";
export type { SlackChannelDeps, SlackClock, SlackHubOptions, SlackViewSettings } from "./hub.ts";
export { MAX_MESSAGE_CHARS, messageBlocks, SlackChannel, slackPermalink } from "./channel.ts";
export type { SlackChannelSettings } from "./channel.ts";
export { redactTokens, SlackApi } from "./api.ts";
export type { SlackApiOptions, SlackResponse, Sleep } from "./api.ts";
export { escapeMrkdwn, markdownToMrkdwn } from "./format.ts";
export { splitMrkdwn } from "./split.ts";
export { mrkdwnToPlain, normaliseText } from "./events.ts";
export { SLACK_BOT_SCOPES, slackAppManifest, slackAppManifestYaml } from "./manifest.ts";
export type { SlackManifestOptions } from "./manifest.ts";
export type { WebSocketFactory } from "./socket.ts";
