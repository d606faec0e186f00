import { describe, expect, it } from 'vitest';
import {
  barChart,
  cell,
  codeBlock,
  details,
  fitToBudget,
  ganttChart,
  mermaidLabel,
  pieChart,
  table,
} from './markdown.js';

describe('tables', () => {
  it('renders headers, alignment and escaped cells', () => {
    expect(
      table(
        ['host', 'ok'],
        [
          ['a|b', 3],
          ['multi\nline', undefined],
        ],
        ['left', 'right'],
      ),
    ).toBe(['| host | ok |', '| --- | ---: |', '| a\\|b | 3 |', '| multi<br>line |  |'].join('\n'));
    expect(cell(null)).toBe('');
  });
});

describe('blocks', () => {
  it('collapses with an escaped summary', () => {
    expect(details('a <b>', 'body')).toBe('<details><summary>a &lt;b&gt;</summary>\n\nbody\n\n</details>');
    expect(details('x', 'y', true)).toContain('<details open>');
  });

  it('uses a fence longer than any backtick run inside', () => {
    expect(codeBlock('plain', 'hcl')).toBe('```hcl\nplain\n```');
    expect(codeBlock('has ```` four')).toBe('`````\nhas ```` four\n`````');
  });
});

describe('mermaid', () => {
  it('sanitises labels', () => {
    expect(mermaidLabel('restore: "pg" [main]\n')).toBe('restore pg main');
    expect(mermaidLabel('::')).toBe('-');
  });

  it('draws a pie without empty slices', () => {
    const pie = pieChart('Changes', [
      ['create', 2],
      ['destroy', 0],
    ]);
    expect(pie).toContain('"create" : 2');
    expect(pie).not.toContain('destroy');
    expect(pie.startsWith('```mermaid\npie showData')).toBe(true);
  });

  it('draws a gantt of phases in milliseconds with sections', () => {
    const chart = ganttChart('Drill', [
      { section: 'platform-db', name: 'restore', startMs: 0, durationMs: 1500, status: 'done' },
      { section: 'platform-db', name: 'verify', startMs: 1500, durationMs: 0 },
      { section: 'etcd', name: 'restore', startMs: 200, durationMs: 300, status: 'crit' },
    ]);
    expect(chart).toContain('dateFormat x');
    expect(chart).toContain('section platform-db');
    expect(chart).toContain('restore :done, t0, 0, 1500');
    expect(chart).toContain('verify :t1, 1500, 1501');
    expect(chart).toContain('section etcd\n  restore :crit, t2, 200, 500');
  });

  it('draws bars', () => {
    expect(
      barChart(
        'p95',
        [
          ['stable', 120],
          ['canary', 180],
        ],
        'ms',
      ),
    ).toContain('bar [120, 180]');
  });
});

describe('fitToBudget', () => {
  const summary = '### Plan: 2 to add\n\n| create | 2 |';
  const footer = '[run](https://example/run) <!-- marker -->';
  const detail = Array.from({ length: 5000 }, (_, i) => `  + resource line ${i}`).join('\n');
  const wrap = (d: string, omitted: number) =>
    details('Plan output', `${codeBlock(d, 'diff')}${omitted ? `\n\n${omitted} lines were cut.` : ''}`);

  it('keeps everything when it fits', () => {
    const fitted = fitToBudget({ summary, detail: 'a\nb', footer, budget: 65_536, wrapDetail: wrap });
    expect(fitted.omittedLines).toBe(0);
    expect(fitted.text).toContain('a\nb');
  });

  it('cuts the detail on line boundaries, keeps summary and footer, and closes the fence', () => {
    for (const budget of [2_000, 10_000, 65_536]) {
      const fitted = fitToBudget({ summary, detail, footer, budget, wrapDetail: wrap });
      expect(fitted.text.length).toBeLessThanOrEqual(budget);
      expect(fitted.text.startsWith(summary)).toBe(true);
      expect(fitted.text.endsWith(footer)).toBe(true);
      expect(fitted.omittedLines).toBeGreaterThan(0);
      expect(fitted.text).toContain(`${fitted.omittedLines} lines were cut.`);
      expect(fitted.text).toMatch(/resource line \d+\n```\n/);
      // as many lines as fit: adding one more would break the budget
      const kept = 5000 - fitted.omittedLines;
      const oneMore = wrap(
        detail
          .split('\n')
          .slice(0, kept + 1)
          .join('\n'),
        fitted.omittedLines - 1,
      );
      expect(`${summary}\n\n${oneMore}\n\n${footer}`.length).toBeGreaterThan(budget);
    }
  });

  it('drops the detail entirely before touching the summary', () => {
    const fitted = fitToBudget({
      summary,
      detail,
      footer,
      budget: summary.length + footer.length + 10,
      wrapDetail: wrap,
    });
    expect(fitted.text).toBe(`${summary}\n\n${footer}`);
  });

  it('cuts even the summary when nothing else helps, and stays in budget', () => {
    const long = Array.from({ length: 100 }, (_, i) => `summary line ${i}`).join('\n');
    const fitted = fitToBudget({ summary: long, footer, budget: 500 });
    expect(fitted.text.length).toBeLessThanOrEqual(500);
    expect(fitted.text.startsWith('summary line 0\n')).toBe(true);
    expect(fitted.text).toContain('cut to fit');
    expect(fitted.text.endsWith(footer)).toBe(true);
  });
});
