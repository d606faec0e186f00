/**
 * The frame every action's main.ts runs in: it builds the typed input reader and the secret masker, calls the
 * action, sets its outputs, always writes a job summary (also on failure), and turns an error into the
 * `failure-reason` output plus `core.setFailed` with a message a person can act on.
 */
import * as core from '@actions/core';
import { type ActionError, toActionError } from './errors.js';
import { environmentInputs, type InputSource, Inputs } from './inputs.js';
import { processMasker, type SecretMasker } from './secrets.js';
import { writeJobSummary } from './summary.js';

export type OutputValue = string | number | boolean | undefined;

export interface ActionContext {
  inputs: Inputs;
  /** Knows every secret input; use it on anything that leaves the process (comments, reports). */
  masker: SecretMasker;
}

export interface ActionResult {
  outputs?: Record<string, OutputValue>;
  summary?: string;
  /** Set when the action finished its report but must still fail the step (for example a failed drill). */
  failure?: ActionError;
}

function failureSummary(action: string, error: ActionError): string {
  const lines = [
    `### ❌ ${action} failed`,
    '',
    `**Reason:** \`${error.reason}\``,
    '',
    ...error.message.split('\n').map((line, i) => (i === 0 ? line : `    ${line}`)),
  ];
  if (error.details.length) lines.push('', ...error.details);
  return lines.join('\n');
}

export async function runAction(
  action: string,
  main: (context: ActionContext) => Promise<ActionResult>,
  source: InputSource = environmentInputs,
): Promise<void> {
  const masker = processMasker;
  const inputs = new Inputs(source, (value) => {
    core.setSecret(value);
    masker.add(value);
  });
  let result: ActionResult = {};
  let failure: ActionError | undefined;
  try {
    result = await main({ inputs, masker });
    failure = result.failure;
  } catch (error) {
    failure = toActionError(error);
  }

  for (const [name, value] of Object.entries(result.outputs ?? {})) {
    if (value !== undefined) core.setOutput(name, masker.mask(String(value)));
  }
  core.setOutput('failure-reason', failure?.reason ?? '');

  const parts = [result.summary, failure ? failureSummary(action, failure) : undefined].filter(Boolean);
  try {
    writeJobSummary(parts.join('\n\n') || `### ✅ ${action} finished`, { masker });
  } catch (error) {
    core.warning(
      `Could not write the job summary: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  if (failure) {
    if (failure.reason === 'internal' && failure.cause instanceof Error && failure.cause.stack) {
      core.debug(masker.mask(failure.cause.stack));
    }
    core.setFailed(masker.mask(failure.message));
  }
}
