/**
 * The plan as Markdown, for the PR comment and the job summary: a title, a banner for every destroy or
 * replace (with Terraform's reason and the attributes that force it), the counts, the resources grouped by
 * module and action, then `terraform show` in a collapsed block. The part before the collapsed block is the
 * summary and is always kept; only the show text is cut (on line boundaries) to fit the budget.
 */
import {
  codeBlock,
  details,
  escapeHtml,
  fitToBudget,
  formatCount,
  inlineCode,
  table,
} from '../../lib/markdown.js';
import { countsTable } from '../../lib/terraform/counts-table.js';
import {
  formatPath,
  isDestructive,
  localAddress,
  type Plan,
  type ResourceChange,
} from '../../lib/terraform/plan-json.js';
import type { ProtectedChange, Risk } from '../../lib/terraform/risk.js';

export interface PlanView {
  environment: string;
  workingDirectory: string;
  plan: Plan;
  fingerprint: string;
  risk: Risk;
  protectedChanges: ProtectedChange[];
  approvalLabel: string;
  /** Whether the PR carries the approval label (undefined outside a PR). */
  approved?: boolean;
  headSha?: string;
  runUrl?: string;
  showText: string;
}

/** How many addresses the banner and each module group list before summing up the rest. */
export const BANNER_LIMIT = 25;
export const GROUP_LIMIT = 40;
export const LISTED_LIMIT = 300;

const REASONS: Record<string, string> = {
  replace_because_tainted: 'the object is tainted',
  replace_because_cannot_update: 'an attribute that cannot change in place changed',
  replace_by_request: 'replacement was requested (-replace)',
  replace_by_triggers: 'replace_triggered_by fired',
  delete_because_no_resource_config: 'removed from the configuration',
  delete_because_no_module: 'its module was removed',
  delete_because_wrong_repetition: 'count/for_each was added or removed',
  delete_because_count_index: 'its count index no longer exists',
  delete_because_each_key: 'its for_each key no longer exists',
  delete_because_no_move_target: 'the target of a moved block does not exist',
};

const KIND_WORDS: Record<string, string> = {
  create: 'create',
  update: 'update in place',
  replace: 'replace',
  destroy: 'destroy',
  forget: 'forget (remove from state, keep the object)',
  read: 'read during apply',
  'no-op': 'no change',
  other: 'other',
};

function reasonText(change: ResourceChange): string {
  const parts: string[] = [];
  if (change.actionReason) {
    const words = REASONS[change.actionReason];
    parts.push(words ? `${words} (${inlineCode(change.actionReason)})` : inlineCode(change.actionReason));
  }
  if (change.replacePaths.length) {
    parts.push(`forced by ${change.replacePaths.map((p) => inlineCode(formatPath(p))).join(', ')}`);
  }
  return parts.join('; ');
}

function banner(view: PlanView): string | undefined {
  const destructive = view.plan.changes.filter(isDestructive);
  if (destructive.length === 0) return undefined;
  const hosts = new Map(view.protectedChanges.map((p) => [p.address, p.host]));
  // Protected ones first, so they are never among those summed up.
  destructive.sort((a, b) => Number(hosts.has(b.address)) - Number(hosts.has(a.address)));
  const lines = destructive.slice(0, BANNER_LIMIT).map((change) => {
    const host = hosts.get(change.address);
    const reason = reasonText(change);
    return `> - **${change.kind}** ${inlineCode(change.address)}${reason ? `: ${reason}` : ''}${
      host ? ` · 🔒 protected host ${inlineCode(host)}` : ''
    }`;
  });
  if (destructive.length > BANNER_LIMIT)
    lines.push(`> - … and ${formatCount(destructive.length - BANNER_LIMIT)} more`);
  const destroys = destructive.filter((c) => c.kind !== 'replace').length;
  const replaces = destructive.length - destroys;
  const head = [
    destroys ? `${formatCount(destroys)} to destroy` : '',
    replaces ? `${formatCount(replaces)} to replace` : '',
  ].filter(Boolean);
  return [`> [!CAUTION]`, `> **This plan deletes objects: ${head.join(', ')}.**`, '>', ...lines].join('\n');
}

function riskNote(view: PlanView): string | undefined {
  if (view.risk !== 'high') return undefined;
  const hosts = [...new Set(view.protectedChanges.map((p) => p.host))].map(inlineCode).join(', ');
  const approval =
    view.approved === true
      ? `The PR carries ${inlineCode(view.approvalLabel)}: approved.`
      : `Add the label ${inlineCode(view.approvalLabel)} to the PR to approve it; until then this check fails.`;
  return [
    '> [!WARNING]',
    `> **Risk: high.** It destroys or replaces protected host(s) ${hosts} of ${inlineCode(view.environment)}. ${approval}`,
  ].join('\n');
}

