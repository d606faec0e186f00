export { gitHubApiError, httpStatus, responseHeader, validationCodes } from './api-error.js';
export type { GitHubClient, GitHubClientOptions, RepoRef } from './client.js';
export { createGitHubClient, DEFAULT_API_URL, parseRepo, repoFromEnv, retryWait } from './client.js';
export type { CommentTarget, FoundComment, UpsertCommentOptions, UpsertedComment } from './comments.js';
export {
  commentBodyBudget,
  findPullRequestComment,
  MAX_COMMENT_LENGTH,
  upsertPullRequestComment,
} from './comments.js';
export type { ReportedIssue, ReportFailureOptions, ResolveFailureOptions } from './issues.js';
export { openIssuesWithLabel, reportFailureIssue, resolveFailureIssue } from './issues.js';
export { formatMarker, hasMarker, markerPrefix, parseMarker } from './marker.js';
export type { EventPullRequest, MergedPullRequest } from './pulls.js';
export { addLabels, findMergedPullRequest, pullRequestFromEvent } from './pulls.js';
export { runUrl } from './run-url.js';
