/**
 * The Slack app manifest `pylon setup` prints: paste it at api.slack.com/apps ("From an app
 * manifest"), then create an app-level token with `connections:write` for Socket Mode.
 *
 * @module
 */

import { stringify } from "yaml";

/** Options of {@linkcode slackAppManifest}. */
export interface SlackManifestOptions {
  /** App and bot display name. @default "Pylon" */
  name?: string | undefined;
}

/** Bot scopes pylon uses: post, read thread replies, add the ✅ reaction. */
export const SLACK_BOT_SCOPES = [
  "chat:write",
  "channels:history",
  "channels:read",
  "groups:history",
  "groups:read",
  "reactions:write",
] as const;

/** The app manifest as an object (JSON-serialisable). */
export function slackAppManifest(options: SlackManifestOptions = {}): Record<string, unknown> {
  const name = options.name ?? "Pylon";
  return {
    "display_information": {
      name,
      description: "Runs AI coding agents on your events and reports back here",
    },
    features: {
      "bot_user": { "display_name": name, "always_online": true },
    },
    "oauth_config": { scopes: { bot: [...SLACK_BOT_SCOPES] } },
    settings: {
      "event_subscriptions": { "bot_events": ["message.channels", "message.groups"] },
      interactivity: { "is_enabled": true },
      "org_deploy_enabled": false,
      "socket_mode_enabled": true,
      "token_rotation_enabled": false,
    },
  };
}

/** The app manifest as YAML, as `pylon setup` prints it. */
export function slackAppManifestYaml(options: SlackManifestOptions = {}): string {
  return stringify(slackAppManifest(options));
}