/** Resources grouped by module, then by kind of change, with at most GROUP_LIMIT addresses per group. */
export function groupedResources(changes: readonly ResourceChange[]): string {
  const modules = new Map<string, Map<string, ResourceChange[]>>();
  for (const change of changes) {
    const kinds = modules.get(change.moduleAddress) ?? new Map<string, ResourceChange[]>();
    modules.set(change.moduleAddress, kinds);
    const kind = change.kind === 'no-op' ? (change.importing ? 'import' : 'move') : change.kind;
    kinds.set(kind, [...(kinds.get(kind) ?? []), change]);
  }
  const order = ['destroy', 'replace', 'forget', 'update', 'create', 'import', 'move', 'read', 'other'];
  let listed = 0;
  const sections: string[] = [];
  for (const name of [...modules.keys()].sort()) {
    const kinds = modules.get(name) as Map<string, ResourceChange[]>;
    const lines: string[] = [];
    for (const kind of order) {
      const list = kinds.get(kind);
      if (!list) continue;
      const room = Math.max(0, Math.min(GROUP_LIMIT, LISTED_LIMIT - listed));
      const shown = list.slice(0, room).map((c) => {
        const extra = [
          c.importing ? `import ${c.importId ?? ''}`.trim() : '',
          c.previousAddress && c.previousAddress !== c.address ? `from ${c.previousAddress}` : '',
        ].filter(Boolean);
        return `${inlineCode(localAddress(c))}${extra.length ? ` (${escapeHtml(extra.join(', '))})` : ''}`;
      });
      listed += shown.length;
      const rest = list.length - shown.length;
      lines.push(
        `- **${KIND_WORDS[kind] ?? kind}** (${formatCount(list.length)}): ${shown.join(', ')}${
          rest ? `${shown.length ? ', ' : ''}… and ${formatCount(rest)} more` : ''
        }`,
      );
    }
    sections.push(`**${name ? inlineCode(name) : 'root module'}**\n${lines.join('\n')}`);
  }
  return sections.join('\n\n');
}

function outputsList(plan: Plan): string | undefined {
  if (plan.outputs.length === 0) return undefined;
  const rows = plan.outputs.map((o) => [
    inlineCode(o.name),
    KIND_WORDS[o.kind] ?? o.actions.join(','),
    o.sensitive ? 'sensitive' : '',
  ]);
  return (
    table(['output', 'change', ''], rows.slice(0, GROUP_LIMIT)) +
    (rows.length > GROUP_LIMIT ? `\n\n… and ${formatCount(rows.length - GROUP_LIMIT)} more outputs` : '')
  );
}

export function planTitle(
  view: Pick<PlanView, 'environment' | 'workingDirectory'>,
  what = 'Terraform plan',
): string {
  return `### ${what} for ${inlineCode(view.environment)} · ${inlineCode(view.workingDirectory)}`;
}

/** The part that is always kept: title, banners, counts, grouped resources. */
export function planSummary(view: PlanView): string {
  const parts = [planTitle(view)];
  if (!view.plan.hasChanges) {
    parts.push('✅ **No changes.** The infrastructure matches the configuration.');
  } else {
    const b = banner(view);
    const r = riskNote(view);
    if (r) parts.push(r);
    if (b) parts.push(b);
    parts.push(countsTable(view.plan.counts, view.plan.outputs.length));
    parts.push(groupedResources(view.plan.changes));
    const outputs = outputsList(view.plan);
    if (outputs) parts.push(outputs);
  }
  if (view.plan.drift.length > 0) {
    parts.push(
      `ℹ️ ${formatCount(view.plan.drift.length)} resource(s) changed outside Terraform since the last apply: ` +
        view.plan.drift
          .slice(0, 10)
          .map((d) => inlineCode(d.address))
          .join(', ') +
        (view.plan.drift.length > 10 ? ', …' : ''),
    );
  }
  return parts.join('\n\n');
}

export function planFooter(view: PlanView): string {
  const parts = [
    `Fingerprint ${inlineCode(view.fingerprint.slice(0, 16))}`,
    view.headSha ? `commit ${inlineCode(view.headSha.slice(0, 12))}` : '',
    `Terraform ${escapeHtml(view.plan.terraformVersion)}`,
    view.runUrl ? `[workflow run](${view.runUrl})` : '',
  ].filter(Boolean);
  const apply = view.plan.hasChanges
    ? '\n\nOn merge, apply-infra plans again and applies only if the plan has this fingerprint.'
    : '';
  return `<sub>${parts.join(' · ')}</sub>${apply}`;
}

/** The whole document within `budget` characters; the summary and footer are always kept. */
export function renderPlan(view: PlanView, budget: number): { text: string; omittedLines: number } {
  const showLines = view.showText.replace(/\n+$/, '').split('\n').length;
  return fitToBudget({
    summary: planSummary(view),
    ...(view.plan.hasChanges ? { detail: view.showText.replace(/\n+$/, '') } : {}),
    wrapDetail: (detail, omitted) =>
      details(
        omitted
          ? `terraform show (${formatCount(showLines - omitted)} of ${formatCount(showLines)} lines; the rest did not fit)`
          : `terraform show (${formatCount(showLines)} lines)`,
        codeBlock(detail, 'hcl'),
      ),
    footer: planFooter(view),
    budget,
  });
}
