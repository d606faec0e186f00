import { describe, expect, it } from 'vitest';
import { ActionError } from './errors.js';
import { Inputs, objectInputs } from './inputs.js';

function inputs(values: Record<string, string>, masked: string[] = []) {
  return new Inputs(objectInputs(values), (value) => masked.push(value));
}

function failure(fn: () => unknown): ActionError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ActionError) return error;
    throw error;
  }
  throw new Error('expected an ActionError');
}

describe('Inputs', () => {
  it('names a missing required input', () => {
    const error = failure(() => inputs({}).string('environment', { required: true }));
    expect(error.reason).toBe('bad-input');
    expect(error.message).toBe("Input 'environment' is required but was not given.");
  });

  it('takes a GitHub label name and refuses one with a comma or over 50 characters', () => {
    expect(inputs({}).label('issue-label', { default: 'drift:production' })).toBe('drift:production');
    expect(failure(() => inputs({ l: 'a,b' }).label('l')).message).toContain(
      'Allowed: a GitHub label name of at most 50 characters, without commas.',
    );
    expect(failure(() => inputs({ l: 'x'.repeat(51) }).label('l')).reason).toBe('bad-input');
  });

  it('applies defaults and patterns', () => {
    expect(inputs({}).string('dir', { default: 'terraform/proxmox' })).toBe('terraform/proxmox');
    const error = failure(() =>
      inputs({ env: 'Prod!' }).string('env', { pattern: /^[a-z]+$/, describe: 'lower-case letters' }),
    );
    expect(error.message).toBe(
      "Input 'env' has the value 'Prod!', which is not allowed. Allowed: lower-case letters.",
    );
  });

  it('reads booleans as the runner documents them', () => {
    expect(inputs({ a: 'true', b: 'FALSE', c: 'True' }).boolean('a')).toBe(true);
    expect(inputs({ b: 'FALSE' }).boolean('b')).toBe(false);
    expect(inputs({}).boolean('c', { default: true })).toBe(true);
    expect(failure(() => inputs({ a: 'yes' }).boolean('a')).message).toBe(
      "Input 'a' has the value 'yes', which is not a boolean. Allowed: true or false.",
    );
  });

  it('reads durations with units', () => {
    expect(inputs({ t: '90s' }).durationMs('t')).toBe(90_000);
    expect(inputs({}).durationMs('t', { default: '15m' })).toBe(900_000);
    expect(inputs({ t: '4h' }).durationMs('t')).toBe(14_400_000);
    expect(failure(() => inputs({ t: '300' }).durationMs('t')).message).toContain(
      "Input 't' has the value '300', which is not a duration. Allowed: a number with a unit",
    );
    expect(failure(() => inputs({ t: '2s' }).durationMs('t', { minMs: 5000 })).message).toBe(
      "Input 't' is 2s, below the minimum of 5s.",
    );
    expect(failure(() => inputs({ t: '3h' }).durationMs('t', { maxMs: 7_200_000 })).message).toBe(
      "Input 't' is 3h, above the maximum of 2h.",
    );
    expect(inputs({}).optionalDurationMs('t')).toBeUndefined();
    expect(inputs({ t: '1h' }).optionalDurationMs('t')).toBe(3_600_000);
    expect(failure(() => inputs({ t: 'x' }).optionalDurationMs('t')).reason).toBe('bad-input');
  });

  it('reads enums and lists the allowed words', () => {
    expect(inputs({ mode: 'drift' }).enum('mode', ['plan', 'drift'] as const)).toBe('drift');
    expect(inputs({}).enum('mode', ['plan', 'drift'] as const, { default: 'plan' })).toBe('plan');
    expect(failure(() => inputs({ mode: 'apply' }).enum('mode', ['plan', 'drift'])).message).toBe(
      "Input 'mode' has the value 'apply'. Allowed: plan, drift.",
    );
  });

  it('reads integers within bounds', () => {
    expect(inputs({ forks: '10' }).integer('forks', { min: 1, max: 50 })).toBe(10);
    expect(failure(() => inputs({ forks: '0' }).integer('forks', { min: 1 })).message).toBe(
      "Input 'forks' has the value '0'. Allowed: a whole number from 1.",
    );
    expect(failure(() => inputs({ forks: '2.5' }).integer('forks')).reason).toBe('bad-input');
  });

  it('reads multiline and comma lists, ignoring blanks and comments', () => {
    const value = 'platform-db, cluster-etcd\n\n# not this\napps  # trailing comment\n';
    expect(inputs({ targets: value }).list('targets')).toEqual(['platform-db', 'cluster-etcd', 'apps']);
    expect(failure(() => inputs({ t: '\n# only\n' }).list('t', { required: true })).message).toContain(
      'lists nothing',
    );
  });

  it('reads key=value lines and masks values when secret', () => {
    const masked: string[] = [];
    const value = 'conn_str=postgres://u:hunter22@db/state?sslmode=disable\n# comment\nschema_name = dev';
    expect(inputs({ bc: value }, masked).keyValues('bc', { secret: true })).toEqual({
      conn_str: 'postgres://u:hunter22@db/state?sslmode=disable',
      schema_name: 'dev',
    });
    expect(masked).toContain('postgres://u:hunter22@db/state?sslmode=disable');
    expect(failure(() => inputs({ bc: 'a=1\nnope' }).keyValues('bc')).message).toBe(
      "Input 'bc' line 2 is not of the form key=value. Allowed: one key=value per line.",
    );
  });

  it('reads YAML maps and refuses anything else', () => {
    expect(inputs({ ev: 'a: 1\nb: [x, y]' }).yamlMap('ev')).toEqual({ a: 1, b: ['x', 'y'] });
    expect(inputs({}).yamlMap('ev')).toEqual({});
    expect(failure(() => inputs({ ev: '- a\n- b' }).yamlMap('ev')).message).toContain(
      "Input 'ev' is not a mapping",
    );
    expect(failure(() => inputs({ ev: 'a: [1' }).yamlMap('ev')).message).toContain(
      "Input 'ev' is not valid YAML",
    );
  });

  it('masks secrets, also line by line, and never puts them in errors', () => {
    const masked: string[] = [];
    const key = '-----BEGIN KEY-----\nAAAAsecretbody\n-----END KEY-----';
    expect(inputs({ 'ssh-private-key': key }, masked).secret('ssh-private-key')).toBe(key);
    expect(masked).toEqual(expect.arrayContaining([key, 'AAAAsecretbody']));
    expect(inputs({}, masked).secret('vault-password')).toBeUndefined();
    expect(failure(() => inputs({}).secret('vault-password', { required: true })).message).not.toContain(
      'AAAA',
    );
  });

  it('reads the runner environment the way @actions/core does', () => {
    process.env['INPUT_LOCK-TIMEOUT'] = '  120s ';
    try {
      expect(new Inputs().durationMs('lock-timeout')).toBe(120_000);
    } finally {
      delete process.env['INPUT_LOCK-TIMEOUT'];
    }
  });
});
