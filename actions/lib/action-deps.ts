/**
 * What the actions get from the runner: the workspace, RUNNER_TEMP, logging, secrets, the GitHub client, the
 * commit and the run's URL; and where each puts its files.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '@actions/core';
import type { ActionError } from './errors.js';
import { createGitHubClient, type GitHubClient, type RepoRef, repoFromEnv, runUrl } from './github/index.js';
import { runnerTemp, type SecretMasker } from './secrets.js';

export interface RunnerDeps {
  /** The repository checkout (GITHUB_WORKSPACE). */
  root: string;
  masker: SecretMasker;
  /** Registers a secret with the runner (core.setSecret). */
  secret: (value: string) => void;
  log: (line: string) => void;
  group: <T>(name: string, work: () => Promise<T>) => Promise<T>;
  signal?: AbortSignal;
  runnerTemp: string;
  github?: { client: GitHubClient; repo: RepoRef };
  sha?: string;
  runUrl?: string;
  warn: (message: string) => void;
}

export interface ActionOutcome {
  outputs: Record<string, string | number | boolean>;
  summary: string;
  failure?: ActionError;
}

/** The deps from the runner's environment, as each main.ts needs them. */
export function runnerDeps(masker: SecretMasker, githubToken: string | undefined): RunnerDeps {
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

/** A private folder under RUNNER_TEMP per action, environment and what it works on, for its files. */
export function outputDir(
  deps: Pick<RunnerDeps, 'runnerTemp'>,
  action: string,
  environment: string,
  subject: string,
): string {
  const dir = join(deps.runnerTemp, action, `${environment}-${subject.replace(/[^A-Za-z0-9]+/g, '-')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
