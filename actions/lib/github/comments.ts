import { ActionError } from '../errors.js';
import { COMMENT_LIMIT } from '../markdown.js';
import { gitHubApiError, httpStatus } from './api-error.js';
import type { GitHubClient, RepoRef } from './client.js';
import { formatMarker, hasMarker, parseMarker } from './marker.js';

/** GitHub's limit for the body of an issue or PR comment (and of an issue). */
export const MAX_COMMENT_LENGTH = COMMENT_LIMIT;
/** The login of the workflow's GITHUB_TOKEN. */
export const DEFAULT_AUTHOR = 'github-actions[bot]';

export interface CommentTarget {
  /** The PR (or issue) number. */
  issueNumber: number;
  action: string;
  key: string;
  /**
   * Whose comments count. Default: `github-actions[bot]`, the identity of the workflow's GITHUB_TOKEN, so
   * that neither a person nor another bot (dependabot, renovate, any installed app) can plant a marker an
   * action would trust. Give the login when a GitHub App or a user token writes the comments.
   */
  authors?: string[];
}

export interface UpsertCommentOptions extends CommentTarget {
  /** JSON data for the hidden marker. */
  data: unknown;
  /** The visible Markdown; the marker line is put before it. */
  body: string;
}

export interface UpsertedComment {
  id: number;
  /** The comment's html_url. */
  url: string;
  created: boolean;
}

export interface FoundComment<T = unknown> {
  id: number;
  url: string;
  /** The whole body as stored, marker line included. */
  body: string;
  /** The marker's data, or undefined when it holds no valid JSON. */
  data: T | undefined;
  createdAt: string;
  updatedAt: string;
}

interface ApiComment {
  id: number;
  html_url: string;
  body?: string | null;
  created_at: string;
  updated_at: string;
  user?: { login: string; type?: string } | null;
}

/** Room left for the visible body once the marker for `data` is in. */
export function commentBodyBudget(action: string, key: string, data: unknown): number {
  return MAX_COMMENT_LENGTH - formatMarker(action, key, data).length - 1;
}

function trusted(comment: ApiComment, authors: string[] | undefined): boolean {
  const user = comment.user;
  if (!user) return false;
  if (authors !== undefined) return authors.some((login) => login.toLowerCase() === user.login.toLowerCase());
  return user.login === DEFAULT_AUTHOR;
}

/** Our comments on the issue, oldest first. */
async function matchingComments(
  client: GitHubClient,
  repo: RepoRef,
  target: CommentTarget,
): Promise<ApiComment[]> {
  let comments: ApiComment[];
  try {
    comments = await client.paginate(client.rest.issues.listComments, {
      ...repo,
      issue_number: target.issueNumber,
      per_page: 100,
    });
  } catch (error) {
    throw gitHubApiError(
      error,
      `Listing the comments of #${target.issueNumber} in ${repo.owner}/${repo.repo}`,
    );
  }
  return comments
    .filter((comment) => trusted(comment, target.authors))
    .filter((comment) => hasMarker(comment.body ?? '', target.action, target.key))
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
}

/**
 * Creates or updates the comment that carries the marker of `action` and `key` on PR `issueNumber`. The
 * marker line goes first, then `body`. When a race left several such comments, the newest is updated and the
 * others are deleted. An unchanged body is not written again. A body over 65,536 characters (marker
 * included) is refused: truncate first, see `commentBodyBudget`.
 */
export async function upsertPullRequestComment(
  client: GitHubClient,
  repo: RepoRef,
  options: UpsertCommentOptions,
): Promise<UpsertedComment> {
  const text = `${formatMarker(options.action, options.key, options.data)}\n${options.body}`;
  if (text.length > MAX_COMMENT_LENGTH) {
    throw new ActionError(
      'comment-too-long',
      `The ${options.action} comment for #${options.issueNumber} has ${text.length} characters; GitHub allows ` +
        `${MAX_COMMENT_LENGTH}. Truncate the body to ${commentBodyBudget(options.action, options.key, options.data)} ` +
        'characters before posting.',
    );
  }
  const existing = await matchingComments(client, repo, options);
  const newest = existing.at(-1);
  if (!newest) {
    try {
      const { data } = await client.rest.issues.createComment({
        ...repo,
        issue_number: options.issueNumber,
        body: text,
      });
      return { id: data.id, url: data.html_url, created: true };
    } catch (error) {
      throw gitHubApiError(error, `Commenting on #${options.issueNumber} in ${repo.owner}/${repo.repo}`);
    }
  }

  let url = newest.html_url;
  if (newest.body !== text) {
    try {
      const { data } = await client.rest.issues.updateComment({ ...repo, comment_id: newest.id, body: text });
      url = data.html_url;
    } catch (error) {
      throw gitHubApiError(error, `Updating comment ${newest.id} on #${options.issueNumber}`);
    }
  }
  for (const duplicate of existing.slice(0, -1)) {
    try {
      await client.rest.issues.deleteComment({ ...repo, comment_id: duplicate.id });
    } catch (error) {
      // Another run may have removed it already.
      if (httpStatus(error) !== 404) {
        throw gitHubApiError(error, `Deleting duplicate comment ${duplicate.id} on #${options.issueNumber}`);
      }
    }
  }
  return { id: newest.id, url, created: false };
}

/** The newest comment on PR `issueNumber` carrying the marker of `action` and `key`, with its marker data. */
export async function findPullRequestComment<T = unknown>(
  client: GitHubClient,
  repo: RepoRef,
  target: CommentTarget,
): Promise<FoundComment<T> | undefined> {
  const newest = (await matchingComments(client, repo, target)).at(-1);
  if (!newest) return undefined;
  const body = newest.body ?? '';
  return {
    id: newest.id,
    url: newest.html_url,
    body,
    data: parseMarker<T>(body, target.action, target.key),
    createdAt: newest.created_at,
    updatedAt: newest.updated_at,
  };
}
