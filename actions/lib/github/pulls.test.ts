import { afterEach, describe, expect, it } from 'vitest';
import type { GitHubApi, GitHubApiSeed } from '../../../test/support/github-api.js';
import { startGitHubApi } from '../../../test/support/github-api.js';
import { createGitHubClient } from './client.js';
import { addLabels, findMergedPullRequest, pullRequestFromEvent } from './pulls.js';

const REPO = { owner: 'spark', repo: 'spark-infra' };
const FULL = 'spark/spark-infra';
const sha = (c: string) => c.repeat(40);

let api: GitHubApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(seed: GitHubApiSeed) {
  api = await startGitHubApi(seed);
  const client = createGitHubClient({ token: 'ghs_pulls', apiUrl: api.url, sleep: async () => {} });
  return { api, client };
}

describe('findMergedPullRequest', () => {
  it('prefers the merged PR whose merge commit is the sha', async () => {
    const { api, client } = await setup({
      repos: {
        [FULL]: {
          pulls: [
            // Listed first, merged, but the sha is only one of its commits.
            {
              number: 5,
              headSha: sha('1'),
              commits: [sha('c')],
              mergeCommitSha: sha('9'),
              mergedAt: '2025-01-01T00:00:00Z',
            },
            // Open PR that also contains the commit (GitHub does not list it for a merge commit on main).
            { number: 6, headSha: sha('c') },
            {
              number: 7,
              headSha: sha('2'),
              mergeCommitSha: sha('c'),
              mergedAt: '2025-01-02T00:00:00Z',
              labels: ['infra', 'production'],
            },
          ],
        },
      },
    });
    const pull = await findMergedPullRequest(client, REPO, sha('c'));
    expect(pull).toEqual({
      number: 7,
      headSha: sha('2'),
      mergeCommitSha: sha('c'),
      url: 'https://github.com/spark/spark-infra/pull/7',
      labels: ['infra', 'production'],
    });
    expect(api.requests.map((request) => [request.method, request.apiPath])).toEqual([
      ['GET', `/repos/spark/spark-infra/commits/${sha('c')}/pulls`],
    ]);
  });

  it('falls back to any merged PR, and returns undefined when none is merged', async () => {
    const { client } = await setup({
      repos: {
        [FULL]: {
          pulls: [
            { number: 1, headSha: sha('a') },
            {
              number: 2,
              headSha: sha('b'),
              commits: [sha('d')],
              mergeCommitSha: sha('e'),
              mergedAt: '2025-01-01T00:00:00Z',
            },
          ],
        },
      },
    });
    expect(await findMergedPullRequest(client, REPO, sha('d'))).toMatchObject({
      number: 2,
      mergeCommitSha: sha('e'),
    });
    expect(await findMergedPullRequest(client, REPO, sha('a'))).toBeUndefined();
  });

  it('returns undefined for a commit GitHub does not know (422 No commit found)', async () => {
    const { api, client } = await setup({ repos: { [FULL]: { pulls: [{ number: 1, headSha: sha('a') }] } } });
    expect(await findMergedPullRequest(client, REPO, sha('f'))).toBeUndefined();
    expect(api.requests.map((request) => [request.apiPath, request.status])).toEqual([
      [`/repos/spark/spark-infra/commits/${sha('f')}/pulls`, 422],
    ]);
  });

  it('still reports any other 422 as a github-api error', async () => {
    const { api, client } = await setup({ repos: { [FULL]: { pulls: [{ number: 1, headSha: sha('a') }] } } });
    api.state.failNext('GET', /\/pulls$/, 422);
    await expect(findMergedPullRequest(client, REPO, sha('a'))).rejects.toMatchObject({
      reason: 'github-api',
      message: expect.stringContaining('GitHub answered 422'),
    });
  });

  it('reports an unknown repository as a github-api error', async () => {
    const { client } = await setup({ repos: { [FULL]: {} } });
    await expect(
      findMergedPullRequest(client, { owner: 'spark', repo: 'gone' }, sha('a')),
    ).rejects.toMatchObject({
      reason: 'github-api',
      message: expect.stringContaining('404'),
    });
  });
});

describe('addLabels', () => {
  it('adds labels to a PR through the issues API and returns all its labels', async () => {
    const { api, client } = await setup({
      repos: { [FULL]: { pulls: [{ number: 3, headSha: sha('a'), labels: ['infra'] }] } },
    });
    expect(await addLabels(client, REPO, 3, ['applied:production'])).toEqual(['infra', 'applied:production']);
    expect(api.requests.map((request) => [request.method, request.apiPath, request.body])).toEqual([
      ['POST', '/repos/spark/spark-infra/issues/3/labels', { labels: ['applied:production'] }],
    ]);
    expect(api.state.issue(FULL, 3)?.labels).toEqual(['infra', 'applied:production']);
    expect(await addLabels(client, REPO, 3, [])).toEqual([]);
    expect(api.requests).toHaveLength(1);
  });
});

describe('pullRequestFromEvent', () => {
  it('reads number and head sha of a pull_request event', () => {
    expect(
      pullRequestFromEvent({ action: 'synchronize', pull_request: { number: 9, head: { sha: sha('a') } } }),
    ).toEqual({
      number: 9,
      headSha: sha('a'),
    });
  });

  it('is undefined for other events and malformed payloads', () => {
    for (const payload of [
      undefined,
      null,
      'x',
      {},
      { ref: 'refs/heads/main', head_commit: { id: sha('a') } },
      { issue: { number: 3, pull_request: {} } },
      { pull_request: { number: '9', head: { sha: sha('a') } } },
      { pull_request: { number: 9, head: null } },
      { pull_request: { number: 9, head: { sha: '' } } },
    ]) {
      expect(pullRequestFromEvent(payload), JSON.stringify(payload)).toBeUndefined();
    }
  });
});
