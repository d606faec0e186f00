import { afterEach, describe, expect, it } from 'vitest';
import type { GitHubApi, GitHubApiSeed } from '../../../test/support/github-api.js';
import { startGitHubApi } from '../../../test/support/github-api.js';
import { createGitHubClient } from './client.js';
import { reportFailureIssue, resolveFailureIssue } from './issues.js';

const REPO = { owner: 'spark', repo: 'spark-infra' };
const FULL = 'spark/spark-infra';

let api: GitHubApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(seed: GitHubApiSeed = {}) {
  api = await startGitHubApi(seed);
  const client = createGitHubClient({ token: 'ghs_issues', apiUrl: api.url, sleep: async () => {} });
  return { api, client };
}

const calls = (api: GitHubApi) => api.requests.map((request) => `${request.method} ${request.apiPath}`);

describe('reportFailureIssue', () => {
  it('opens one labelled issue, creating the label first, then comments on it', async () => {
    const { api, client } = await setup();
    const first = await reportFailureIssue(client, REPO, {
      label: 'dr-drill',
      title: 'DR drill failed',
      body: 'run 1 failed',
    });
    expect(first).toEqual({ number: 1, url: 'https://github.com/spark/spark-infra/issues/1', created: true });
    expect(calls(api)).toEqual([
      'GET /repos/spark/spark-infra/issues',
      'POST /repos/spark/spark-infra/labels',
      'POST /repos/spark/spark-infra/issues',
    ]);
    expect(api.requests[0]?.query).toMatchObject({ state: 'open', labels: 'dr-drill', per_page: '100' });
    expect(api.requests[1]?.body).toMatchObject({ name: 'dr-drill', color: 'd73a4a' });
    expect(api.requests[2]?.body).toEqual({
      title: 'DR drill failed',
      body: 'run 1 failed',
      labels: ['dr-drill'],
    });

    const second = await reportFailureIssue(client, REPO, {
      label: 'dr-drill',
      title: 'ignored',
      body: 'run 2 failed',
    });
    expect(second).toEqual({ ...first, created: false });
    expect(calls(api).slice(3)).toEqual([
      'GET /repos/spark/spark-infra/issues',
      'POST /repos/spark/spark-infra/issues/1/comments',
    ]);
    expect(api.state.repo(FULL).issues).toHaveLength(1);
    expect(api.state.comments(FULL, 1).map((comment) => comment.body)).toEqual(['run 2 failed']);
  });

  it('tolerates a label that exists already (422 already_exists)', async () => {
    const { api, client } = await setup({ repos: { [FULL]: { labels: ['drift:production'] } } });
    const result = await reportFailureIssue(client, REPO, {
      label: 'drift:production',
      title: 'Drift',
      body: 'b',
    });
    expect(result.created).toBe(true);
    expect(api.requests.map((request) => request.status)).toEqual([200, 422, 201]);
    expect(api.state.issue(FULL, 1)?.labels).toEqual(['drift:production']);
  });

  it('ignores pull requests and closed issues with the label, and issues with other labels', async () => {
    const { api, client } = await setup({
      repos: {
        [FULL]: {
          pulls: [{ number: 1, headSha: 'a'.repeat(40), labels: ['dr-drill'] }],
          issues: [
            { number: 2, title: 'old', labels: ['dr-drill'], state: 'closed' },
            { number: 3, title: 'other', labels: ['drift'] },
          ],
        },
      },
    });
    const result = await reportFailureIssue(client, REPO, {
      label: 'dr-drill',
      title: 'DR drill failed',
      body: 'b',
    });
    expect(result).toMatchObject({ number: 4, created: true });
    expect(api.state.comments(FULL, 1)).toEqual([]);
    expect(api.state.comments(FULL, 3)).toEqual([]);
  });

  it('comments on the oldest when several are open', async () => {
    const { api, client } = await setup({
      repos: {
        [FULL]: {
          issues: [
            { title: 'a', labels: ['dr-drill'] },
            { title: 'b', labels: ['dr-drill'] },
          ],
        },
      },
    });
    const result = await reportFailureIssue(client, REPO, { label: 'dr-drill', title: 't', body: 'again' });
    expect(result).toMatchObject({ number: 1, created: false });
    expect(calls(api)).toContain('POST /repos/spark/spark-infra/issues/1/comments');
  });

  it('refuses a label with a comma, which the filter would split', async () => {
    const { api, client } = await setup();
    await expect(
      reportFailureIssue(client, REPO, { label: 'a,b', title: 't', body: 'b' }),
    ).rejects.toMatchObject({
      reason: 'bad-input',
    });
    expect(api.requests).toEqual([]);
  });
});

describe('resolveFailureIssue', () => {
  it('comments on and closes every open issue with the label, and nothing else', async () => {
    const { api, client } = await setup({
      repos: {
        [FULL]: {
          issues: [
            { title: 'a', labels: ['dr-drill'] },
            { title: 'b', labels: ['dr-drill', 'production'] },
            { title: 'c', labels: ['drift'] },
          ],
          pulls: [{ number: 4, headSha: 'b'.repeat(40), labels: ['dr-drill'] }],
        },
      },
    });
    const closed = await resolveFailureIssue(client, REPO, { label: 'dr-drill', body: 'Drill passed.' });
    expect(closed.map((issue) => issue.number)).toEqual([1, 2]);
    expect(closed[0]?.url).toMatch(/\/spark\/spark-infra\/issues\/1$/);
    const patches = api.requests.filter((request) => request.method === 'PATCH');
    expect(patches.map((request) => [request.apiPath, request.body])).toEqual([
      ['/repos/spark/spark-infra/issues/1', { state: 'closed', state_reason: 'completed' }],
      ['/repos/spark/spark-infra/issues/2', { state: 'closed', state_reason: 'completed' }],
    ]);
    expect(api.state.issue(FULL, 1)).toMatchObject({ state: 'closed', stateReason: 'completed' });
    expect(api.state.issue(FULL, 3)?.state).toBe('open');
    expect(api.state.issue(FULL, 4)?.state).toBe('open');
    expect(api.state.comments(FULL, 2).map((comment) => comment.body)).toEqual(['Drill passed.']);
  });

  it('returns [] and writes nothing when no issue is open', async () => {
    const { api, client } = await setup();
    expect(await resolveFailureIssue(client, REPO, { label: 'dr-drill', body: 'ok' })).toEqual([]);
    expect(calls(api)).toEqual(['GET /repos/spark/spark-infra/issues']);
  });
});
