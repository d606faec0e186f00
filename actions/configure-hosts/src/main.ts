import * as core from '@actions/core';
import * as github from '@actions/github';
import { runnerDeps } from '../../lib/action-deps.js';
import { pullRequestFromEvent } from '../../lib/github/index.js';
import { runAction } from '../../lib/run-action.js';
import { readInputs } from './inputs.js';
import { ACTION, runConfigureHosts } from './run.js';

await runAction(ACTION, async ({ inputs, masker }) => {
  const parsed = readInputs(inputs, { eventName: process.env.GITHUB_EVENT_NAME ?? '' });
  const pullRequest = pullRequestFromEvent(github.context.payload);
  return runConfigureHosts(parsed, {
    ...runnerDeps(masker, parsed.githubToken),
    ...(pullRequest ? { pullRequest } : {}),
    annotate: (message, properties) => core.error(message, properties),
  });
});
