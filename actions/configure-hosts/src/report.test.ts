import { describe, expect, it } from 'vitest';
import { readEvents } from './events.js';
import { changedSection, renderReport } from './report.js';

const results = readEvents(
  [
    JSON.stringify({
      event: 'result',
      status: 'ok',
      host: 'a',
      task: 'hardening : sshd',
      changed: true,
      diff: '+PermitRootLogin no',
    }),
    JSON.stringify({
      event: 'result',
      status: 'ok',
      host: 'a',
      task: 'node_exporter : start',
      changed: true,
    }),
    JSON.stringify({
      event: 'stats',
      hosts: { a: { ok: 2, changed: 2, failed: 0, unreachable: 0, skipped: 0 } },
    }),
  ].join('\n'),
);

describe('renderReport', () => {
  it('shows the recap and each change, with its diff in a collapsed block', () => {
    const text = renderReport(
      { environment: 'production', playbook: 'site.yml', check: true, results },
      65_536,
    );
    expect(text).toContain('### ✅ Ansible dry run (check + diff) for `production`');
    expect(text).toContain('| 🟡 `a` | 2 | 2 | 0 | 0 | 0 | 0 | 0 |');
    expect(text).toContain('<details><summary>a: hardening : sshd</summary>');
    expect(text).toContain('+PermitRootLogin no');
    expect(text).toContain('- `a`: node_exporter : start');
  });

  it('keeps whole items only when the changes do not fit, and says how many were left out', () => {
    const many = {
      ...results,
      changedTasks: Array.from({ length: 500 }, (_, i) => ({ ...results.changedTasks[0], host: `h${i}` })),
    } as typeof results;
    const section = changedSection(many.changedTasks, false, 5_000);
    expect(section.length).toBeLessThan(5_000);
    expect(section).toMatch(/… and \d+ more \(see the report file\)/);
    expect(section.split('<details>').length - 1).toBe(section.split('</details>').length - 1);
  });
});
