import { describe, expect, it } from 'vitest';
import { failedHosts, readEvents } from './events.js';

const line = (event: Record<string, unknown>) => JSON.stringify(event);
const result = (status: string, host: string, task: string, extra: Record<string, unknown> = {}) =>
  line({ event: 'result', status, host, task, changed: false, ...extra });

describe('readEvents', () => {
  it('takes the recap from the stats and the changed and failed tasks from the results', () => {
    const text = [
      line({ event: 'start', playbook: 'site.yml' }),
      result('ok', 'a', 'common : Install', { changed: true, diff: '+x' }),
      result('failed', 'b', 'common : Install', { msg: 'No package matching' }),
      result('unreachable', 'c', 'Gathering Facts', {
        msg: 'ssh: connect to host c port 22: No route to host',
      }),
      'not json',
      line({
        event: 'stats',
        hosts: {
          b: { ok: 1, changed: 0, failed: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 },
          a: { ok: 3, changed: 1, failed: 0, unreachable: 0, skipped: 2, rescued: 0, ignored: 0 },
          c: { ok: 0, changed: 0, failed: 0, unreachable: 1, skipped: 0, rescued: 0, ignored: 0 },
        },
      }),
    ].join('\n');
    const results = readEvents(text);
    expect(results.complete).toBe(true);
    expect(results.hosts.map((h) => h.host)).toEqual(['a', 'b', 'c']);
    expect(results.totals).toEqual({
      ok: 4,
      changed: 1,
      failed: 1,
      unreachable: 1,
      skipped: 2,
      rescued: 0,
      ignored: 0,
    });
    expect(results.changedTasks.map((t) => [t.host, t.diff])).toEqual([['a', '+x']]);
    expect(results.failedTasks.map((t) => t.msg)).toEqual(['No package matching']);
    expect(failedHosts(results)).toEqual(['b', 'c']);
  });

  it('counts what arrived when Ansible stopped before its recap', () => {
    const results = readEvents(
      [result('ok', 'a', 't1', { changed: true }), result('failed', 'a', 't2')].join('\n'),
    );
    expect(results.complete).toBe(false);
    expect(results.hosts).toEqual([
      { host: 'a', ok: 1, changed: 1, failed: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 },
    ]);
  });
});
