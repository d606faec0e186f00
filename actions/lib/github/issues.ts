/**
 * Issues opened by scheduled jobs (DR drill, drift), deduplicated by label: while the job keeps failing there
 * is one open issue with the label that collects a comment per failure; success closes it.
 */
import { ActionError } from '../errors.js';
import { gitHubApiError, httpStatus, validationCodes } from './api-error.js';
import type { GitHubClient, RepoRef } from './client.js';
import { MAX_COMMENT_LENGTH } from './comments.js';

export interface ReportFailureOptions {
  /** The label that identifies the job's issue, for example `dr-drill` or `drift:production`. */
  label: string;
  /** Title of a new issue. */
  title: string;
  /** Markdown: the body of a new issue, or the comment on the open one. */
  body: string;
  /** Colour of the label when it has to be created (6 hex digits). Default `d73a4a`. */
  labelColor?: string;
}

export interface ReportedIssue {
  number: number;
  /** The issue's html_url. */
  url: string;
  /** Whether a new issue was opened (else the open one got a comment). */
  created: boolean;
}

export interface ResolveFailureOptions {
  label: string;
  /** Markdown comment left on each issue before it is closed. */
  body: string;
}

interface ApiIssue {
  number: number;
  html_url: string;
  pull_request?: unknown;
}

function checkLabel(label: string) {
  // A comma would split the label in the issues filter; GitHub caps label names at 50 characters.
  if (label.trim() === '' || label.includes(',') || label.length > 50) {
    throw new ActionError('bad-input', `Issue label '${label}' must be 1 to 50 characters without a comma.`);
  }
}

function checkBody(body: string, what: string) {
  if (body.length > MAX_COMMENT_LENGTH) {
    throw new ActionError(
      'comment-too-long',
      `The ${what} has ${body.length} characters; GitHub allows ${MAX_COMMENT_LENGTH}. Truncate it first.`,
    );
  }
}

/** Open issues (not pull requests) that carry `label`, oldest first. */
export async function openIssuesWithLabel(
  client: GitHubClient,
  repo: RepoRef,
  label: string,
): Promise<ApiIssue[]> {
  checkLabel(label);
  let issues: ApiIssue[];
  try {
    issues = await client.paginate(client.rest.issues.listForRepo, {
      ...repo,
      state: 'open',
      labels: label,
      per_page: 100,
    });
  } catch (error) {
    throw gitHubApiError(error, `Listing open issues labelled '${label}' in ${repo.owner}/${repo.repo}`);
  }
  return issues
    .filter((issue) => issue.pull_request === undefined || issue.pull_request === null)
    .sort((a, b) => a.number - b.number);
}

/** Creates the label; one that exists already is fine. */
async function ensureLabel(client: GitHubClient, repo: RepoRef, label: string, color: string) {
  try {
    await client.rest.issues.createLabel({
      ...repo,
      name: label,
      color,
      description: 'Opened by a spark-infra scheduled job; closed when the job succeeds again.',
    });
  } catch (error) {
    if (httpStatus(error) === 422 && validationCodes(error).includes('already_exists')) return;
    throw gitHubApiError(error, `Creating label '${label}' in ${repo.owner}/${repo.repo}`);
  }
}

/**
 * Reports a failure of a scheduled job: comments on the open issue with `label` (the oldest, if there are
 * several), or opens a new issue with that label.
 */
export async function reportFailureIssue(
  client: GitHubClient,
  repo: RepoRef,
  options: ReportFailureOptions,
): Promise<ReportedIssue> {
  checkBody(options.body, `failure report for '${options.label}'`);
  const open = (await openIssuesWithLabel(client, repo, options.label))[0];
  if (open) {
    try {
      await client.rest.issues.createComment({ ...repo, issue_number: open.number, body: options.body });
    } catch (error) {
      throw gitHubApiError(error, `Commenting on issue #${open.number} in ${repo.owner}/${repo.repo}`);
    }
    return { number: open.number, url: open.html_url, created: false };
  }
  await ensureLabel(client, repo, options.label, (options.labelColor ?? 'd73a4a').replace(/^#/, ''));
  try {
    const { data } = await client.rest.issues.create({
      ...repo,
      title: options.title,
      body: options.body,
      labels: [options.label],
    });
    return { number: data.number, url: data.html_url, created: true };
  } catch (error) {
    throw gitHubApiError(error, `Opening an issue labelled '${options.label}' in ${repo.owner}/${repo.repo}`);
  }
}

/**
 * The job succeeded: comments on and closes (as completed) every open issue with `label`. Returns the closed
 * issues' numbers and URLs; [] when there were none.
 */
export async function resolveFailureIssue(
  client: GitHubClient,
  repo: RepoRef,
  options: ResolveFailureOptions,
): Promise<Array<{ number: number; url: string }>> {
  checkBody(options.body, `resolution note for '${options.label}'`);
  const closed: Array<{ number: number; url: string }> = [];
  for (const issue of await openIssuesWithLabel(client, repo, options.label)) {
    try {
      await client.rest.issues.createComment({ ...repo, issue_number: issue.number, body: options.body });
      await client.rest.issues.update({
        ...repo,
        issue_number: issue.number,
        state: 'closed',
        state_reason: 'completed',
      });
    } catch (error) {
      throw gitHubApiError(error, `Closing issue #${issue.number} in ${repo.owner}/${repo.repo}`);
    }
    closed.push({ number: issue.number, url: issue.html_url });
  }
  return closed;
}
