import { gitHubApiError, httpStatus } from './api-error.js';
import type { GitHubClient, RepoRef } from './client.js';

export interface MergedPullRequest {
  number: number;
  headSha: string;
  mergeCommitSha: string | null;
  /** The PR's html_url. */
  url: string;
  /** Label names. */
  labels: string[];
}

export interface EventPullRequest {
  number: number;
  headSha: string;
}

interface ApiPull {
  number: number;
  html_url: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  head: { sha: string };
  labels: Array<{ name?: string } | string>;
}

/**
 * The merged pull request that brought commit `sha` to the repository (for a push to main: the PR whose merge,
 * squash or rebase produced it), or undefined when there is none (a direct push). A PR whose merge commit is
 * `sha` wins; otherwise the first merged PR GitHub lists for the commit. A commit GitHub does not know (422
 * `No commit found for SHA`, such as one that was never pushed) has no pull request either: undefined.
 */
export async function findMergedPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
): Promise<MergedPullRequest | undefined> {
  let pulls: ApiPull[];
  try {
    pulls = await client.paginate(client.rest.repos.listPullRequestsAssociatedWithCommit, {
      ...repo,
      commit_sha: sha,
      per_page: 100,
    });
  } catch (error) {
    if (isNoCommitFound(error)) return undefined;
    throw gitHubApiError(error, `Looking up the pull request of commit ${sha} in ${repo.owner}/${repo.repo}`);
  }
  const merged = pulls.filter((pull) => pull.merged_at !== null && pull.merged_at !== undefined);
  const pull = merged.find((candidate) => candidate.merge_commit_sha === sha) ?? merged[0];
  if (!pull) return undefined;
  return {
    number: pull.number,
    headSha: pull.head.sha,
    mergeCommitSha: pull.merge_commit_sha,
    url: pull.html_url,
    labels: pull.labels
      .map((label) => (typeof label === 'string' ? label : label.name))
      .filter((name): name is string => typeof name === 'string'),
  };
}

/** GitHub's answer for a sha it has no commit for: 422 `{ message: 'No commit found for SHA: <sha>' }`. */
function isNoCommitFound(error: unknown): boolean {
  if (httpStatus(error) !== 422) return false;
  const data = (error as { response?: { data?: unknown } }).response?.data;
  const message =
    typeof data === 'object' && data !== null ? (data as { message?: unknown }).message : undefined;
  const text = typeof message === 'string' ? message : error instanceof Error ? error.message : '';
  return /^No commit found for SHA\b/i.test(text);
}

/** Adds labels to an issue or pull request (GitHub creates unknown labels). Returns all its label names. */
export async function addLabels(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  labels: string[],
): Promise<string[]> {
  if (labels.length === 0) return [];
  try {
    const { data } = await client.rest.issues.addLabels({ ...repo, issue_number: issueNumber, labels });
    return data.map((label) => label.name);
  } catch (error) {
    throw gitHubApiError(
      error,
      `Adding labels ${labels.join(', ')} to #${issueNumber} in ${repo.owner}/${repo.repo}`,
    );
  }
}

/**
 * The pull request of a `pull_request` / `pull_request_target` event payload (`github.context.payload`), or
 * undefined for other events.
 */
export function pullRequestFromEvent(payload: unknown): EventPullRequest | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const pull = (payload as { pull_request?: unknown }).pull_request;
  if (typeof pull !== 'object' || pull === null) return undefined;
  const { number, head } = pull as { number?: unknown; head?: { sha?: unknown } | null };
  const headSha = head?.sha;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) return undefined;
  if (typeof headSha !== 'string' || headSha === '') return undefined;
  return { number, headSha };
}
