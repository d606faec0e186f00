/**
 * apply-infra: applies only the plan that was reviewed. It finds the reviewed plan's fingerprint, plans
 * again, and applies that new saved plan only when its fingerprint is the reviewed one; then it writes the
 * outputs (sensitive ones redacted) and the Ansible inventory, and reports on the PR and in the job summary.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActionOutcome, outputDir, type RunnerDeps } from '../../lib/action-deps.js';
import { inventoryYaml, parseHostsOutput } from '../../lib/ansible-inventory.js';
import { loadEnvironment } from '../../lib/environments/index.js';
import { ActionError, toActionError } from '../../lib/errors.js';
import { commentBodyBudget, upsertPullRequestComment } from '../../lib/github/index.js';
import { SUMMARY_LIMIT_BYTES } from '../../lib/markdown.js';
import type { Terraform } from '../../lib/terraform/cli.js';
import { comparePlans } from '../../lib/terraform/fingerprint.js';
import { planCommentKey } from '../../lib/terraform/inputs.js';
import { makePlan, type PlannedChange, terraformFailure } from '../../lib/terraform/planning.js';
import { SENSITIVE } from '../../lib/terraform/redact.js';
import { protectedChanges } from '../../lib/terraform/risk.js';
import type { ApplyInfraInputs } from './inputs.js';
import { type ApplyReport, renderApplyReport } from './report.js';
import { findReviewedPlan, type ReviewedPlan } from './reviewed-plan.js';

export const ACTION = 'apply-infra';

/** Failures that stop before anything is applied, by design. */
const REFUSALS: string[] = ['plan-changed', 'no-reviewed-plan', 'protected-destroy'];

interface TerraformOutput {
  value: unknown;
  sensitive?: boolean;
}

/** `terraform output -json` with sensitive values redacted, and the raw file removed. */
async function readOutputs(terraform: Terraform): Promise<Record<string, TerraformOutput>> {
  const rawPath = await terraform.outputJson();
  const outputs = JSON.parse(readFileSync(rawPath, 'utf8') || '{}') as Record<string, TerraformOutput>;
  rmSync(rawPath, { force: true });
  for (const output of Object.values(outputs)) if (output.sensitive) output.value = SENSITIVE;
  return outputs;
}

function refuseChanged(reviewed: ReviewedPlan, planned: PlannedChange, report: ApplyReport): ActionError {
  const lines = reviewed.marker?.changes;
  if (lines) report.difference = comparePlans(lines, planned.changeLines);
  const d = report.difference;
  const what = d
    ? [
        ...d.added.map((x) => `+ ${x.address} (${x.actions}), not in the reviewed plan`),
        ...d.removed.map((x) => `- ${x.address} (${x.actions}), no longer planned`),
        ...d.actionsChanged.map((x) => `~ ${x.address}: reviewed ${x.reviewed}, now ${x.now}`),
        ...d.valuesChanged.map((a) => `~ ${a}: same action, other values`),
      ]
    : [];
  return new ActionError(
    'plan-changed',
    `The plan for ${report.environment} is not the one that was reviewed (fingerprint ${planned.fingerprint.slice(0, 16)}, ` +
      `reviewed ${reviewed.fingerprint.slice(0, 16)}). Nothing was applied.` +
      (what.length
        ? `\n${what.slice(0, 20).join('\n')}${what.length > 20 ? `\n… and ${what.length - 20} more` : ''}`
        : ''),
    { details: what },
  );
}

