import { describe, expect, it } from 'vitest';
import type { TargetResult } from './types.js';
import { judgeDrill, judgeTarget } from './verdict.js';

const start = 1_000_000_000;
const result = (over: Partial<TargetResult> = {}): TargetResult => ({
  name: 'platform-db',
  kind: 'postgres',
  ok: true,
  recoveryPoint: start - 300_000, // 5 minutes before the drill
  restoreStartedAt: start + 1_000,
  verifiedAt: start + 61_000, // a minute of restore
  phases: [],
  checks: [],
  ...over,
});

describe('judgeTarget', () => {
  it('measures RTO from restore start to verification and RPO from recovery point to drill start', () => {
    expect(judgeTarget(result(), start, 3_600_000, 900_000)).toMatchObject({
      rtoSeconds: 60,
      rpoSeconds: 300,
    });
    expect(judgeTarget(result(), start, 3_600_000, 900_000).failure).toBeUndefined();
  });

  it('fails on time only after the restore itself worked', () => {
    expect(judgeTarget(result(), start, 3_600_000, 60_000).failure).toBe('rpo-exceeded');
    expect(judgeTarget(result(), start, 30_000, 900_000).failure).toBe('rto-exceeded');
    expect(judgeTarget(result({ ok: false, failure: 'restore-failed' }), start, 1, 1).failure).toBe(
      'restore-failed',
    );
  });

  it('never passes a target that measured nothing', () => {
    expect(judgeTarget(result({ verifiedAt: undefined }), start, 3_600_000, 900_000).failure).toBe(
      'verification-failed',
    );
  });
});

describe('judgeDrill', () => {
  it('reports the worst RTO and RPO and the most severe failure', () => {
    const verdict = judgeDrill(
      [
        result({ name: 'a', recoveryPoint: start - 2_000_000 }),
        result({ name: 'b', ok: false, failure: 'verification-failed', verifiedAt: undefined }),
        result({ name: 'c', verifiedAt: start + 301_000 }),
      ],
      start,
      3_600_000,
      900_000,
    );
    expect(verdict.status).toBe('fail');
    expect(verdict.failure).toBe('verification-failed');
    expect(verdict.rtoSeconds).toBe(300);
    expect(verdict.rpoSeconds).toBe(2000);
    expect(verdict.targets.map((t) => t.failure)).toEqual(['rpo-exceeded', 'verification-failed', undefined]);
  });

  it('passes when every target passes, and never with no targets', () => {
    expect(judgeDrill([result()], start, 3_600_000, 900_000).status).toBe('pass');
    expect(judgeDrill([], start, 3_600_000, 900_000).status).toBe('fail');
  });
});
