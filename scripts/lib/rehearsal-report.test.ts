import { describe, expect, it } from 'vitest';
import { formatDuration, type RehearsalFacts, rehearsalPassed, renderReport } from './rehearsal-report.js';

const passing: RehearsalFacts = {
  startedAt: '2026-11-29T18:00:00.000Z',
  durationMs: 187_000,
  dir: 'rehearsal/2026-11-29T18-00-00Z',
  steps: [
    { name: 'plan-infra', ok: true, durationMs: 1_200, detail: 'fingerprint 4a1c52e41626, risk none' },
    { name: 'dr-drill', ok: true, durationMs: 5_000, detail: 'pass' },
  ],
  plan: { add: 4, change: 0, replace: 0, destroy: 0 },
  hosts: [{ name: 'spark-local-conductor', ip: '10.250.77.11', role: 'control-plane' }],
  check: { ok: 71, changed: 36, failed: 0, unreachable: 0 },
  configure: { ok: 93, changed: 51, failed: 0, unreachable: 0 },
  drill: { status: 'pass', rtoSeconds: 1.8, rpoSeconds: 12.4, rtoTarget: '1h', rpoTarget: '15m' },
};

describe('the rehearsal report', () => {
  it('passes only when every step passed, no host failed or was unreachable, and the drill passed', () => {
    expect(rehearsalPassed(passing)).toBe(true);
    expect(rehearsalPassed({ ...passing, failure: 'dr-drill failed' })).toBe(false);
    expect(
      rehearsalPassed({
        ...passing,
        steps: [{ name: 'plan-infra', ok: false, durationMs: 1, detail: 'failed' }],
      }),
    ).toBe(false);
    expect(rehearsalPassed({ ...passing, configure: { ok: 1, changed: 0, failed: 0, unreachable: 1 } })).toBe(
      false,
    );
    expect(
      rehearsalPassed({
        ...passing,
        drill: { status: 'fail', rtoSeconds: 1, rpoSeconds: 1, rtoTarget: '1h', rpoTarget: '15m' },
      }),
    ).toBe(false);
    expect(rehearsalPassed({ ...passing, drill: undefined })).toBe(false);
    expect(rehearsalPassed({ ...passing, steps: [] })).toBe(false);
  });

  it('says what was created, what changed on the hosts, the drill against its targets, and where the files are', () => {
    const text = renderReport(passing);
    expect(text).toMatch(/^Rehearsal of the local environment: PASSED in 3 min 7 s$/m);
    expect(text).toContain('4 to add, 0 to change, 0 to replace, 0 to destroy');
    expect(text).toContain('spark-local-conductor at 10.250.77.11 (control-plane)');
    expect(text).toContain('check mode ok=71 changed=36 failed=0 unreachable=0');
    expect(text).toContain('for real   ok=93 changed=51 failed=0 unreachable=0');
    expect(text).toContain('Drill:     pass: RTO 2 s (target 1h), RPO 12 s (target 15m)');
    expect(text).toContain('Files:     rehearsal/2026-11-29T18-00-00Z/ ');
    expect(text).toMatch(/Left to the real platform:\n {2}- Proxmox/);
  });

  it('names the step that stopped a failed rehearsal', () => {
    const text = renderReport({
      ...passing,
      steps: [
        { name: 'apply-infra', ok: false, durationMs: 3_000, detail: 'plan-changed: the plan differs' },
      ],
      failure: 'apply-infra failed (plan-changed)',
    });
    expect(text).toMatch(/^Rehearsal of the local environment: FAILED/);
    expect(text).toMatch(/FAIL +apply-infra +3 s +plan-changed: the plan differs/);
    expect(text).toContain('Stopped: apply-infra failed (plan-changed)');
  });

  it('prints durations in seconds, then minutes and seconds', () => {
    expect(formatDuration(400)).toBe('0 s');
    expect(formatDuration(59_400)).toBe('59 s');
    expect(formatDuration(61_000)).toBe('1 min 1 s');
  });
});
