/**
 * configure-hosts' report for the job summary and, in check mode on a pull request, the PR comment: the
 * per-host recap, then each changed task with its short diff, and each failure with its message.
 */
import { codeBlock, details, fitToBudget, inlineCode, table } from '../../lib/markdown.js';
import type { HostRecap, RunResults, TaskResult } from './events.js';

export interface ReportView {
  environment: string;
  playbook: string;
  check: boolean;
  results: RunResults;
  runUrl?: string;
  sha?: string;
}

/** How many lines of a diff the report shows per task. */
export const DIFF_LINES = 40;

export function recapTable(hosts: readonly HostRecap[]): string {
  const rows = hosts.map((h) => [
    `${h.failed || h.unreachable ? '❌' : h.changed ? '🟡' : '✅'} ${inlineCode(h.host)}`,
    h.ok,
    h.changed,
    h.failed,
    h.unreachable,
    h.skipped,
    h.rescued,
    h.ignored,
  ]);
  return table(['host', 'ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored'], rows, [
    'left',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
    'right',
  ]);
}

function shortDiff(diff: string): string {
  const lines = diff.split('\n');
  return lines.length <= DIFF_LINES
    ? diff
    : `${lines.slice(0, DIFF_LINES).join('\n')}\n… ${lines.length - DIFF_LINES} more lines`;
}

function taskLine(t: TaskResult): string {
  return `${inlineCode(t.host)}: ${t.task}`;
}

/** The changed tasks, whole items only, within `room` characters. */
export function changedSection(
  tasks: readonly TaskResult[],
  check: boolean,
  room = Number.POSITIVE_INFINITY,
): string {
  if (tasks.length === 0) return check ? 'Nothing would change.' : 'Nothing changed.';
  const title = check ? `#### Would change (${tasks.length})` : `#### Changed (${tasks.length})`;
  const items = tasks.map((t) =>
    t.diff ? details(`${t.host}: ${t.task}`, codeBlock(shortDiff(t.diff), 'diff')) : `- ${taskLine(t)}`,
  );
  const kept: string[] = [];
  let left = room - title.length - 120;
  for (const item of items) {
    if (item.length + 1 > left) break;
    kept.push(item);
    left -= item.length + 1;
  }
  if (kept.length < items.length)
    kept.push(`- … and ${items.length - kept.length} more (see the report file)`);
  return `${title}\n\n${kept.join('\n')}`;
}

export function failureSection(results: RunResults): string | undefined {
  const lines = [
    ...results.unreachableTasks.map(
      (t) => `- **unreachable** ${inlineCode(t.host)}: ${(t.msg ?? '').split('\n')[0]}`,
    ),
    ...results.failedTasks.map(
      (t) => `- **failed** ${taskLine(t)}: ${(t.msg ?? t.stderr ?? '').split('\n')[0]}`,
    ),
  ];
  return lines.length ? `#### Failures\n\n${lines.join('\n')}` : undefined;
}

export function renderReport(view: ReportView, budget: number): string {
  const { results } = view;
  const bad = results.totals.failed + results.totals.unreachable > 0;
  const verb = view.check ? 'Ansible dry run (check + diff)' : 'Ansible run';
  const title = `### ${bad ? '❌' : '✅'} ${verb} for ${inlineCode(view.environment)} · ${inlineCode(view.playbook)}`;
  const t = results.totals;
  const totals = `**${t.ok}** ok · **${t.changed}** ${view.check ? 'would change' : 'changed'} · **${t.failed}** failed · **${t.unreachable}** unreachable · **${t.skipped}** skipped`;
  const incomplete = results.complete
    ? undefined
    : '⚠️ Ansible stopped before its recap; the counts are what arrived.';
  const summary = [title, totals, incomplete, recapTable(results.hosts), failureSection(results)]
    .filter(Boolean)
    .join('\n\n');
  const footer = [
    view.sha ? `commit ${inlineCode(view.sha.slice(0, 12))}` : '',
    view.runUrl ? `[workflow run](${view.runUrl})` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const room = budget - summary.length - footer.length - 20;
  return fitToBudget({
    summary: `${summary}\n\n${changedSection(results.changedTasks, view.check, room)}`,
    ...(footer ? { footer: `<sub>${footer}</sub>` } : {}),
    budget,
  }).text;
}
