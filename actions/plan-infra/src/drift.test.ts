import { describe, expect, it } from 'vitest';
import { samplePlan } from '../../../test/fixtures/terraform/sample-plan.js';
import { parsePlan } from '../../lib/terraform/plan-json.js';
import { DRIFT_ROWS, driftLabel, driftReport, hasDrift } from './drift.js';

const drifted = (count: number) =>
  samplePlan({
    resource_changes: [],
    output_changes: {},
    resource_drift: Array.from({ length: count }, (_, i) => ({
      address: `terraform_data.vm["h${i}"]`,
      mode: 'managed',
      type: 'terraform_data',
      change: { actions: ['update'], before: { input: 'a', id: 'x' }, after: { input: 'b', id: 'x' } },
    })),
  });

describe('driftReport', () => {
  it('lists what changed outside Terraform with the attributes', () => {
    const plan = parsePlan(drifted(1));
    expect(hasDrift(plan)).toBe(true);
    const text = driftReport(
      { environment: 'production', workingDirectory: 'terraform/proxmox', plan },
      65_536,
    );
    expect(text).toContain('#### Changed outside Terraform');
    expect(text).toContain('| `terraform_data.vm["h0"]` | update | `input` |');
    expect(text).not.toContain('What an apply would change');
  });

  it('lists unapplied changes too, and caps long tables', () => {
    const plan = parsePlan(samplePlan());
    const text = driftReport(
      { environment: 'production', workingDirectory: 'terraform/proxmox', plan },
      65_536,
    );
    expect(text).toContain('#### What an apply would change');
    const many = driftReport(
      { environment: 'production', workingDirectory: 'x', plan: parsePlan(drifted(DRIFT_ROWS + 5)) },
      65_536,
    );
    expect(many).toContain('… and 5 more');
  });

  it('reports no drift, and names the label per environment', () => {
    const plan = parsePlan(samplePlan({ resource_changes: [], output_changes: {} }));
    expect(hasDrift(plan)).toBe(false);
    expect(driftReport({ environment: 'dev', workingDirectory: 'x', plan }, 65_536)).toContain('No drift');
    expect(driftLabel('staging')).toBe('drift:staging');
  });
});
