import { describe, expect, it } from 'vitest';
import { samplePlan } from '../../../test/fixtures/terraform/sample-plan.js';
import { parsePlan } from './plan-json.js';
import { instanceKeys, protectedChanges, riskOf } from './risk.js';

describe('instanceKeys', () => {
  it('reads string and number keys, escapes included', () => {
    expect(instanceKeys('module.vm["spark-conductor"].x.y[0]')).toEqual(['spark-conductor', '0']);
    expect(instanceKeys('a.b["say \\"hi\\""]')).toEqual(['say "hi"']);
    expect(instanceKeys('a.b')).toEqual([]);
  });
});

describe('risk', () => {
  const plan = parsePlan(samplePlan());

  it('is high when a protected host is destroyed or replaced', () => {
    const hits = protectedChanges(plan.changes, ['spark-conductor', 'spark-observer']);
    expect(hits).toEqual([
      { address: 'module.vm["spark-conductor"].terraform_data.vm', kind: 'replace', host: 'spark-conductor' },
    ]);
    expect(riskOf(plan, hits)).toBe('high');
  });

  it('is medium for other destructive changes, low for the rest, none without changes', () => {
    expect(riskOf(plan, protectedChanges(plan.changes, ['spark-observer']))).toBe('medium');
    const updateOnly = parsePlan(samplePlan({ resource_changes: samplePlan().resource_changes.slice(0, 1) }));
    expect(riskOf(updateOnly, [])).toBe('low');
    expect(riskOf(parsePlan(samplePlan({ resource_changes: [], output_changes: {} })), [])).toBe('none');
  });
});
