import { describe, expect, it } from 'vitest';
import { changeOf, samplePlan } from '../../../test/fixtures/terraform/sample-plan.js';
import { isDestructive, kindOf, localAddress, parsePlan } from './plan-json.js';
import { SENSITIVE, UNKNOWN } from './redact.js';

describe('kindOf', () => {
  it('knows every documented action list', () => {
    expect(kindOf(['no-op'])).toBe('no-op');
    expect(kindOf(['create'])).toBe('create');
    expect(kindOf(['read'])).toBe('read');
    expect(kindOf(['update'])).toBe('update');
    expect(kindOf(['delete', 'create'])).toBe('replace');
    expect(kindOf(['create', 'delete'])).toBe('replace');
    expect(kindOf(['delete'])).toBe('destroy');
    expect(kindOf(['forget'])).toBe('forget');
  });

  it('keeps a list it does not know as other, and treats one with a delete as destructive', () => {
    expect(kindOf(['forget', 'create'])).toBe('other');
    expect(isDestructive({ kind: 'other', actions: ['delete', 'archive'] })).toBe(true);
    expect(isDestructive({ kind: 'other', actions: ['archive'] })).toBe(false);
  });
});

describe('parsePlan', () => {
  const plan = parsePlan(JSON.stringify(samplePlan()));

  it('counts each kind of change, imports and moves included', () => {
    expect(plan.counts).toEqual({
      create: 0,
      update: 1,
      replace: 1,
      destroy: 1,
      import: 1,
      move: 1,
      forget: 0,
      read: 0,
      other: 0,
    });
    expect(plan.changes.map((c) => c.address)).not.toContain('terraform_data.same');
    expect(plan.hasChanges).toBe(true);
  });

  it('redacts sensitive values and marks unknown ones', () => {
    const a = plan.changes.find((c) => c.address === 'terraform_data.a');
    expect(a?.after).toEqual({ id: 'x', input: { name: 'x', pw: SENSITIVE }, output: UNKNOWN });
    expect(JSON.stringify(plan.changes)).not.toContain('hunter');
    expect(JSON.stringify(plan.outputs)).not.toContain('hunter');
    expect(plan.outputs.map((o) => o.name)).toEqual(['o', 's']);
  });

  it('collects the sensitive values for masking: variables, attributes and outputs', () => {
    expect([...plan.secrets].sort()).toEqual(['hunter1-old', 'hunter2-planted']);
  });

  it('masks a known sensitive value where Terraform did not mark it, as in a derived attribute', () => {
    const raw = samplePlan();
    const a = changeOf(raw, 0);
    a.before = { ...(a.before as object), output: { pw: 'hunter1-old' } };
    const masked = parsePlan(raw).changes.find((c) => c.address === 'terraform_data.a');
    expect(JSON.stringify(masked?.before)).not.toContain('hunter1-old');
    expect(masked?.before).toMatchObject({ output: { pw: '***' } });
  });

  it('keeps the replace reason and paths', () => {
    const vm = plan.changes.find((c) => c.kind === 'replace');
    expect(vm?.actionReason).toBe('replace_because_cannot_update');
    expect(vm?.replacePaths).toEqual([['triggers_replace']]);
    expect(vm && localAddress(vm)).toBe('terraform_data.vm');
  });

  it('tolerates unknown fields and unknown action lists', () => {
    const raw = samplePlan({ something_new: { a: 1 } });
    raw.resource_changes.push({
      address: 'terraform_data.future',
      mode: 'managed',
      type: 'terraform_data',
      change: { actions: ['archive'], before: {}, after: {}, after_unknown: {} },
    });
    expect(parsePlan(raw).counts.other).toBe(1);
  });

  it('refuses another major format version and text that is not a plan', () => {
    expect(() => parsePlan(samplePlan({ format_version: '2.0' }))).toThrow(/format_version 2.0/);
    expect(() => parsePlan('Terraform will perform the following actions')).toThrow(/not JSON/);
    expect(() => parsePlan({ resource_changes: [] })).toThrow(/no format_version/);
  });

  it('reports a plan without changes', () => {
    const empty = parsePlan(samplePlan({ resource_changes: [], output_changes: {} }));
    expect(empty.hasChanges).toBe(false);
    expect(empty.changes).toEqual([]);
  });

  it('reads resource drift', () => {
    const drifted = parsePlan(
      samplePlan({
        resource_drift: [
          {
            address: 'terraform_data.a',
            mode: 'managed',
            type: 'terraform_data',
            change: { actions: ['update'], before: { input: 'a' }, after: { input: 'tampered' } },
          },
        ],
      }),
    );
    expect(drifted.drift.map((d) => d.address)).toEqual(['terraform_data.a']);
  });
});
