import { describe, expect, it } from 'vitest';
import { formatMarker, hasMarker, markerPrefix, parseMarker } from './marker.js';

describe('marker', () => {
  it('formats a one-line hidden HTML comment and reads it back', () => {
    const data = {
      plan: 'sha256:abc',
      changes: 3,
      environment: 'production',
      negative: -1,
      nested: { ok: true },
    };
    const marker = formatMarker('plan-infra', 'production', data);
    expect(marker).toBe(
      '<!-- spark:plan-infra:production {"plan":"sha256:abc","changes":3,"environment":"production",' +
        '"negative":-1,"nested":{"ok":true}} -->',
    );
    expect(marker).not.toContain('\n');
    expect(parseMarker(`${marker}\n## Plan\n\nbody`, 'plan-infra', 'production')).toEqual(data);
    expect(markerPrefix('plan-infra', 'production')).toBe('<!-- spark:plan-infra:production');
  });

  it('escapes what would end or break the HTML comment, and round-trips it', () => {
    const data = { text: 'a --> b <!-- c --- d ---- e \\--> f <tag>', list: ['--', '-', '->'] };
    const marker = formatMarker('dr-drill', 'report', data);
    const inner = marker.slice('<!--'.length, -'-->'.length);
    expect(inner).not.toContain('--');
    expect(inner).not.toMatch(/[<>]/);
    expect(marker.endsWith(' -->')).toBe(true);
    expect(parseMarker(`text before ${marker} text after -->`, 'dr-drill', 'report')).toEqual(data);
  });

  it('does not match a key that merely starts the same, nor another action', () => {
    const body = [
      formatMarker('plan-infra', 'production', { which: 'production' }),
      formatMarker('plan-infra', 'prod', { which: 'prod' }),
      formatMarker('apply-infra', 'prod', { which: 'apply' }),
    ].join('\n');
    expect(parseMarker(body, 'plan-infra', 'prod')).toEqual({ which: 'prod' });
    expect(parseMarker(body, 'plan-infra', 'production')).toEqual({ which: 'production' });
    expect(parseMarker(body, 'apply-infra', 'prod')).toEqual({ which: 'apply' });
    const onlyLonger = formatMarker('plan-infra', 'production', { which: 'production' });
    expect(parseMarker(onlyLonger, 'plan-infra', 'prod')).toBeUndefined();
    expect(hasMarker(onlyLonger, 'plan-infra', 'prod')).toBe(false);
    expect(parseMarker(onlyLonger, 'plan', 'infra')).toBeUndefined();
  });

  it('tolerates other comments and markers, and skips a damaged marker for a good one', () => {
    const body = [
      '<!-- some other bot -->',
      '<!-- spark:plan-infra:dev {broken json -->',
      '<!-- spark:plan-infra:dev -->',
      formatMarker('plan-infra', 'dev', [1, 2]),
    ].join('\n');
    expect(hasMarker(body, 'plan-infra', 'dev')).toBe(true);
    expect(parseMarker(body, 'plan-infra', 'dev')).toEqual([1, 2]);
    expect(parseMarker('<!-- spark:plan-infra:dev {broken -->', 'plan-infra', 'dev')).toBeUndefined();
    expect(hasMarker('<!-- spark:plan-infra:dev {broken -->', 'plan-infra', 'dev')).toBe(true);
    expect(parseMarker('no marker here', 'plan-infra', 'dev')).toBeUndefined();
    expect(parseMarker('<!-- spark:plan-infra:dev {"unterminated": 1}', 'plan-infra', 'dev')).toBeUndefined();
  });

  it('refuses names that would make markers ambiguous or invalid', () => {
    for (const [action, key] of [
      ['plan:infra', 'dev'],
      ['plan-infra', 'a b'],
      ['plan-infra', 'a--b'],
      ['plan-infra', ''],
      ['-plan', 'dev'],
      ['plan-infra', 'x>'],
    ] as const) {
      expect(() => formatMarker(action, key, {}), `${action}:${key}`).toThrow(/may only contain/);
    }
    expect(formatMarker('deploy-bluegreen', 'apps/web.v2_1', null)).toBe(
      '<!-- spark:deploy-bluegreen:apps/web.v2_1 null -->',
    );
  });

  it('takes keys made of several parts, as plan-infra uses environment and directory', () => {
    const body = `${formatMarker('plan-infra', 'production:terraform/proxmox', { fingerprint: 'abc' })}\nplan`;
    expect(
      body.startsWith('<!-- spark:plan-infra:production:terraform/proxmox {"fingerprint":"abc"} -->'),
    ).toBe(true);
    expect(parseMarker(body, 'plan-infra', 'production:terraform/proxmox')).toEqual({ fingerprint: 'abc' });
    expect(parseMarker(body, 'plan-infra', 'production:terraform')).toBeUndefined();
    expect(parseMarker(body, 'plan-infra', 'production')).toBeUndefined();
  });
});
