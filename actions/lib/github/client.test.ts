import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GitHubApi } from '../../../test/support/github-api.js';
import { startGitHubApi } from '../../../test/support/github-api.js';
import { ActionError } from '../errors.js';
import { gitHubApiError, httpStatus } from './api-error.js';
import { createGitHubClient, parseRepo, repoFromEnv } from './client.js';

const TOKEN = 'ghs_client_test_SECRET_4242';
const REPO = { owner: 'spark', repo: 'spark-infra' };
const NOW = Date.parse('2025-06-01T12:00:00Z');

let api: GitHubApi | undefined;

afterEach(async () => {
  vi.unstubAllEnvs();
  await api?.close();
  api = undefined;
});

async function setup(options: { basePath?: string; maxWaitMs?: number } = {}) {
  api = await startGitHubApi({ token: TOKEN, basePath: options.basePath });
  const waits: number[] = [];
  const lines: string[] = [];
  const client = createGitHubClient({
    token: TOKEN,
    apiUrl: api.url,
    log: (line) => lines.push(line),
    sleep: async (ms) => {
      waits.push(ms);
    },
    now: () => NOW,
    random: () => 0.5,
    maxWaitMs: options.maxWaitMs,
  });
  return { api, client, waits, lines };
}

describe('createGitHubClient', () => {
  it('uses GITHUB_API_URL (GitHub Enterprise base path) when no apiUrl is given', async () => {
    api = await startGitHubApi({ token: TOKEN, basePath: '/api/v3' });
    vi.stubEnv('GITHUB_API_URL', api.url);
    const client = createGitHubClient({ token: TOKEN });
    const { data } = await client.rest.issues.listForRepo({ ...REPO });
    expect(data).toEqual([]);
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]).toMatchObject({
      method: 'GET',
      path: '/api/v3/repos/spark/spark-infra/issues',
      authorization: true,
      status: 200,
    });
  });

  it('prefers apiUrl over GITHUB_API_URL', async () => {
    vi.stubEnv('GITHUB_API_URL', 'http://127.0.0.1:9/not-here');
    const { api, client } = await setup({ basePath: '/ghes' });
    await client.rest.issues.listForRepo({ ...REPO });
    expect(api.requests.map((request) => request.path)).toEqual(['/ghes/repos/spark/spark-infra/issues']);
  });

  it('sends the token, which the stand-in checks', async () => {
    api = await startGitHubApi({ token: 'ghs_other' });
    const client = createGitHubClient({ token: TOKEN, apiUrl: api.url, sleep: async () => {} });
    const failure = await client.rest.issues.listForRepo({ ...REPO }).catch((error: unknown) => error);
    expect(gitHubApiError(failure, 'Listing issues').message).toMatch(/401: Bad credentials.*token/);
    expect(api.requests).toHaveLength(1); // 401 is not retried
  });

  it('waits out a 429 with Retry-After and tries again', async () => {
    const { api, client, waits, lines } = await setup();
    api.state.failNext('GET', /\/issues$/, 429, { 'retry-after': '7' });
    const { status } = await client.rest.issues.listForRepo({ ...REPO });
    expect(status).toBe(200);
    expect(waits).toEqual([7000]);
    expect(api.requests.map((request) => [request.method, request.apiPath, request.status])).toEqual([
      ['GET', '/repos/spark/spark-infra/issues', 429],
      ['GET', '/repos/spark/spark-infra/issues', 200],
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/rate limit; retrying in 7 s \(attempt 2 of 4\)/);
  });

  it('waits until x-ratelimit-reset on a 403 with no requests remaining', async () => {
    const { api, client, waits, lines } = await setup();
    const reset = NOW / 1000 + 30;
    api.state.failNext('POST', /\/comments$/, 403, {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(reset),
    });
    api.state.addIssue('spark/spark-infra', { title: 'target' });
    const { status } = await client.rest.issues.createComment({ ...REPO, issue_number: 1, body: 'hello' });
    expect(status).toBe(201);
    // Until the reset plus one second of slack, in slices with a status line at least every 30 s.
    expect(waits).toEqual([30_000, 1_000]);
    expect(lines).toEqual([
      expect.stringMatching(
        /POST http:\/\/127\.0\.0\.1:\d+\/repos\/spark\/spark-infra\/issues\/1\/comments hit a rate limit; retrying in 31 s/,
      ),
      'Still waiting for the GitHub API rate limit: 1 s left.',
    ]);
    expect(api.requests.filter((request) => request.method === 'POST')).toHaveLength(2);
    expect(api.state.comments('spark/spark-infra', 1)).toHaveLength(1);
  });

  it('fails at once when the rate limit resets later than it is willing to wait', async () => {
    const { api, client, waits } = await setup({ maxWaitMs: 60_000 });
    api.state.failNext('GET', /\/issues$/, 403, {
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(NOW / 1000 + 3000),
    });
    const failure = await client.rest.issues.listForRepo({ ...REPO }).catch((error: unknown) => error);
    expect(waits).toEqual([]);
    expect(api.requests).toHaveLength(1);
    const error = gitHubApiError(failure, 'Listing issues');
    expect(error).toBeInstanceOf(ActionError);
    expect(error.reason).toBe('github-api');
    expect(error.message).toContain('rate limit is used up');
    expect(error.message).toContain(new Date((NOW / 1000 + 3000) * 1000).toISOString());
  });

  it('retries server errors with backoff and succeeds', async () => {
    const { api, client, waits } = await setup();
    api.state.failNext('GET', /\/issues$/, 502);
    api.state.failNext('GET', /\/issues$/, 503);
    const { status } = await client.rest.issues.listForRepo({ ...REPO });
    expect(status).toBe(200);
    expect(api.requests.map((request) => request.status)).toEqual([502, 503, 200]);
    // Backoff with full jitter from 1 s: half the ceiling plus random() = 0.5 of the other half.
    expect(waits).toEqual([750, 1500]);
  });

  it('does not repeat a POST after a server error, which may have created the object already', async () => {
    const { api, client, waits } = await setup();
    api.state.failNext('POST', /\/issues$/, 502);
    const failure = await client.rest.issues.create({ ...REPO, title: 'x' }).catch((error: unknown) => error);
    expect(httpStatus(failure)).toBe(502);
    expect(api.requests.map((request) => `${request.method} ${request.status}`)).toEqual(['POST 502']);
    expect(waits).toEqual([]);
  });

  it('gives up after the attempts on lasting server errors', async () => {
    const { api, client, waits } = await setup();
    for (let i = 0; i < 5; i++) api.state.failNext('GET', /\/issues$/, 500);
    const failure = await client.rest.issues.listForRepo({ ...REPO }).catch((error: unknown) => error);
    expect(api.requests).toHaveLength(4);
    expect(waits).toHaveLength(3);
    expect(gitHubApiError(failure, 'Listing issues').message).toMatch(
      /Listing issues failed\. GitHub answered 500/,
    );
    expect(api.state.faults).toHaveLength(1);
  });

  it('does not retry a 403 that is not a rate limit, nor a 404', async () => {
    const { api, client, waits } = await setup();
    api.state.failNext('GET', /\/issues$/, 403, {}, { message: 'Resource not accessible by integration' });
    const forbidden = await client.rest.issues.listForRepo({ ...REPO }).catch((error: unknown) => error);
    expect(gitHubApiError(forbidden, 'Listing issues').message).toContain('permissions');
    const missing = await client.rest.issues
      .get({ ...REPO, issue_number: 99 })
      .catch((error: unknown) => error);
    expect(gitHubApiError(missing, 'Reading issue 99').message).toMatch(/404: Not Found/);
    expect(api.requests.map((request) => request.status)).toEqual([403, 404]);
    expect(waits).toEqual([]);
  });

  it('never puts the token into logs or errors', async () => {
    const { api, client, lines } = await setup();
    api.state.failNext('GET', /\/issues$/, 500);
    api.state.failNext('GET', /\/issues\/5$/, 500);
    await client.rest.issues.listForRepo({ ...REPO });
    const failure = await client.rest.issues
      .get({ ...REPO, issue_number: 5 })
      .catch((error: unknown) => error);
    const wrapped = gitHubApiError(failure, 'Reading issue 5');
    expect(lines.length).toBeGreaterThan(0);
    const everything = [...lines, wrapped.message, ...wrapped.details, JSON.stringify(api.requests)].join(
      '\n',
    );
    expect(everything).not.toContain(TOKEN);
  });

  it('refuses an empty token', () => {
    expect(() => createGitHubClient({ token: '  ' })).toThrow(/No GitHub token/);
  });
});

describe('repoFromEnv', () => {
  it('parses owner/name', () => {
    expect(repoFromEnv({ GITHUB_REPOSITORY: 'spark/spark-infra' })).toEqual(REPO);
    expect(parseRepo('my-org/my.repo_1', 'repository')).toEqual({ owner: 'my-org', repo: 'my.repo_1' });
  });

  it('explains what is wrong', () => {
    expect(() => repoFromEnv({})).toThrow(/GITHUB_REPOSITORY is not set/);
    for (const bad of ['spark', 'spark/', '/infra', 'a/b/c', 'spark/..', 'sp ark/infra']) {
      expect(() => repoFromEnv({ GITHUB_REPOSITORY: bad }), bad).toThrow(/must be 'owner\/name'/);
    }
    try {
      repoFromEnv({ GITHUB_REPOSITORY: 'x' });
    } catch (error) {
      expect(error).toBeInstanceOf(ActionError);
      expect((error as ActionError).reason).toBe('bad-input');
    }
  });
});
