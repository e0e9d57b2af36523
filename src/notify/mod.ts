/**
 * Announcing jobs on channels and handling what people answer there.
 *
 * @module
 */

export { createFollowUp, Notifier, threadKey } from "./notifier.ts";
export type { NotifierDeps } from "./notifier.ts";
export { builtinChannels, ChannelSet } from "./channels.ts";
export { StreamedLines } from "../channel/stdout_lines.ts";
export type { ChannelFactory, ChannelKit, ChannelOrigin, ChannelSetOptions } from "./channels.ts";
