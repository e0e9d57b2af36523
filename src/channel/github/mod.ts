/**
 * The `github` channel: commit statuses and one edited comment per pull request or issue.
 *
 * @module
 */

export {
  commentOf,
  followUpMarker,
  GitHubChannel,
  type GitHubChannelOptions,
  marker,
  statusOf,
} from "./channel.ts";
export { GitHubApi, type GitHubApiOptions, type GitHubComment, type RepoRef } from "./api.ts";
export { type GitHubTarget, githubTarget } from "./target.ts";