export async function runApplyInfra(inputs: ApplyInfraInputs, deps: RunnerDeps): Promise<ActionOutcome> {
  const environment = await loadEnvironment(inputs.environment, { root: deps.root });
  const report: ApplyReport = {
    status: 'refused',
    environment: inputs.environment,
    workingDirectory: inputs.workingDirectory,
    ...(deps.sha ? { sha: deps.sha } : {}),
    ...(deps.runUrl ? { runUrl: deps.runUrl } : {}),
  };
  const outputs: Record<string, string | number | boolean> = {
    applied: false,
    'outputs-path': '',
    'inventory-path': '',
  };
  const outDir = outputDir(deps, ACTION, inputs.environment, inputs.workingDirectory);

  let failure: ActionError | undefined;
  let planned: PlannedChange | undefined;
  try {
    const reviewed = await findReviewedPlan({
      ...(inputs.reviewedFingerprint ? { reviewedFingerprint: inputs.reviewedFingerprint } : {}),
      environment: inputs.environment,
      workingDirectory: inputs.workingDirectory,
      ...(deps.sha ? { sha: deps.sha } : {}),
      ...(deps.github ? { github: deps.github } : {}),
    });
    report.reviewed = reviewed;
    deps.log(
      `Reviewed plan: ${reviewed.fingerprint} (${reviewed.source === 'input' ? 'input' : `PR #${reviewed.pullRequest?.number}`}).`,
    );
    planned = await makePlan(inputs, { ...deps, outDir });
    report.fingerprint = planned.fingerprint;
    report.counts = planned.plan.counts;
    report.outputs = planned.plan.outputs.length;
    if (planned.fingerprint !== reviewed.fingerprint) throw refuseChanged(reviewed, planned, report);

    const hits = protectedChanges(
      planned.plan.changes,
      environment.hosts.filter((h) => h.protected).map((h) => h.name),
    );
    const labels = reviewed.pullRequest?.labels;
    if (hits.length > 0 && labels && !labels.includes(inputs.approvalLabel)) {
      throw new ActionError(
        'protected-destroy',
        `The plan destroys or replaces protected host(s) ${[...new Set(hits.map((h) => h.host))].join(', ')}, ` +
          `and PR #${reviewed.pullRequest?.number} was merged without the label '${inputs.approvalLabel}'. Nothing was applied.`,
      );
    }

    if (!planned.plan.hasChanges) {
      report.status = 'no-changes';
      deps.log('The reviewed plan has no changes; nothing to apply.');
    } else {
      const terraform = planned.terraform;
      const run = await deps.group(`terraform apply (${inputs.environment})`, () =>
        terraform.apply(planned?.planPath as string, { lockTimeout: inputs.lockTimeout }),
      );
      report.applied = run.progress.applied.map((r) => r.address);
      report.failed = run.progress.failed.map((r) => r.address);
      if (run.result.exitCode !== 0) {
        const done = new Set([...report.applied, ...report.failed]);
        report.notApplied = planned.plan.changes
          .filter((c) => c.kind !== 'no-op' && c.kind !== 'read' && !done.has(c.address))
          .map((c) => c.address);
        const error = await terraformFailure('apply', run.progress, {
          inputs,
          terraform,
          masker: deps.masker,
        });
        if (error.reason !== 'apply-failed') throw error;
        throw new ActionError(
          'apply-failed',
          `terraform apply failed for ${inputs.environment}: ${report.applied.length} change(s) applied, ` +
            `${report.failed.length} failed, ${report.notApplied.length} not applied. The state records what was applied.\n` +
            error.details.join('\n'),
          { details: error.details },
        );
      }
      report.status = 'applied';
      outputs.applied = true;
    }

    const values = await readOutputs(planned.terraform);
    const outputsPath = join(outDir, 'outputs.json');
    writeFileSync(outputsPath, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
    outputs['outputs-path'] = outputsPath;
    if (values.hosts) {
      const hosts = parseHostsOutput(values.hosts.value);
      const inventoryPath = join(outDir, 'inventory.yml');
      writeFileSync(inventoryPath, inventoryYaml(hosts, inputs.environment));
      outputs['inventory-path'] = inventoryPath;
      report.inventoryHosts = Object.keys(hosts).length;
    } else {
      deps.warn('The root module has no `hosts` output, so no Ansible inventory was written.');
    }
  } catch (error) {
    failure = toActionError(error);
    report.status = REFUSALS.includes(failure.reason) ? 'refused' : 'failed';
    report.reason = failure.reason;
    report.message = failure.message;
  } finally {
    planned?.dispose();
  }

  const pullRequest = report.reviewed?.pullRequest;
  if (pullRequest && deps.github && inputs.comment) {
    const key = planCommentKey(inputs.environment, inputs.workingDirectory);
    const data = { status: report.status, fingerprint: report.fingerprint ?? '', sha: deps.sha ?? '' };
    try {
      const comment = await upsertPullRequestComment(deps.github.client, deps.github.repo, {
        issueNumber: pullRequest.number,
        action: ACTION,
        key,
        data,
        body: renderApplyReport(report, commentBodyBudget(ACTION, key, data)),
      });
      outputs['comment-url'] = comment.url;
    } catch (error) {
      deps.warn(`Could not comment the result on PR #${pullRequest.number}: ${toActionError(error).message}`);
    }
  }
  return {
    outputs,
    summary: renderApplyReport(report, Math.floor(SUMMARY_LIMIT_BYTES / 2)),
    ...(failure ? { failure } : {}),
  };
}
