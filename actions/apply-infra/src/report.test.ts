import { describe, expect, it } from 'vitest';
import { renderApplyReport } from './report.js';

const counts = {
  create: 1,
  update: 2,
  replace: 0,
  destroy: 0,
  import: 0,
  move: 0,
  forget: 0,
  read: 0,
  other: 0,
};
const base = { environment: 'production', workingDirectory: 'terraform/proxmox', sha: 'f'.repeat(40) };

describe('renderApplyReport', () => {
  it('shows what was compared and applied', () => {
    const text = renderApplyReport(
      {
        ...base,
        status: 'applied',
        fingerprint: 'a'.repeat(64),
        reviewed: { fingerprint: 'a'.repeat(64), source: 'input' },
        counts,
        applied: ['terraform_data.a'],
        inventoryHosts: 7,
      },
      65_536,
    );
    expect(text).toContain('### ✅ Applied: `production` · `terraform/proxmox`');
    expect(text).toContain('from the reviewed-fingerprint input; the new plan matches it.');
    expect(text).toContain('**Applied** (1)\n- `terraform_data.a`');
    expect(text).toContain('Ansible inventory written for 7 host(s).');
  });

  it('names every difference of a changed plan and applies nothing', () => {
    const text = renderApplyReport(
      {
        ...base,
        status: 'refused',
        reason: 'plan-changed',
        message: 'The plan for production is not the one that was reviewed.',
        fingerprint: 'b'.repeat(64),
        reviewed: {
          fingerprint: 'a'.repeat(64),
          source: 'comment',
          pullRequest: { number: 7, headSha: 'c'.repeat(40), mergeCommitSha: null, url: 'u', labels: [] },
          commentUrl: 'https://github.example/c/1',
        },
        difference: {
          added: [{ address: 'x.new', actions: 'create' }],
          removed: [{ address: 'x.gone', actions: 'delete' }],
          actionsChanged: [{ address: 'x.a', reviewed: 'update', now: 'delete,create' }],
          valuesChanged: ['x.b'],
        },
        counts,
      },
      65_536,
    );
    expect(text).toContain('### ⛔ Apply refused');
    expect(text).toContain('the plan comment ([link](https://github.example/c/1)) on PR #7');
    expect(text).toContain('| `x.new` | not in the reviewed plan | create |');
    expect(text).toContain('| `x.gone` | reviewed: delete | no longer planned |');
    expect(text).toContain('| `x.a` | reviewed: update | delete,create |');
    expect(text).toContain('| `x.b` | same action | other values |');
    expect(text).toContain('Nothing was applied.');
    expect(text).not.toContain('| create | update |');
  });

  it('lists what a failed apply did and did not do', () => {
    const text = renderApplyReport(
      {
        ...base,
        status: 'failed',
        reason: 'apply-failed',
        message: 'boom',
        applied: ['a'],
        failed: ['b'],
        notApplied: ['c'],
      },
      65_536,
    );
    expect(text).toContain('**Applied** (1)');
    expect(text).toContain('**Failed** (1)\n- `b`');
    expect(text).toContain('**Not applied** (1)\n- `c`');
  });
});
