/**
 * Drift in Markdown, for the issue kept per environment (label `drift:<environment>`): what changed outside
 * Terraform (`resource_drift`, found by refreshing), and what an apply of the current configuration would
 * change (state edited behind Terraform's back, or configuration merged but never applied).
 */
import { fitToBudget, inlineCode, table } from '../../lib/markdown.js';
import { changedAttributes, type Plan, type ResourceChange } from '../../lib/terraform/plan-json.js';

export const DRIFT_ROWS = 100;

export function driftLabel(environment: string): string {
  return `drift:${environment}`;
}

export function hasDrift(plan: Plan): boolean {
  return plan.drift.length > 0 || plan.hasChanges;
}

function rows(changes: readonly ResourceChange[]): string {
  const body = changes
    .slice(0, DRIFT_ROWS)
    .map((c) => [inlineCode(c.address), c.kind, changedAttributes(c).map(inlineCode).join(', ')]);
  const more = changes.length > DRIFT_ROWS ? `\n\n… and ${changes.length - DRIFT_ROWS} more` : '';
  return `${table(['resource', 'change', 'attributes'], body)}${more}`;
}

export interface DriftView {
  environment: string;
  workingDirectory: string;
  plan: Plan;
  runUrl?: string;
  sha?: string;
}

export function driftReport(view: DriftView, budget: number): string {
  const { plan } = view;
  const parts = [`### Drift in ${inlineCode(view.environment)} · ${inlineCode(view.workingDirectory)}`];
  if (!hasDrift(plan)) {
    parts.push(
      '✅ No drift: the infrastructure matches the state and the configuration on the default branch.',
    );
  } else {
    parts.push(
      `**${plan.drift.length}** resource(s) changed outside Terraform; applying the configuration now would ` +
        `change **${plan.changes.length}** resource(s) and **${plan.outputs.length}** output(s).`,
    );
    if (plan.drift.length) parts.push(`#### Changed outside Terraform\n\n${rows(plan.drift)}`);
    if (plan.changes.length) parts.push(`#### What an apply would change\n\n${rows(plan.changes)}`);
    parts.push(
      'Either bring the configuration in line with reality in a pull request, or apply it to undo the ' +
        'drift. This issue closes by itself when a drift check finds none.',
    );
  }
  const footer = [
    view.sha ? `commit \`${view.sha.slice(0, 12)}\`` : '',
    view.runUrl ? `[drift check run](${view.runUrl})` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return fitToBudget({
    summary: parts.join('\n\n'),
    ...(footer ? { footer: `<sub>${footer}</sub>` } : {}),
    budget,
  }).text;
}
