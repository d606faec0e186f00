/**
 * Finds the plan that was reviewed: the fingerprint given as input (plan → approval → apply in one run),
 * or the plan comment, for the same environment and directory, on the pull request whose merge made the
 * pushed commit. Only comments by the workflow's own identity are trusted.
 */
import { ActionError } from '../../lib/errors.js';
import {
  findMergedPullRequest,
  findPullRequestComment,
  type GitHubClient,
  type MergedPullRequest,
  type RepoRef,
} from '../../lib/github/index.js';
import { planCommentKey } from '../../lib/terraform/inputs.js';
import { isPlanMarker, PLAN_COMMENT_ACTION, type PlanMarker } from '../../lib/terraform/plan-marker.js';

export interface ReviewedPlan {
  fingerprint: string;
  source: 'input' | 'comment';
  marker?: PlanMarker;
  pullRequest?: MergedPullRequest;
  commentUrl?: string;
}

export async function findReviewedPlan(options: {
  reviewedFingerprint?: string;
  environment: string;
  workingDirectory: string;
  sha?: string;
  github?: { client: GitHubClient; repo: RepoRef };
}): Promise<ReviewedPlan> {
  if (options.reviewedFingerprint) return { fingerprint: options.reviewedFingerprint, source: 'input' };
  const { github, sha } = options;
  if (!github || !sha) {
    throw new ActionError(
      'no-reviewed-plan',
      'There is no reviewed plan to compare with: give reviewed-fingerprint, or run on a push with a ' +
        'github-token so the merged pull request and its plan comment can be found. Nothing was applied.',
    );
  }
  const pullRequest = await findMergedPullRequest(github.client, github.repo, sha);
  if (!pullRequest) {
    throw new ActionError(
      'no-reviewed-plan',
      `Commit ${sha.slice(0, 12)} did not come from a merged pull request (a direct push?), so no plan was ` +
        'reviewed for it. Open a pull request, or give reviewed-fingerprint. Nothing was applied.',
    );
  }
  const key = planCommentKey(options.environment, options.workingDirectory);
  const comment = await findPullRequestComment(github.client, github.repo, {
    issueNumber: pullRequest.number,
    action: PLAN_COMMENT_ACTION,
    key,
  });
  if (!comment || !isPlanMarker(comment.data)) {
    throw new ActionError(
      'no-reviewed-plan',
      `PR #${pullRequest.number} has no ${comment ? 'readable ' : ''}plan comment for ${options.environment} ` +
        `(${options.workingDirectory}) by the workflow, so nothing was reviewed for it. Nothing was applied; ` +
        'run plan-infra on the pull request (or apply with reviewed-fingerprint).',
    );
  }
  return {
    fingerprint: comment.data.fingerprint,
    source: 'comment',
    marker: comment.data,
    pullRequest,
    commentUrl: comment.url,
  };
}
