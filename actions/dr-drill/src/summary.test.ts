import { describe, expect, it } from 'vitest';
import { buildReport } from './report.js';
import { renderSummary } from './summary.js';
import type { TargetResult } from './types.js';
import { judgeDrill } from './verdict.js';

const start = Date.parse('2026-11-01T03:00:00Z');
const pg: TargetResult = {
  name: 'platform-db',
  kind: 'postgres',
  ok: true,
  backup: '/srv/backup/pg/base/20261101T010000',
  recoveryPoint: start - 120_000,
  restoreStartedAt: start + 500,
  verifiedAt: start + 45_500,
  phases: [
    { name: 'restore', startedAt: start + 500, endedAt: start + 20_500, ok: true },
    { name: 'verify', startedAt: start + 20_500, endedAt: start + 45_500, ok: true },
  ],
  checks: [{ name: 'rows public.orders', ok: true, expected: '1200', actual: '1200' }],
};
const etcd: TargetResult = {
  name: 'cluster-etcd',
  kind: 'etcd',
  ok: false,
  failure: 'restore-failed',
  message: 'snapshot file corrupted: hash mismatch\nmore',
  phases: [{ name: 'restore', startedAt: start + 100, endedAt: start + 900, ok: false }],
  checks: [{ name: 'snapshot hash', ok: false, expected: 'sha256 valid', actual: 'mismatch' }],
};

describe('the drill report and summary', () => {
  const verdict = judgeDrill([pg, etcd], start, 3_600_000, 900_000);
  const report = buildReport({
    environment: 'production',
    verdict,
    startedAt: start,
    finishedAt: start + 50_000,
    rtoMs: 3_600_000,
    rpoMs: 900_000,
    runUrl: 'https://github.example/spark/platform/actions/runs/1',
  });

  it('records measured against target values per target', () => {
    expect(report.status).toBe('fail');
    expect(report.failureReason).toBe('restore-failed');
    expect(report.targets[0]).toMatchObject({ status: 'pass', rtoSeconds: 45, rpoSeconds: 120 });
    expect(report.targets[0]?.phases[0]).toEqual({
      name: 'restore',
      startedAt: '2026-11-01T03:00:00.500Z',
      seconds: 20,
      ok: true,
      detail: null,
    });
    expect(report.targets[1]).toMatchObject({
      status: 'fail',
      failureReason: 'restore-failed',
      rtoSeconds: null,
    });
  });

  it('renders the table, the failures and a gantt chart', () => {
    const md = renderSummary(report);
    expect(md).toContain('### ❌ DR drill failed: production (`restore-failed`)');
    expect(md).toContain(
      '| ✅ platform-db | postgres | 45s / 1h | 2m / 15m | 1/1 | pass | /srv/backup/pg/base/20261101T010000 |',
    );
    expect(md).toContain('| ❌ cluster-etcd | etcd | – / 1h | – / 15m | 0/1 | restore-failed | – |');
    expect(md).toContain('**cluster-etcd**: `restore-failed`: snapshot file corrupted: hash mismatch');
    expect(md).toContain('- snapshot hash: expected sha256 valid, got mismatch');
    expect(md).toContain('section platform-db\n  restore :t0, 500, 20500');
    expect(md).toContain('restore :crit, t2, 100, 900');
  });
});
