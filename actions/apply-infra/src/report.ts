/**
 * apply-infra's report, for the job summary and the PR comment: what was compared (the reviewed plan and
 * the new one), what was applied, and on a refusal or failure exactly what differed or what was and was not
 * applied.
 */
import { fitToBudget, inlineCode, table } from '../../lib/markdown.js';
import { countsTable } from '../../lib/terraform/counts-table.js';
import type { PlanDifference } from '../../lib/terraform/fingerprint.js';
import type { Counts } from '../../lib/terraform/plan-json.js';
import type { ReviewedPlan } from './reviewed-plan.js';

export type ApplyStatus = 'applied' | 'no-changes' | 'refused' | 'failed';

export interface ApplyReport {
  status: ApplyStatus;
  environment: string;
  workingDirectory: string;
  reviewed?: ReviewedPlan;
  fingerprint?: string;
  counts?: Counts;
  outputs?: number;
  /** On plan-changed: what differs, or undefined when the reviewed plan recorded no change list. */
  difference?: PlanDifference;
  applied?: string[];
  failed?: string[];
  notApplied?: string[];
  inventoryHosts?: number;
  /** The failure's reason and message. */
  reason?: string;
  message?: string;
  sha?: string;
  runUrl?: string;
}

export const LIST_LIMIT = 100;

const TITLES: Record<ApplyStatus, string> = {
  applied: '✅ Applied',
  'no-changes': '✅ Nothing to apply',
  refused: '⛔ Apply refused',
  failed: '❌ Apply failed',
};

function list(title: string, items: readonly string[] | undefined): string | undefined {
  if (!items || items.length === 0) return undefined;
  const shown = items.slice(0, LIST_LIMIT).map((a) => `- ${inlineCode(a)}`);
  if (items.length > LIST_LIMIT) shown.push(`- … and ${items.length - LIST_LIMIT} more`);
  return `**${title}** (${items.length})\n${shown.join('\n')}`;
}

export function differenceTable(difference: PlanDifference): string {
  const rows: string[][] = [
    ...difference.added.map((d) => [inlineCode(d.address), 'not in the reviewed plan', d.actions]),
    ...difference.removed.map((d) => [inlineCode(d.address), `reviewed: ${d.actions}`, 'no longer planned']),
    ...difference.actionsChanged.map((d) => [inlineCode(d.address), `reviewed: ${d.reviewed}`, d.now]),
    ...difference.valuesChanged.map((a) => [inlineCode(a), 'same action', 'other values']),
  ];
  const more = rows.length > LIST_LIMIT ? `\n\n… and ${rows.length - LIST_LIMIT} more` : '';
  return `${table(['address', 'reviewed', 'now'], rows.slice(0, LIST_LIMIT))}${more}`;
}

function reviewedLine(report: ApplyReport): string | undefined {
  const reviewed = report.reviewed;
  if (!reviewed) return undefined;
  const from =
    reviewed.source === 'input'
      ? 'the reviewed-fingerprint input'
      : `the plan comment${reviewed.commentUrl ? ` ([link](${reviewed.commentUrl}))` : ''} on PR #${reviewed.pullRequest?.number}` +
        (reviewed.marker?.headSha ? `, planned at ${inlineCode(reviewed.marker.headSha.slice(0, 12))}` : '');
  const now = report.fingerprint
    ? report.fingerprint === reviewed.fingerprint
      ? 'the new plan matches it'
      : `the new plan has ${inlineCode(report.fingerprint.slice(0, 16))}`
    : '';
  return `Reviewed plan ${inlineCode(reviewed.fingerprint.slice(0, 16))} from ${from}${now ? `; ${now}` : ''}.`;
}

export function renderApplyReport(report: ApplyReport, budget: number): string {
  const parts = [
    `### ${TITLES[report.status]}: ${inlineCode(report.environment)} · ${inlineCode(report.workingDirectory)}`,
  ];
  if (report.message) parts.push(`**${report.reason ?? 'failed'}**: ${report.message.split('\n')[0]}`);
  const reviewed = reviewedLine(report);
  if (reviewed) parts.push(reviewed);
  if (report.reason === 'plan-changed' && report.reviewed) {
    parts.push(
      report.difference
        ? `What differs from the reviewed plan:\n\n${differenceTable(report.difference)}`
        : "The reviewed plan had too many changes to record them one by one; compare its comment with this run's plan.",
    );
    parts.push(
      'Nothing was applied. Open a pull request with the current state of main to review the new plan.',
    );
  }
  if (report.counts && report.status !== 'refused')
    parts.push(countsTable(report.counts, report.outputs ?? 0));
  for (const section of [
    list('Applied', report.applied),
    list('Failed', report.failed),
    list('Not applied', report.notApplied),
  ]) {
    if (section) parts.push(section);
  }
  if (report.inventoryHosts !== undefined) {
    parts.push(`Ansible inventory written for ${report.inventoryHosts} host(s).`);
  }
  const footer = [
    report.sha ? `commit ${inlineCode(report.sha.slice(0, 12))}` : '',
    report.runUrl ? `[workflow run](${report.runUrl})` : '',
  ].filter(Boolean);
  return fitToBudget({
    summary: parts.join('\n\n'),
    ...(footer.length ? { footer: `<sub>${footer.join(' · ')}</sub>` } : {}),
    budget,
  }).text;
}
