/** plan-infra's inputs, read and checked in one place. */
import type { Inputs } from '../../lib/inputs.js';
import { readTerraformInputs, type TerraformInputs } from '../../lib/terraform/inputs.js';

export interface PlanInfraInputs extends TerraformInputs {
  mode: 'plan' | 'drift';
  comment: boolean;
  approvalLabel: string;
  riskLabel: string;
}

export function readInputs(inputs: Inputs): PlanInfraInputs {
  return {
    ...readTerraformInputs(inputs),
    mode: inputs.enum('mode', ['plan', 'drift'] as const, { default: 'plan' }),
    comment: inputs.boolean('comment', { default: true }),
    approvalLabel: inputs.label('approval-label', { default: 'destroy-approved' }),
    riskLabel: inputs.label('risk-label', { default: 'destroy' }),
  };
}
