import { runnerDeps } from '../../lib/action-deps.js';
import { runAction } from '../../lib/run-action.js';
import { readInputs } from './inputs.js';
import { ACTION, runApplyInfra } from './run.js';

await runAction(ACTION, async ({ inputs, masker }) => {
  const parsed = readInputs(inputs);
  return runApplyInfra(parsed, runnerDeps(masker, parsed.githubToken));
});
