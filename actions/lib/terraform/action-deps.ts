/**
 * What plan-infra and apply-infra both get from the runner: the workspace, RUNNER_TEMP, logging, the
 * GitHub client, the commit and the run's URL; and where each puts its files.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import type { ActionError } from '../errors.js';
import { createGitHubClient, type GitHubClient, type RepoRef, repoFromEnv, runUrl } from '../github/index.js';
import { runnerTemp, type SecretMasker } from '../secrets.js';
import type { PlanningDeps } from './planning.js';

export interface TerraformActionDeps extends Omit<PlanningDeps, 'outDir'> {
  runnerTemp: string;
  github?: { client: GitHubClient; repo: RepoRef };
  sha?: string;
  runUrl?: string;
  warn: (message: string) => void;
}

export interface TerraformActionOutcome {
  outputs: Record<string, string | number | boolean>;
  summary: string;
  failure?: ActionError;
}

/** The deps from the runner's environment, as each main.ts needs them. */
export function runnerDeps(masker: SecretMasker, githubToken: string | undefined): TerraformActionDeps {
  const url = runUrl();
  return {
    root: process.env.GITHUB_WORKSPACE || process.cwd(),
    runnerTemp: runnerTemp(),
    masker,
    secret: core.setSecret,
    log: core.info,
    warn: core.warning,
    group: core.group,
    ...(githubToken
      ? {
          github: { client: createGitHubClient({ token: githubToken, log: core.info }), repo: repoFromEnv() },
        }
      : {}),
    ...(process.env.GITHUB_SHA ? { sha: process.env.GITHUB_SHA } : {}),
    ...(url ? { runUrl: url } : {}),
  };
}

/** A private folder per action, environment and root module under RUNNER_TEMP for the plan and its outputs. */
export function outputDir(
  deps: Pick<TerraformActionDeps, 'runnerTemp'>,
  action: string,
  environment: string,
  workingDirectory: string,
): string {
  const dir = join(
    deps.runnerTemp,
    action,
    `${environment}-${workingDirectory.replace(/[^A-Za-z0-9]+/g, '-')}`,
  );
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
