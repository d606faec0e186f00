/** plan-infra's inputs, read and checked in one place. */
import type { Inputs } from '../../lib/inputs.js';
import { readTerraformInputs, type TerraformInputs } from '../../lib/terraform/inputs.js';

export interface PlanInfraInputs extends TerraformInputs {
  mode: 'plan' | 'drift';
  comment: boolean;
  approvalLabel: string;
  riskLabel: string;
}

const LABEL = /^[^,]{1,50}$/;
const LABEL_RULE = 'a GitHub label name of at most 50 characters, without commas';

export function readInputs(inputs: Inputs): PlanInfraInputs {
  return {
    ...readTerraformInputs(inputs),
    mode: inputs.enum('mode', ['plan', 'drift'] as const, { default: 'plan' }),
    comment: inputs.boolean('comment', { default: true }),
    approvalLabel: inputs.string('approval-label', {
      default: 'destroy-approved',
      pattern: LABEL,
      describe: LABEL_RULE,
    }),
    riskLabel: inputs.string('risk-label', { default: 'destroy', pattern: LABEL, describe: LABEL_RULE }),
  };
}
