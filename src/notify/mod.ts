/**
 * Announcing jobs on channels and handling what people answer there.
 *
 * @module
 */

export { Notifier, threadKey } from "./notifier.ts";
export type { NotifierDeps } from "./notifier.ts";
export { builtinChannelFactories, ChannelSet } from "./channels.ts";
export type { ChannelFactory, ChannelSetOptions } from "./channels.ts";
