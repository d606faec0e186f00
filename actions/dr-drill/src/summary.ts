/**
 * The drill's job summary and issue text: a table of targets with measured versus target RTO and RPO and the
 * checks, the failures spelled out, and a Gantt chart of the phases.
 */
import { formatDuration } from '../../lib/duration.js';
import { details, ganttChart, table } from '../../lib/markdown.js';
import type { DrillReport } from './report.js';

const time = (seconds: number | null) => (seconds === null ? '–' : formatDuration(seconds * 1000));
const mark = (ok: boolean) => (ok ? '✅' : '❌');

export function renderSummary(report: DrillReport): string {
  const { objectives } = report;
  const head =
    report.status === 'pass'
      ? `### ✅ DR drill passed: ${report.environment}`
      : `### ❌ DR drill failed: ${report.environment} (\`${report.failureReason}\`)`;
  const rows = report.targets.map((t) => {
    const passed = t.checks.filter((c) => c.ok).length;
    return [
      `${mark(t.status === 'pass')} ${t.name}`,
      t.kind,
      `${time(t.rtoSeconds)} / ${time(objectives.rtoSeconds)}`,
      `${time(t.rpoSeconds)} / ${time(objectives.rpoSeconds)}`,
      `${passed}/${t.checks.length}`,
      t.failureReason ?? 'pass',
      t.backup ?? '–',
    ];
  });
  const parts = [
    head,
    `Worst RTO **${time(report.worst.rtoSeconds)}** (objective ${time(objectives.rtoSeconds)}), worst RPO ` +
      `**${time(report.worst.rpoSeconds)}** (objective ${time(objectives.rpoSeconds)}).`,
    table(
      ['target', 'kind', 'RTO measured / target', 'RPO measured / target', 'checks', 'result', 'backup'],
      rows,
    ),
  ];
  for (const t of report.targets.filter((t) => t.status === 'fail')) {
    const failed = t.checks.filter((c) => !c.ok);
    const lines = [
      `**${t.name}**: \`${t.failureReason}\`${t.message ? `: ${t.message.split('\n')[0]}` : ''}`,
    ];
    for (const c of failed) lines.push(`- ${c.name}: expected ${c.expected ?? '–'}, got ${c.actual ?? '–'}`);
    parts.push(lines.join('\n'));
  }
  const checks = report.targets.flatMap((t) =>
    t.checks.map((c) => [t.name, `${mark(c.ok)} ${c.name}`, c.expected ?? '', c.actual ?? '']),
  );
  if (checks.length)
    parts.push(details('All checks', table(['target', 'check', 'expected', 'actual'], checks)));
  const origin = Date.parse(report.startedAt);
  const tasks = report.targets.flatMap((t) =>
    t.phases.map((p) => ({
      section: t.name,
      name: p.name,
      startMs: Date.parse(p.startedAt) - origin,
      durationMs: p.seconds * 1000,
      ...(p.ok ? {} : { status: 'crit' as const }),
    })),
  );
  if (tasks.length) parts.push(ganttChart(`DR drill ${report.environment}`, tasks));
  if (report.runUrl) parts.push(`[Run](${report.runUrl}) · report \`${report.startedAt}\``);
  return parts.join('\n\n');
}
