/** The counts of a plan as a one-row Markdown table, for the plan comment and the apply report. */
import { formatCount, table } from '../markdown.js';
import { COUNTED_KINDS, type Counts } from './plan-json.js';

export function countsTable(counts: Counts, outputs: number): string {
  const columns: Array<[string, number]> = COUNTED_KINDS.map((k) => [k, counts[k]]);
  if (counts.read) columns.push(['read', counts.read]);
  if (counts.other) columns.push(['other', counts.other]);
  columns.push(['outputs', outputs]);
  return table(
    columns.map(([k]) => k),
    [columns.map(([, n]) => (n ? `**${formatCount(n)}**` : '0'))],
    columns.map(() => 'right'),
  );
}
