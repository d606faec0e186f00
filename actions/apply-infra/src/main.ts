import * as core from '@actions/core';
import { createGitHubClient, repoFromEnv, runUrl } from '../../lib/github/index.js';
import { runAction } from '../../lib/run-action.js';
import { runnerTemp } from '../../lib/secrets.js';
import { readInputs } from './inputs.js';
import { ACTION, runApplyInfra } from './run.js';

await runAction(ACTION, async ({ inputs, masker }) => {
  const parsed = readInputs(inputs);
  const url = runUrl();
  return runApplyInfra(parsed, {
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
    ...(process.env.GITHUB_SHA ? { sha: process.env.GITHUB_SHA } : {}),
    ...(url ? { runUrl: url } : {}),
  });
});
