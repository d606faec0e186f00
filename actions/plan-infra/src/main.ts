import * as github from '@actions/github';
import { runnerDeps } from '../../lib/action-deps.js';
import { pullRequestFromEvent } from '../../lib/github/index.js';
import { runAction } from '../../lib/run-action.js';
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
