import { describe, expect, it } from 'vitest';
import { samplePlan } from '../../../test/fixtures/terraform/sample-plan.js';
import { planFingerprint } from '../../lib/terraform/fingerprint.js';
import { parsePlan } from '../../lib/terraform/plan-json.js';
import { protectedChanges, riskOf } from '../../lib/terraform/risk.js';
import { BANNER_LIMIT, groupedResources, type PlanView, planSummary, renderPlan } from './comment.js';

function view(raw = samplePlan(), protectedHosts: string[] = [], showText = 'Terraform will perform…\n') {
  const plan = parsePlan(raw);
  const hits = protectedChanges(plan.changes, protectedHosts);
  return {
    environment: 'production',
    workingDirectory: 'terraform/proxmox',
    plan,
    fingerprint: planFingerprint(plan),
    risk: riskOf(plan, hits),
    protectedChanges: hits,
    approvalLabel: 'destroy-approved',
    headSha: 'a'.repeat(40),
    runUrl: 'https://github.example/spark/runs/1',
    showText,
  } satisfies PlanView;
}

function bulkPlan(count: number) {
  const raw = samplePlan();
  for (let i = 0; i < count; i++) {
    raw.resource_changes.push({
      address: `module.bulk.terraform_data.r[${i}]`,
      module_address: 'module.bulk',
      mode: 'managed',
      type: 'terraform_data',
      change: { actions: ['delete'], before: { id: String(i) }, after: null },
    } as never);
  }
  return raw;
}

describe('planSummary', () => {
  it('opens with a banner for each destroy and replace, with reason and forcing attribute', () => {
    const text = planSummary(view());
    expect(text).toContain('> [!CAUTION]');
    expect(text).toContain('This plan deletes objects: 1 to destroy, 1 to replace.');
    expect(text).toContain(
      '> - **replace** `module.vm["spark-conductor"].terraform_data.vm`: an attribute that cannot change in place changed (`replace_because_cannot_update`); forced by `triggers_replace`',
    );
    expect(text).toContain('> - **destroy** `terraform_data.gone`: removed from the configuration');
    expect(text).not.toContain('[!WARNING]');
  });

  it('warns about protected hosts and says how to approve', () => {
    const text = planSummary(view(samplePlan(), ['spark-conductor']));
    expect(text).toContain('**Risk: high.**');
    expect(text).toContain('Add the label `destroy-approved`');
    expect(text).toContain('· 🔒 protected host `spark-conductor`');
  });

  it('groups resources by module and kind of change', () => {
    const text = groupedResources(parsePlan(samplePlan()).changes);
    expect(text).toContain('**root module**\n- **destroy** (1): `terraform_data.gone`');
    expect(text).toContain('- **import** (1): `terraform_data.imported` (import abc)');
    expect(text).toContain('- **move** (1): `terraform_data.moved` (from terraform_data.old)');
    expect(text).toContain('**`module.vm["spark-conductor"]`**\n- **replace** (1): `terraform_data.vm`');
  });

  it('says so when nothing changes', () => {
    const text = planSummary(view(samplePlan({ resource_changes: [], output_changes: {} })));
    expect(text).toContain('**No changes.**');
    expect(text).not.toContain('| create |');
  });

  it('caps the banner and the lists, protected ones first', () => {
    const text = planSummary(view(bulkPlan(500), ['spark-conductor']));
    expect(text.split('\n').filter((l) => l.startsWith('> - **')).length).toBe(BANNER_LIMIT);
    expect(text).toContain(`> - … and ${(502 - BANNER_LIMIT).toLocaleString('en-US')} more`);
    expect(text.indexOf('spark-conductor')).toBeLessThan(text.indexOf('terraform_data.r[0]'));
    expect(text).toContain('**destroy** (500):');
    expect(text).toContain('… and 460 more');
  });
});

describe('renderPlan', () => {
  it('cuts only the plan text to fit, on line boundaries, and keeps summary and footer', () => {
    const show = Array.from({ length: 20_000 }, (_, i) => `  + resource line ${i}`).join('\n');
    const { text, omittedLines } = renderPlan(view(bulkPlan(2000), [], show), 20_000);
    expect(text.length).toBeLessThanOrEqual(20_000);
    expect(omittedLines).toBeGreaterThan(0);
    expect(text).toContain('| create | update | replace | destroy |');
    expect(text).toMatch(/terraform show \([\d,]+ of 20,000 lines; the rest did not fit\)/);
    expect(text).toContain('Fingerprint `');
    expect(text).toContain('[workflow run](https://github.example/spark/runs/1)');
    expect(text.trimEnd().endsWith('fingerprint.')).toBe(true);
    const fence = text.match(/^`{3,}/gm) ?? [];
    expect(fence.length % 2).toBe(0);
  });

  it('keeps the whole plan text when it fits', () => {
    const { text, omittedLines } = renderPlan(view(), 65_000);
    expect(omittedLines).toBe(0);
    expect(text).toContain('terraform show (1 lines)');
  });
});
