import { describe, expect, it } from 'vitest';
import { changeOf, samplePlan } from '../../../test/fixtures/terraform/sample-plan.js';
import { canonicalJson, changeLines, comparePlans, planFingerprint } from './fingerprint.js';
import { parsePlan } from './plan-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe('planFingerprint', () => {
  const base = parsePlan(samplePlan());

  it('is the same for the same change, whatever the order and the metadata', () => {
    const reordered = samplePlan({ timestamp: '2030-01-01T00:00:00Z', terraform_version: '1.12.0' });
    reordered.resource_changes.reverse();
    expect(planFingerprint(parsePlan(reordered))).toBe(planFingerprint(base));
    expect(planFingerprint(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes with a visible value, an action or an address', () => {
    const value = samplePlan();
    changeOf(value, 1).after.input = 'c';
    expect(planFingerprint(parsePlan(value))).not.toBe(planFingerprint(base));
    const action = samplePlan();
    changeOf(action, 0).actions = ['delete', 'create'];
    expect(planFingerprint(parsePlan(action))).not.toBe(planFingerprint(base));
  });

  it('does not depend on sensitive values, which it never sees', () => {
    const other = JSON.parse(JSON.stringify(samplePlan()).replaceAll('hunter2-planted', 'other-secret'));
    expect(planFingerprint(parsePlan(other))).toBe(planFingerprint(base));
  });
});

describe('comparePlans', () => {
  it('names added, removed, re-actioned and re-valued addresses', () => {
    const reviewed = changeLines(parsePlan(samplePlan()));
    const changed = samplePlan();
    changed.resource_changes = changed.resource_changes.filter((r) => r.address !== 'terraform_data.gone');
    changeOf(changed, 0).actions = ['delete', 'create'];
    changeOf(changed, 1).after.input = 'c';
    changed.resource_changes.push({
      address: 'terraform_data.new',
      mode: 'managed',
      type: 'terraform_data',
      change: { actions: ['create'], before: null, after: {}, after_unknown: {} } as never,
    });
    const difference = comparePlans(reviewed, changeLines(parsePlan(changed)));
    expect(difference.added).toEqual([{ address: 'terraform_data.new', actions: 'create' }]);
    expect(difference.removed).toEqual([{ address: 'terraform_data.gone', actions: 'delete' }]);
    expect(difference.actionsChanged).toEqual([
      { address: 'terraform_data.a', reviewed: 'update', now: 'delete,create' },
    ]);
    expect(difference.valuesChanged).toEqual(['module.vm["spark-conductor"].terraform_data.vm']);
  });

  it('finds nothing between equal plans', () => {
    const lines = changeLines(parsePlan(samplePlan()));
    expect(comparePlans(lines, lines)).toEqual({
      added: [],
      removed: [],
      actionsChanged: [],
      valuesChanged: [],
    });
  });
});
