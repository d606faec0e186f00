/**
 * plan-infra: plans one environment, judges the risk, and reports: a PR comment upserted by marker (on
 * pull requests), the job summary (always), and in drift mode one issue per environment kept in step.
 */

import { type ActionOutcome, outputDir, type RunnerDeps } from '../../lib/action-deps.js';
import { loadEnvironment } from '../../lib/environments/index.js';
import { ActionError } from '../../lib/errors.js';
import {
  addLabels,
  commentBodyBudget,
  type EventPullRequest,
  reportFailureIssue,
  resolveFailureIssue,
  upsertPullRequestComment,
} from '../../lib/github/index.js';
import { COMMENT_LIMIT, SUMMARY_LIMIT_BYTES } from '../../lib/markdown.js';
import { planCommentKey } from '../../lib/terraform/inputs.js';
import type { Plan } from '../../lib/terraform/plan-json.js';
import { PLAN_COMMENT_ACTION, planMarker } from '../../lib/terraform/plan-marker.js';
import { makePlan } from '../../lib/terraform/planning.js';
import { protectedChanges, riskOf } from '../../lib/terraform/risk.js';
import { type PlanView, renderPlan } from './comment.js';
import { driftLabel, driftReport, hasDrift } from './drift.js';
import type { PlanInfraInputs } from './inputs.js';

export const ACTION = PLAN_COMMENT_ACTION;

export interface PlanInfraDeps extends RunnerDeps {
  pullRequest?: EventPullRequest;
}

export async function runPlanInfra(inputs: PlanInfraInputs, deps: PlanInfraDeps): Promise<ActionOutcome> {
  const environment = await loadEnvironment(inputs.environment, { root: deps.root });
  const planned = await makePlan(
    inputs,
    { ...deps, outDir: outputDir(deps, ACTION, inputs.environment, inputs.workingDirectory) },
    { refreshOnly: false },
  );
  planned.dispose();
  const { plan } = planned;
  const hits = protectedChanges(
    plan.changes,
    environment.hosts.filter((h) => h.protected).map((h) => h.name),
  );
  const risk = riskOf(plan, hits);
  deps.log(`Fingerprint ${planned.fingerprint}, risk ${risk}.`);
  const outputs: Record<string, string | number | boolean> = {
    changes: plan.hasChanges,
    'to-add': plan.counts.create,
    'to-change': plan.counts.update,
    'to-replace': plan.counts.replace,
    'to-destroy': plan.counts.destroy,
    'plan-path': planned.planPath,
    'json-plan-path': planned.jsonPlanPath,
    fingerprint: planned.fingerprint,
    risk,
    'comment-url': '',
  };
  const headSha = deps.pullRequest?.headSha ?? deps.sha;
  const view: PlanView = {
    environment: inputs.environment,
    workingDirectory: inputs.workingDirectory,
    plan,
    fingerprint: planned.fingerprint,
    risk,
    protectedChanges: hits,
    approvalLabel: inputs.approvalLabel,
    showText: planned.showText,
    ...(headSha ? { headSha } : {}),
    ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
  };

  if (inputs.mode === 'drift') return reportDrift(inputs, deps, plan, outputs);

  let failure: ActionError | undefined;
  const { github, pullRequest } = deps;
  if (pullRequest && github) {
    if (risk === 'high') {
      const labels = await addLabels(github.client, github.repo, pullRequest.number, [inputs.riskLabel]);
      view.approved = labels.includes(inputs.approvalLabel);
      if (!view.approved) {
        failure = new ActionError(
          'protected-destroy',
          `The plan for ${inputs.environment} destroys or replaces protected host(s) ` +
            `${[...new Set(hits.map((h) => h.host))].join(', ')}. Add the label '${inputs.approvalLabel}' to ` +
            `PR #${pullRequest.number} to approve, then re-run this job.`,
          { details: hits.map((h) => `${h.kind}: ${h.address}`) },
        );
      }
    }
    if (inputs.comment) {
      const key = planCommentKey(inputs.environment, inputs.workingDirectory);
      const data = planMarker(
        {
          fingerprint: planned.fingerprint,
          ...(headSha ? { headSha } : {}),
          environment: inputs.environment,
          workingDirectory: inputs.workingDirectory,
          counts: plan.counts,
          risk,
        },
        planned.changeLines,
      );
      const body = renderPlan(view, commentBodyBudget(ACTION, key, data)).text;
      const comment = await upsertPullRequestComment(github.client, github.repo, {
        issueNumber: pullRequest.number,
        action: ACTION,
        key,
        data,
        body,
      });
      outputs['comment-url'] = comment.url;
      deps.log(
        `${comment.created ? 'Commented' : 'Updated the comment'} on PR #${pullRequest.number}: ${comment.url}`,
      );
    }
  } else if (pullRequest && inputs.comment) {
    deps.warn('No github-token: the plan is in the job summary only, not on the pull request.');
  } else if (risk === 'high') {
    deps.warn(
      `The plan destroys or replaces protected host(s) ${[...new Set(hits.map((h) => h.host))].join(', ')}.`,
    );
  }
  // The summary may be much longer than a comment; it still fits the 1 MiB limit with room for the failure.
  const summary = renderPlan(view, Math.floor(SUMMARY_LIMIT_BYTES / 2)).text;
  return { outputs, summary, ...(failure ? { failure } : {}) };
}

async function reportDrift(
  inputs: PlanInfraInputs,
  deps: PlanInfraDeps,
  plan: Plan,
  outputs: Record<string, string | number | boolean>,
): Promise<ActionOutcome> {
  const drifted = hasDrift(plan);
  const view = {
    environment: inputs.environment,
    workingDirectory: inputs.workingDirectory,
    plan,
    ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
    ...(deps.sha ? { sha: deps.sha } : {}),
  };
  const body = driftReport(view, COMMENT_LIMIT);
  let issueUrl = '';
  if (deps.github) {
    const label = driftLabel(inputs.environment);
    if (drifted) {
      const issue = await reportFailureIssue(deps.github.client, deps.github.repo, {
        label,
        title: `Drift in ${inputs.environment} (${inputs.workingDirectory})`,
        body,
        labelColor: 'fbca04',
      });
      issueUrl = issue.url;
      deps.log(`${issue.created ? 'Opened' : 'Commented on'} drift issue #${issue.number}: ${issue.url}`);
    } else {
      const closed = await resolveFailureIssue(deps.github.client, deps.github.repo, { label, body });
      issueUrl = closed[0]?.url ?? '';
      for (const issue of closed) deps.log(`Closed drift issue #${issue.number}: no drift any more.`);
    }
  } else {
    deps.warn('No github-token: drift is reported in the job summary only, no issue is kept.');
  }
  return {
    outputs: { ...outputs, drift: drifted, 'drift-count': plan.drift.length, 'issue-url': issueUrl },
    summary: driftReport(view, Math.floor(SUMMARY_LIMIT_BYTES / 2)),
  };
}
