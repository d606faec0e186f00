/** dr-drill's inputs, read and checked in one place. */
import { join } from 'node:path';
import type { Inputs } from '../../lib/inputs.js';

export interface DrillInputs {
  environment: string;
  config?: string;
  targets: string[];
  rtoTargetMs?: number;
  rpoTargetMs?: number;
  timeoutMs: number;
  reportDir: string;
  issueOnFailure: boolean;
  issueLabel: string;
  kubeconfig?: string;
  githubToken?: string;
}

export function readInputs(inputs: Inputs, runner: { eventName: string; runnerTemp: string }): DrillInputs {
  const environment = inputs.string('environment', {
    required: true,
    pattern: /^[a-z][a-z0-9-]*$/,
    describe: 'the name of a file in environments/, such as production',
  });
  const config = inputs.optional('config');
  const rtoTargetMs = inputs.optionalDurationMs('rto-target');
  const rpoTargetMs = inputs.optionalDurationMs('rpo-target');
  const kubeconfig = inputs.optional('kubeconfig');
  const githubToken = inputs.secret('github-token');
  return {
    environment,
    ...(config ? { config } : {}),
    targets: inputs.list('targets'),
    ...(rtoTargetMs === undefined ? {} : { rtoTargetMs }),
    ...(rpoTargetMs === undefined ? {} : { rpoTargetMs }),
    timeoutMs: inputs.durationMs('timeout', { default: '2h', minMs: 1000 }),
    reportDir: inputs.string('report-dir', { default: join(runner.runnerTemp, 'dr-drill') }),
    issueOnFailure: inputs.boolean('issue-on-failure', { default: runner.eventName === 'schedule' }),
    issueLabel: inputs.label('issue-label', { default: 'dr-drill' }),
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(githubToken ? { githubToken } : {}),
  };
}
