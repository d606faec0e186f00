import * as core from '@actions/core';
import { ActionError } from '../../lib/errors.js';
import { createGitHubClient, repoFromEnv } from '../../lib/github/client.js';
import { runUrl } from '../../lib/github/run-url.js';
import { runAction } from '../../lib/run-action.js';
import { runnerTemp } from '../../lib/secrets.js';
import { readInputs } from './inputs.js';
import { runDrill } from './run.js';
import { drillTarget } from './targets/index.js';

await runAction('dr-drill', async ({ inputs, masker }) => {
  const parsed = readInputs(inputs, {
    eventName: process.env.GITHUB_EVENT_NAME ?? '',
    runnerTemp: runnerTemp(),
  });
  const github =
    parsed.issueOnFailure && parsed.githubToken
      ? { client: createGitHubClient({ token: parsed.githubToken, log: core.info }), repo: repoFromEnv() }
      : undefined;
  const url = runUrl();
  const outcome = await runDrill(parsed, {
    root: process.env.GITHUB_WORKSPACE || process.cwd(),
    now: () => Date.now(),
    log: core.info,
    group: core.group,
    drillTarget: drillTarget({ ...(parsed.kubeconfig ? { kubeconfig: parsed.kubeconfig } : {}) }),
    masker,
    secret: core.setSecret,
    ...(github ? { github } : {}),
    ...(url ? { runUrl: url } : {}),
  });
  const { report } = outcome;
  const failed = report.targets
    .filter((t) => t.status === 'fail')
    .map((t) => `${t.name} (${t.failureReason})`);
  return {
    outputs: {
      status: report.status,
      'rto-seconds': report.worst.rtoSeconds ?? '',
      'rpo-seconds': report.worst.rpoSeconds ?? '',
      'report-path': outcome.reportPath,
      'issue-url': outcome.issueUrl,
    },
    summary: outcome.summary,
    ...(report.status === 'fail'
      ? {
          failure: new ActionError(
            report.failureReason ?? 'verification-failed',
            `The DR drill of ${report.environment} failed: ${failed.join(', ')}. See the job summary and ${outcome.reportPath}.`,
          ),
        }
      : {}),
  };
});
