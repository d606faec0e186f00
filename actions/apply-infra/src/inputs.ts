/** apply-infra's inputs, read and checked in one place. */
import type { Inputs } from '../../lib/inputs.js';
import { readTerraformInputs, type TerraformInputs } from '../../lib/terraform/inputs.js';

export interface ApplyInfraInputs extends TerraformInputs {
  reviewedFingerprint?: string;
  approvalLabel: string;
  comment: boolean;
}

export function readInputs(inputs: Inputs): ApplyInfraInputs {
  const reviewed = inputs.string('reviewed-fingerprint', {
    pattern: /^[0-9a-f]{64}$/,
    describe: "plan-infra's fingerprint output: 64 lower-case hex digits",
  });
  return {
    ...readTerraformInputs(inputs),
    ...(reviewed ? { reviewedFingerprint: reviewed } : {}),
    approvalLabel: inputs.label('approval-label', { default: 'destroy-approved' }),
    comment: inputs.boolean('comment', { default: true }),
  };
}
