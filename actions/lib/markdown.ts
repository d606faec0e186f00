/**
 * Markdown building blocks for PR comments and job summaries: tables, collapsed blocks, code fences, Mermaid
 * charts, and fitting a document into a character budget without ever losing its summary part.
 */

/** GitHub's limit for an issue or PR comment body. */
export const COMMENT_LIMIT = 65_536;
/** GitHub's limit for one step's job summary: 1 MiB of UTF-8. */
export const SUMMARY_LIMIT_BYTES = 1024 * 1024;

/** Escapes a value for a table cell: pipes, and line breaks as <br>. */
export function cell(value: unknown): string {
  const text = value === undefined || value === null ? '' : String(value);
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

export type Align = 'left' | 'right' | 'center';

export function table(headers: string[], rows: unknown[][], align: Align[] = []): string {
  const rule = headers.map((_, i) => {
    const a = align[i];
    return a === 'right' ? '---:' : a === 'center' ? ':---:' : '---';
  });
  const line = (cells: unknown[]) => `| ${headers.map((_, i) => cell(cells[i])).join(' | ')} |`;
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** Inline code; a backtick inside becomes a quote, so the span cannot break. */
export function inlineCode(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** A count with thousands separators: 5,000. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A collapsed block. `summary` is plain text (escaped); `body` is markdown. */
export function details(summary: string, body: string, open = false): string {
  return `<details${open ? ' open' : ''}><summary>${escapeHtml(summary)}</summary>\n\n${body}\n\n</details>`;
}

/** A fenced code block whose fence is longer than any backtick run inside, so content cannot break out. */
export function codeBlock(text: string, language = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text.replace(/\n$/, '')}\n${fence}`;
}

/** Text safe inside a Mermaid label: no quotes, colons, brackets or line breaks. */
export function mermaidLabel(text: string): string {
  return (
    text
      .replace(/["'`:;#[\]{}()<>|\r\n]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim() || '-'
  );
}

export function mermaid(source: string): string {
  return `\`\`\`mermaid\n${source.trim()}\n\`\`\``;
}

export function pieChart(title: string, slices: Array<[label: string, value: number]>): string {
  const lines = slices
    .filter(([, v]) => v > 0)
    .map(([label, value]) => `  "${mermaidLabel(label)}" : ${value}`);
  return mermaid(`pie showData title ${mermaidLabel(title)}\n${lines.join('\n')}`);
}

export interface GanttTask {
  section: string;
  name: string;
  /** Milliseconds since the chart's origin. */
  startMs: number;
  durationMs: number;
  status?: 'done' | 'active' | 'crit';
}

/** A Gantt chart of phases on a seconds axis (dateFormat x = epoch milliseconds). */
export function ganttChart(title: string, tasks: GanttTask[]): string {
  const lines = [`gantt`, `  title ${mermaidLabel(title)}`, '  dateFormat x', '  axisFormat %H:%M:%S'];
  let section: string | undefined;
  tasks.forEach((task, i) => {
    if (task.section !== section) {
      section = task.section;
      lines.push(`  section ${mermaidLabel(section)}`);
    }
    const tag = task.status ? `${task.status}, ` : '';
    const start = Math.max(0, Math.round(task.startMs));
    const end = start + Math.max(1, Math.round(task.durationMs));
    lines.push(`  ${mermaidLabel(task.name)} :${tag}t${i}, ${start}, ${end}`);
  });
  return mermaid(lines.join('\n'));
}

/** A bar chart (Mermaid xychart-beta). */
export function barChart(title: string, bars: Array<[label: string, value: number]>, yLabel = ''): string {
  const labels = bars.map(([l]) => `"${mermaidLabel(l)}"`).join(', ');
  const values = bars.map(([, v]) => (Number.isFinite(v) ? v : 0)).join(', ');
  return mermaid(
    `xychart-beta\n  title "${mermaidLabel(title)}"\n  x-axis [${labels}]\n  y-axis "${mermaidLabel(yLabel)}"\n  bar [${values}]`,
  );
}

export interface BudgetedDocument {
  /** Always kept whole: the counts, banners, verdict. */
  summary: string;
  /** The long part (for example `terraform show` text), cut on line boundaries when over budget. */
  detail?: string;
  /** Wraps the (possibly cut) detail, for example in details() and codeBlock(), so fences stay closed. */
  wrapDetail?: (detail: string, omittedLines: number) => string;
  /** Always kept: links, the hidden marker. */
  footer?: string;
  budget: number;
}

/** How much of a document was cut to fit. */
export interface Fitted {
  text: string;
  omittedLines: number;
}

const join = (...parts: Array<string | undefined>) =>
  parts.filter((p) => p !== undefined && p !== '').join('\n\n');

/**
 * Fits summary + detail + footer into `budget` characters. The summary and footer are kept; the detail loses
 * lines from its end (on line boundaries) until the whole fits, and the wrapper is told how many lines went.
 * If even the summary and footer do not fit, the summary itself is cut on line boundaries with a note, so the
 * result is always within budget.
 */
export function fitToBudget(doc: BudgetedDocument): Fitted {
  const wrap =
    doc.wrapDetail ?? ((d: string, omitted: number) => (omitted ? `${d}\n… ${omitted} more lines` : d));
  const assemble = (detail: string | undefined, omitted: number) =>
    join(doc.summary, detail === undefined ? undefined : wrap(detail, omitted), doc.footer);

  const lines = doc.detail === undefined ? [] : doc.detail.split('\n');
  const whole = assemble(doc.detail, 0);
  if (whole.length <= doc.budget) return { text: whole, omittedLines: 0 };

  if (doc.detail !== undefined) {
    // Estimate with prefix sums (the wrapper's own size measured on empty content), then confirm with the real
    // text and step back while it is still over: linear in the size of the detail.
    const fixed = join(doc.summary, 'x', doc.footer).length - 1;
    const prefix = [0];
    for (const line of lines) prefix.push((prefix.at(-1) ?? 0) + line.length + 1);
    const estimate = (k: number) =>
      fixed + Math.max(0, (prefix[k] ?? 0) - 1) + wrap('', lines.length - k).length;
    let lo = 0;
    let hi = lines.length - 1;
    let best = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (estimate(mid) <= doc.budget) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (best > 0 && assemble(lines.slice(0, best).join('\n'), lines.length - best).length > doc.budget)
      best--;
    if (best > 0)
      return {
        text: assemble(lines.slice(0, best).join('\n'), lines.length - best),
        omittedLines: lines.length - best,
      };
    const withoutDetail = join(doc.summary, doc.footer);
    if (withoutDetail.length <= doc.budget) return { text: withoutDetail, omittedLines: lines.length };
  }

  // Last resort: cut the summary itself, keeping the footer.
  const note = '\n\n… (cut to fit the size limit)';
  const room = doc.budget - (doc.footer ? doc.footer.length + 2 : 0) - note.length;
  const summaryLines = doc.summary.split('\n');
  let kept = '';
  for (const line of summaryLines) {
    const next = kept === '' ? line : `${kept}\n${line}`;
    if (next.length > room) break;
    kept = next;
  }
  const keptCount = kept === '' ? 0 : kept.split('\n').length;
  return {
    text: join(`${kept}${note}`, doc.footer).slice(0, doc.budget),
    omittedLines: lines.length + summaryLines.length - keptCount,
  };
}
