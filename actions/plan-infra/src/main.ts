import * as core from '@actions/core';
import * as github from '@actions/github';
import { createGitHubClient, pullRequestFromEvent, repoFromEnv, runUrl } from '../../lib/github/index.js';
import { runAction } from '../../lib/run-action.js';
import { runnerTemp } from '../../lib/secrets.js';
import { readInputs } from './inputs.js';
import { ACTION, runPlanInfra } from './run.js';

await runAction(ACTION, async ({ inputs, masker }) => {
  const parsed = readInputs(inputs);
  const pullRequest = pullRequestFromEvent(github.context.payload);
  const url = runUrl();
  const outcome = await runPlanInfra(parsed, {
    root: process.env.GITHUB_WORKSPACE || process.cwd(),
    runnerTemp: runnerTemp(),
    masker,
    secret: core.setSecret,
    log: core.info,
    warn: core.warning,
    group: core.group,
    ...(parsed.githubToken
      ? {
          github: {
            client: createGitHubClient({ token: parsed.githubToken, log: core.info }),
            repo: repoFromEnv(),
          },
        }
      : {}),
    ...(pullRequest ? { pullRequest } : {}),
    ...(process.env.GITHUB_SHA ? { sha: process.env.GITHUB_SHA } : {}),
    ...(url ? { runUrl: url } : {}),
  });
  return outcome;
});
