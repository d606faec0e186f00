import { afterEach, describe, expect, it } from 'vitest';
import type { GitHubApi, GitHubApiSeed } from '../../../test/support/github-api.js';
import { startGitHubApi } from '../../../test/support/github-api.js';
import { ActionError } from '../errors.js';
import { createGitHubClient } from './client.js';
import {
  commentBodyBudget,
  findPullRequestComment,
  MAX_COMMENT_LENGTH,
  upsertPullRequestComment,
} from './comments.js';
import { formatMarker } from './marker.js';

const REPO = { owner: 'spark', repo: 'spark-infra' };
const FULL = 'spark/spark-infra';
const TARGET = { issueNumber: 12, action: 'plan-infra', key: 'production' };

let api: GitHubApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function setup(
  seed: GitHubApiSeed = { repos: { [FULL]: { pulls: [{ number: 12, headSha: 'a'.repeat(40) }] } } },
) {
  api = await startGitHubApi(seed);
  const client = createGitHubClient({ token: 'ghs_comments', apiUrl: api.url, sleep: async () => {} });
  return { api, client };
}

const writes = (api: GitHubApi) =>
  api.requests
    .filter((request) => request.method !== 'GET')
    .map((request) => `${request.method} ${request.apiPath}`);

describe('upsertPullRequestComment', () => {
  it('creates the comment once, then updates that same comment with PATCH', async () => {
    const { api, client } = await setup();
    const first = await upsertPullRequestComment(client, REPO, {
      ...TARGET,
      data: { run: 1 },
      body: 'Plan: 1 change',
    });
    expect(first.created).toBe(true);
    const stored = api.state.comments(FULL, 12);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.body).toBe(`${formatMarker('plan-infra', 'production', { run: 1 })}\nPlan: 1 change`);
    expect(first.id).toBe(stored[0]?.id);
    expect(first.url).toBe(`https://github.com/spark/spark-infra/pull/12#issuecomment-${first.id}`);

    const second = await upsertPullRequestComment(client, REPO, {
      ...TARGET,
      data: { run: 2 },
      body: 'Plan: 2 changes',
    });
    expect(second).toEqual({ id: first.id, url: first.url, created: false });
    expect(writes(api)).toEqual([
      'POST /repos/spark/spark-infra/issues/12/comments',
      `PATCH /repos/spark/spark-infra/issues/comments/${first.id}`,
    ]);
    const list = api.requests.find((request) => request.method === 'GET');
    expect(list?.query.per_page).toBe('100');
    expect(api.state.comments(FULL, 12).map((comment) => comment.body)).toEqual([
      `${formatMarker('plan-infra', 'production', { run: 2 })}\nPlan: 2 changes`,
    ]);
  });

  it('does not write an unchanged comment again', async () => {
    const { api, client } = await setup();
    await upsertPullRequestComment(client, REPO, { ...TARGET, data: { run: 1 }, body: 'same' });
    const again = await upsertPullRequestComment(client, REPO, { ...TARGET, data: { run: 1 }, body: 'same' });
    expect(again.created).toBe(false);
    expect(writes(api)).toEqual(['POST /repos/spark/spark-infra/issues/12/comments']);
  });

  it('leaves other markers, other keys and people alone, and finds its comment past the first page', async () => {
    const { api, client } = await setup();
    for (let i = 0; i < 120; i++) api.state.addComment(FULL, 12, `chatter ${i}`, { user: 'alice' });
    const otherKey = api.state.addComment(FULL, 12, `${formatMarker('plan-infra', 'prod', {})}\nother key`);
    const otherAction = api.state.addComment(
      FULL,
      12,
      `${formatMarker('apply-infra', 'production', {})}\napply`,
    );
    const ours = api.state.addComment(
      FULL,
      12,
      `${formatMarker('plan-infra', 'production', { old: true })}\nold`,
    );
    const result = await upsertPullRequestComment(client, REPO, {
      ...TARGET,
      data: { old: false },
      body: 'new',
    });
    expect(result).toMatchObject({ id: ours.id, created: false });
    expect(writes(api)).toEqual([`PATCH /repos/spark/spark-infra/issues/comments/${ours.id}`]);
    expect(
      api.requests.filter((request) => request.method === 'GET').map((request) => request.query.page),
    ).toEqual([undefined, '2']);
    expect(api.state.comments(FULL, 12)).toHaveLength(123);
    expect(otherKey.body).toContain('other key');
    expect(otherAction.body).toContain('apply');
  });

  it('after a race, updates the newest match and deletes the older ones', async () => {
    const { api, client } = await setup();
    const marker = formatMarker('plan-infra', 'production', {});
    const a = api.state.addComment(FULL, 12, `${marker}\nA`);
    const human = api.state.addComment(FULL, 12, 'looks good');
    const b = api.state.addComment(FULL, 12, `${marker}\nB`);
    const c = api.state.addComment(FULL, 12, `${marker}\nC`);
    const result = await upsertPullRequestComment(client, REPO, { ...TARGET, data: {}, body: 'D' });
    expect(result).toMatchObject({ id: c.id, created: false });
    expect(writes(api)).toEqual([
      `PATCH /repos/spark/spark-infra/issues/comments/${c.id}`,
      `DELETE /repos/spark/spark-infra/issues/comments/${a.id}`,
      `DELETE /repos/spark/spark-infra/issues/comments/${b.id}`,
    ]);
    expect(api.state.comments(FULL, 12).map((comment) => comment.id)).toEqual([human.id, c.id]);
  });

  it('tolerates a duplicate that another run deleted meanwhile', async () => {
    const { api, client } = await setup();
    const marker = formatMarker('plan-infra', 'production', {});
    const a = api.state.addComment(FULL, 12, `${marker}\nA`);
    api.state.addComment(FULL, 12, `${marker}\nB`);
    api.state.failNext('DELETE', new RegExp(`/issues/comments/${a.id}$`), 404);
    await expect(
      upsertPullRequestComment(client, REPO, { ...TARGET, data: {}, body: 'C' }),
    ).resolves.toMatchObject({
      created: false,
    });
    expect(
      api.requests.filter((request) => request.method === 'DELETE').map((request) => request.status),
    ).toEqual([404]);
  });

  it('ignores a marker planted by a person, unless that login is named as an author', async () => {
    const { api, client } = await setup();
    const planted = api.state.addComment(
      FULL,
      12,
      `${formatMarker('plan-infra', 'production', { forged: 1 })}\nx`,
      {
        user: 'mallory',
      },
    );
    expect(await findPullRequestComment(client, REPO, TARGET)).toBeUndefined();
    const result = await upsertPullRequestComment(client, REPO, {
      ...TARGET,
      data: { real: 1 },
      body: 'real',
    });
    expect(result.created).toBe(true);
    expect(result.id).not.toBe(planted.id);
    expect(api.state.comments(FULL, 12).find((comment) => comment.id === planted.id)?.body).toContain(
      'forged',
    );
    const pat = await findPullRequestComment(client, REPO, { ...TARGET, authors: ['Mallory'] });
    expect(pat).toMatchObject({ id: planted.id, data: { forged: 1 } });
  });

  it('ignores a marker planted by another bot', async () => {
    const { api, client } = await setup();
    api.state.addComment(FULL, 12, `${formatMarker('plan-infra', 'production', { forged: 2 })}\nx`, {
      user: 'dependabot[bot]',
    });
    expect(await findPullRequestComment(client, REPO, TARGET)).toBeUndefined();
  });

  it('refuses a body over 65,536 characters before calling GitHub', async () => {
    const { api, client } = await setup();
    const data = { fingerprint: 'f'.repeat(64) };
    const budget = commentBodyBudget('plan-infra', 'production', data);
    const tooLong = upsertPullRequestComment(client, REPO, { ...TARGET, data, body: 'x'.repeat(budget + 1) });
    await expect(tooLong).rejects.toBeInstanceOf(ActionError);
    await expect(tooLong).rejects.toMatchObject({
      reason: 'comment-too-long',
      message: /Truncate the body to \d+/,
    });
    expect(api.requests).toEqual([]);

    const fits = await upsertPullRequestComment(client, REPO, { ...TARGET, data, body: 'x'.repeat(budget) });
    expect(fits.created).toBe(true);
    expect(api.state.comments(FULL, 12)[0]?.body.length).toBe(MAX_COMMENT_LENGTH);
  });

  it('turns API failures into github-api ActionErrors', async () => {
    const { api, client } = await setup();
    api.state.failNext('POST', /\/comments$/, 403, {}, { message: 'Resource not accessible by integration' });
    await expect(
      upsertPullRequestComment(client, REPO, { ...TARGET, data: {}, body: 'x' }),
    ).rejects.toMatchObject({
      reason: 'github-api',
      message: expect.stringMatching(/Commenting on #12 .* failed\. GitHub answered 403/),
    });
    await expect(
      upsertPullRequestComment(client, REPO, { ...TARGET, issueNumber: 404, data: {}, body: 'x' }),
    ).rejects.toMatchObject({
      reason: 'github-api',
      message: expect.stringContaining('Listing the comments of #404'),
    });
  });
});

describe('findPullRequestComment', () => {
  it('returns the newest matching comment with its marker data', async () => {
    const { api, client } = await setup();
    expect(await findPullRequestComment(client, REPO, TARGET)).toBeUndefined();
    await upsertPullRequestComment(client, REPO, {
      ...TARGET,
      data: { plan: 'sha256:1', note: 'a-->b' },
      body: 'P',
    });
    const newer = api.state.addComment(
      FULL,
      12,
      `${formatMarker('plan-infra', 'production', { plan: 'sha256:2' })}\n`,
    );
    const found = await findPullRequestComment<{ plan: string }>(client, REPO, TARGET);
    expect(found).toMatchObject({ id: newer.id, data: { plan: 'sha256:2' }, body: newer.body });
    expect(found?.url).toBe(`https://github.com/spark/spark-infra/pull/12#issuecomment-${newer.id}`);
    expect(
      api.requests.filter((request) => request.method !== 'GET').map((request) => request.method),
    ).toEqual(['POST']);
  });
});
