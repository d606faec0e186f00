import { getOctokit } from '@actions/github';
import { ActionError } from '../errors.js';
import { sleep as realSleep, retry } from '../retry.js';
import { httpStatus, responseHeader } from './api-error.js';

/** The octokit instance the actions use: REST endpoint methods plus `paginate`. */
export type GitHubClient = ReturnType<typeof getOctokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface GitHubClientOptions {
  token: string;
  /** REST API base URL. Default: GITHUB_API_URL (set by the runner, GitHub Enterprise too), else api.github.com. */
  apiUrl?: string;
  /** Progress lines (retries, rate-limit waits). Never receives the token. */
  log?: (line: string) => void;
  /** Attempts per request in all, including the first. Default 4. */
  attempts?: number;
  /** The longest single wait for a rate limit; a longer one fails at once. Default 120 000 ms. */
  maxWaitMs?: number;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
  /** For tests: the clock, in ms since the epoch. */
  now?: () => number;
  random?: () => number;
}

export const DEFAULT_API_URL = 'https://api.github.com';

/** GitHub's advice for a secondary rate limit without a Retry-After: wait at least a minute. */
const SECONDARY_LIMIT_WAIT_MS = 60_000;
const PROGRESS_EVERY_MS = 30_000;

/**
 * How long to wait before retrying a failed request, or undefined when it must not be retried. `{}` means
 * "retry with the usual backoff".
 */
export function retryWait(error: unknown, nowMs: number): { waitMs?: number } | undefined {
  const status = httpStatus(error);
  if (status === undefined || (error instanceof Error && error.name === 'AbortError')) return undefined;
  const retryAfter = parseRetryAfter(responseHeader(error, 'retry-after'), nowMs);
  if (status === 403 || status === 429) {
    if (retryAfter !== undefined) return { waitMs: retryAfter };
    const reset = Number(responseHeader(error, 'x-ratelimit-reset'));
    if (responseHeader(error, 'x-ratelimit-remaining') === '0' && Number.isFinite(reset)) {
      // One second of slack: GitHub's reset is in whole seconds and clocks differ a little.
      return { waitMs: Math.max(0, reset * 1000 - nowMs) + 1000 };
    }
    const message = error instanceof Error ? error.message : '';
    if (status === 429 || /secondary rate limit|abuse/i.test(message))
      return { waitMs: SECONDARY_LIMIT_WAIT_MS };
    return undefined; // a plain permission error
  }
  if (status >= 500) return retryAfter === undefined ? {} : { waitMs: retryAfter };
  return undefined;
}

function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * An octokit for the REST API at `apiUrl` (or GITHUB_API_URL) that waits out rate limits (Retry-After, or
 * `x-ratelimit-remaining: 0` until `x-ratelimit-reset`, up to `maxWaitMs`) and retries server errors with
 * backoff. Failed calls still throw octokit's RequestError; wrap them with `gitHubApiError`.
 */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const token = options.token.trim();
  if (token === '') {
    throw new ActionError(
      'bad-input',
      'No GitHub token was given. Pass the `github-token` input (usually the workflow token, github.token).',
    );
  }
  const baseUrl = (options.apiUrl || process.env.GITHUB_API_URL || DEFAULT_API_URL).replace(/\/+$/, '');
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const attempts = options.attempts ?? 4;
  const maxWaitMs = options.maxWaitMs ?? 120_000;
  const client = getOctokit(token, {
    baseUrl,
    userAgent: 'spark-infra',
    log: {
      debug: () => {},
      info: () => {},
      warn: (line: string) => log(line),
      error: (line: string) => log(line),
    },
  });

  const sleep = options.sleep ?? realSleep;
  // Long waits (rate limits) in slices, with a status line at least every 30 s.
  const waitWithProgress = async (ms: number) => {
    let left = ms;
    while (left > PROGRESS_EVERY_MS) {
      await sleep(PROGRESS_EVERY_MS);
      left -= PROGRESS_EVERY_MS;
      log(`Still waiting for the GitHub API rate limit: ${Math.ceil(left / 1000)} s left.`);
    }
    await sleep(left);
  };

  client.hook.wrap('request', (request, requestOptions) =>
    retry(async () => request(requestOptions), {
      attempts,
      baseDelayMs: 1000,
      maxDelayMs: maxWaitMs,
      retryable: (error) => {
        // A POST that failed with a server error may still have been carried out: repeating it could open a
        // second issue or comment, so only rate-limit answers (which GitHub did not process) are retried.
        if (requestOptions.method === 'POST' && (httpStatus(error) ?? 0) >= 500) return false;
        const wait = retryWait(error, now());
        return wait !== undefined && (wait.waitMs === undefined || wait.waitMs <= maxWaitMs);
      },
      delayHint: (error) => retryWait(error, now())?.waitMs,
      onRetry: ({ attempt, delayMs, error }) => {
        const status = httpStatus(error);
        const url = (error as { request?: { url?: unknown } }).request?.url;
        const what = `${requestOptions.method} ${typeof url === 'string' ? url : requestOptions.url}`;
        const why =
          status === 403 || status === 429 ? 'hit a rate limit' : `failed (${status ?? 'no answer'})`;
        log(
          `GitHub API ${what} ${why}; retrying in ${Math.ceil(delayMs / 1000)} s (attempt ${attempt + 1} of ${attempts}).`,
        );
      },
      sleep: waitWithProgress,
      random: options.random,
    }),
  );
  return client;
}

/** Parses `owner/name`, as in GITHUB_REPOSITORY or a `repository` input. */
export function parseRepo(value: string, source = 'GITHUB_REPOSITORY'): RepoRef {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(value.trim());
  const owner = match?.[1];
  const repo = match?.[2];
  if (!owner || !repo || repo === '.' || repo === '..') {
    throw new ActionError(
      'bad-input',
      `${source} must be 'owner/name' (for example 'spark/spark-infra'), got '${value}'.`,
    );
  }
  return { owner, repo };
}

/** The repository the workflow runs in, from GITHUB_REPOSITORY. */
export function repoFromEnv(env: NodeJS.ProcessEnv = process.env): RepoRef {
  const value = env.GITHUB_REPOSITORY;
  if (value === undefined || value.trim() === '') {
    throw new ActionError(
      'bad-input',
      "GITHUB_REPOSITORY is not set; it should be 'owner/name'. The runner sets it; set it yourself outside Actions.",
    );
  }
  return parseRepo(value);
}
