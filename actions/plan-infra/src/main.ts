import * as github from '@actions/github';
import { pullRequestFromEvent } from '../../lib/github/index.js';
import { runAction } from '../../lib/run-action.js';
import { runnerDeps } from '../../lib/terraform/action-deps.js';
import { readInputs } from './inputs.js';
import { ACTION, runPlanInfra } from './run.js';

await runAction(ACTION, async ({ inputs, masker }) => {
  const parsed = readInputs(inputs);
  const pullRequest = pullRequestFromEvent(github.context.payload);
  return runPlanInfra(parsed, {
    ...runnerDeps(masker, parsed.githubToken),
    ...(pullRequest ? { pullRequest } : {}),
  });
});
