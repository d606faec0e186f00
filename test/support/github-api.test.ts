import { afterEach, describe, expect, it } from 'vitest';
import type { GitHubApi, GitHubApiSeed } from './github-api.js';
import { startGitHubApi } from './github-api.js';

const AUTH = { authorization: 'token ghs_contract_test' };

let api: GitHubApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(seed?: GitHubApiSeed) {
  api = await startGitHubApi(seed);
  return api;
}

async function call(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  if (!api) throw new Error('start the stand-in first');
  const response = await fetch(`${api.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { ...AUTH, accept: 'application/vnd.github+json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    json: text === '' ? undefined : JSON.parse(text),
  };
}

/** Parses a Link header into rel → URL. */
function links(header: string | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of (header ?? '').split(',')) {
    const match = /<([^>]+)>;\s*rel="([^"]+)"/.exec(part.trim());
    if (match?.[1] && match[2]) result[match[2]] = match[1];
  }
  return result;
}

describe('GitHub API stand-in', () => {
  it('answers unknown repositories and paths with GitHub’s 404 body (status as a string) and JSON content type', async () => {
    await start();
    for (const path of ['/repos/nobody/nothing/issues', '/repos/spark/spark-infra/issues/999', '/nowhere']) {
      const reply = await call(path);
      expect(reply.status, path).toBe(404);
      expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(reply.json).toEqual({
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest',
        status: '404',
      });
    }
  });

  it('requires credentials: 401 without Authorization, 401 Bad credentials for a wrong token', async () => {
    await start({ token: 'ghs_right' });
    const missing = await fetch(`${api?.url}/repos/spark/spark-infra/issues`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({
      message: 'Requires authentication',
      documentation_url: 'https://docs.github.com/rest',
      status: '401',
    });
    const wrong = await call('/repos/spark/spark-infra/issues', {
      headers: { authorization: 'token ghs_wrong' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ message: 'Bad credentials', status: '401' });
    const malformed = await call('/repos/spark/spark-infra/issues', {
      headers: { authorization: 'Basic abc' },
    });
    expect(malformed.status).toBe(401);
    const right = await call('/repos/spark/spark-infra/issues', {
      headers: { authorization: 'Bearer ghs_right' },
    });
    expect(right.status).toBe(200);

    const recorded = api?.requests ?? [];
    expect(recorded.map((request) => [request.authorization, request.status])).toEqual([
      [false, 401],
      [true, 401],
      [true, 401],
      [true, 200],
    ]);
    // The token never lands in the record.
    expect(JSON.stringify(recorded)).not.toContain('ghs_right');
    expect(recorded[3]?.headers.authorization).toBe('[redacted]');
  });

  it('paginates with per_page (default 30, max 100) and a Link header octokit can follow', async () => {
    const seed: GitHubApiSeed = {
      repos: { 'spark/spark-infra': { issues: [{ number: 1, title: 'target' }] } },
    };
    await start(seed);
    for (let i = 1; i <= 205; i++) api?.state.addComment('spark/spark-infra', 1, `comment ${i}`);

    const first = await call('/repos/spark/spark-infra/issues/1/comments');
    expect((first.json as unknown[]).length).toBe(30);
    const firstLinks = links(first.headers.get('link'));
    expect(Object.keys(firstLinks).sort()).toEqual(['last', 'next']);
    expect(new URL(firstLinks.next ?? '').searchParams.get('page')).toBe('2');
    expect(new URL(firstLinks.last ?? '').searchParams.get('page')).toBe('7');

    const capped = await call('/repos/spark/spark-infra/issues/1/comments?per_page=500&page=3');
    const bodies = (capped.json as Array<{ body: string }>).map((comment) => comment.body);
    expect(bodies).toEqual(Array.from({ length: 5 }, (_, i) => `comment ${201 + i}`));
    const lastLinks = links(capped.headers.get('link'));
    expect(Object.keys(lastLinks).sort()).toEqual(['first', 'prev']);
    expect(new URL(lastLinks.prev ?? '').searchParams.get('per_page')).toBe('500');
    expect(new URL(lastLinks.prev ?? '').searchParams.get('page')).toBe('2');

    const middle = await call('/repos/spark/spark-infra/issues/1/comments?per_page=100&page=2');
    expect(Object.keys(links(middle.headers.get('link'))).sort()).toEqual(['first', 'last', 'next', 'prev']);

    const single = await call('/repos/spark/spark-infra/issues/1/comments?per_page=100&page=9');
    expect(single.json).toEqual([]);
  });

  it('filters issues by state and by labels with AND semantics, and lists PRs as issues with pull_request', async () => {
    await start({
      repos: {
        'spark/spark-infra': {
          issues: [
            { title: 'both', labels: ['drift', 'production'] },
            { title: 'drift only', labels: ['drift'] },
            { title: 'closed both', labels: ['drift', 'production'], state: 'closed' },
          ],
          pulls: [{ title: 'a PR', headSha: 'a'.repeat(40), labels: ['drift', 'production'] }],
        },
      },
    });
    const titles = (json: unknown) => (json as Array<{ title: string }>).map((issue) => issue.title).sort();

    const both = await call('/repos/spark/spark-infra/issues?labels=drift,production');
    expect(titles(both.json)).toEqual(['a PR', 'both']);
    const asPr = (both.json as Array<Record<string, unknown>>).find((issue) => issue.title === 'a PR');
    expect(asPr?.pull_request).toMatchObject({
      url: expect.stringMatching(/\/repos\/spark\/spark-infra\/pulls\/4$/),
    });
    expect(asPr?.html_url).toBe('https://github.com/spark/spark-infra/pull/4');
    const plain = (both.json as Array<Record<string, unknown>>).find((issue) => issue.title === 'both');
    expect(plain && 'pull_request' in plain).toBe(false);
    expect(plain?.html_url).toBe('https://github.com/spark/spark-infra/issues/1');

    expect(titles((await call('/repos/spark/spark-infra/issues?labels=drift')).json)).toEqual([
      'a PR',
      'both',
      'drift only',
    ]);
    expect(
      titles((await call('/repos/spark/spark-infra/issues?labels=Drift,PRODUCTION&state=all')).json),
    ).toEqual(['a PR', 'both', 'closed both']);
    expect(titles((await call('/repos/spark/spark-infra/issues?state=closed')).json)).toEqual([
      'closed both',
    ]);
    expect((await call('/repos/spark/spark-infra/issues?labels=nothing')).json).toEqual([]);

    // The pulls API knows the PR, not the plain issue; both share one number space.
    const pull = await call('/repos/spark/spark-infra/pulls/4');
    expect(pull.status).toBe(200);
    expect(pull.json).toMatchObject({ number: 4, merged: false, head: { sha: 'a'.repeat(40) } });
    expect((await call('/repos/spark/spark-infra/pulls/1')).status).toBe(404);
  });

  it('creates, updates and deletes comments with increasing ids, 201/200/204 and timestamps', async () => {
    await start({ repos: { 'spark/spark-infra': { pulls: [{ number: 7, headSha: 'b'.repeat(40) }] } } });
    const created = await call('/repos/spark/spark-infra/issues/7/comments', {
      method: 'POST',
      body: { body: 'one' },
    });
    expect(created.status).toBe(201);
    const first = created.json as Record<string, unknown>;
    expect(created.headers.get('location')).toBe(first.url);
    expect(first.html_url).toBe(`https://github.com/spark/spark-infra/pull/7#issuecomment-${first.id}`);
    expect(first.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(first.user).toMatchObject({ login: 'github-actions[bot]', type: 'Bot' });
    const second = (
      await call('/repos/spark/spark-infra/issues/7/comments', { method: 'POST', body: { body: 'two' } })
    ).json as { id: number };
    expect(second.id).toBeGreaterThan(first.id as number);

    const updated = await call(`/repos/spark/spark-infra/issues/comments/${first.id}`, {
      method: 'PATCH',
      body: { body: 'one, edited' },
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ id: first.id, body: 'one, edited' });

    const deleted = await call(`/repos/spark/spark-infra/issues/comments/${second.id}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(deleted.json).toBeUndefined();
    expect(
      (await call(`/repos/spark/spark-infra/issues/comments/${second.id}`, { method: 'DELETE' })).status,
    ).toBe(404);
    expect(api?.state.comments('spark/spark-infra', 7).map((comment) => comment.body)).toEqual([
      'one, edited',
    ]);

    const invalid = await call('/repos/spark/spark-infra/issues/7/comments', { method: 'POST', body: {} });
    expect(invalid.status).toBe(422);
    expect(invalid.json).toEqual({
      message: 'Validation Failed',
      errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }],
      documentation_url: 'https://docs.github.com/rest',
      status: '422',
    });
    const tooLong = await call('/repos/spark/spark-infra/issues/7/comments', {
      method: 'POST',
      body: { body: 'x'.repeat(65_537) },
    });
    expect(tooLong.status).toBe(422);
  });

  it('creates labels (422 already_exists), adds labels to issues, and opens and closes issues', async () => {
    await start();
    const label = await call('/repos/spark/spark-infra/labels', {
      method: 'POST',
      body: { name: 'dr-drill', color: 'd73a4a' },
    });
    expect(label.status).toBe(201);
    const again = await call('/repos/spark/spark-infra/labels', {
      method: 'POST',
      body: { name: 'DR-drill' },
    });
    expect(again.status).toBe(422);
    expect(again.json).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }],
    });

    const issue = await call('/repos/spark/spark-infra/issues', {
      method: 'POST',
      body: { title: 'DR drill failed', body: 'details', labels: ['dr-drill'] },
    });
    expect(issue.status).toBe(201);
    expect(issue.json).toMatchObject({ number: 1, state: 'open', labels: [{ name: 'dr-drill' }] });
    const added = await call('/repos/spark/spark-infra/issues/1/labels', {
      method: 'POST',
      body: { labels: ['production'] },
    });
    expect(added.status).toBe(200);
    expect((added.json as Array<{ name: string }>).map((l) => l.name)).toEqual(['dr-drill', 'production']);

    const closed = await call('/repos/spark/spark-infra/issues/1', {
      method: 'PATCH',
      body: { state: 'closed', state_reason: 'completed' },
    });
    expect(closed.json).toMatchObject({
      state: 'closed',
      state_reason: 'completed',
      closed_at: expect.any(String),
    });
    const bad = await call('/repos/spark/spark-infra/issues/1', {
      method: 'PATCH',
      body: { state: 'finished' },
    });
    expect(bad.status).toBe(422);
  });

  it('lists only merged pull requests for a merge commit on the default branch', async () => {
    const merge = 'c'.repeat(40);
    await start({
      repos: {
        'spark/spark-infra': {
          pulls: [
            { number: 3, headSha: 'd'.repeat(40), mergeCommitSha: merge, mergedAt: '2025-01-02T03:04:05Z' },
            // Open, and closed without merging: they contain the commit, but GitHub does not list them for a
            // commit on the default branch.
            { number: 4, headSha: 'e'.repeat(40), commits: [merge] },
            { number: 5, headSha: merge, state: 'closed' },
            // Merged, and contains the commit.
            { number: 6, headSha: 'a'.repeat(40), commits: [merge], mergedAt: '2025-01-03T00:00:00Z' },
          ],
        },
      },
    });
    const reply = await call(`/repos/spark/spark-infra/commits/${merge}/pulls`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject([
      { number: 3, state: 'closed', merged_at: '2025-01-02T03:04:05Z', merge_commit_sha: merge },
      { number: 6, state: 'closed', merged_at: '2025-01-03T00:00:00Z' },
    ]);
    expect((reply.json as unknown[]).length).toBe(2);
  });

  it('lists open, closed and merged pull requests for a commit not on the default branch', async () => {
    const commit = 'b'.repeat(40);
    await start({
      repos: {
        'spark/spark-infra': {
          pulls: [
            { number: 1, headSha: commit },
            { number: 2, headSha: 'd'.repeat(40), commits: [commit], state: 'closed' },
            {
              number: 3,
              headSha: 'e'.repeat(40),
              commits: [commit],
              mergeCommitSha: 'f'.repeat(40),
              mergedAt: '2025-01-02T03:04:05Z',
            },
            // Merged into another branch: its merge commit is not on the default branch.
            {
              number: 4,
              headSha: '1'.repeat(40),
              baseRef: 'release',
              mergeCommitSha: '2'.repeat(40),
              mergedAt: '2025-01-02T03:04:05Z',
            },
            { number: 5, headSha: '3'.repeat(40), commits: ['2'.repeat(40)] },
          ],
        },
      },
    });
    const numbers = async (sha: string) =>
      ((await call(`/repos/spark/spark-infra/commits/${sha}/pulls`)).json as Array<{ number: number }>).map(
        (pull) => pull.number,
      );
    expect(await numbers(commit)).toEqual([1, 2, 3]);
    expect(await numbers('2'.repeat(40))).toEqual([4, 5]);
  });

  it('answers 422 No commit found for a sha it was not seeded with', async () => {
    await start({ repos: { 'spark/spark-infra': { pulls: [{ number: 1, headSha: 'a'.repeat(40) }] } } });
    const unknown = 'f'.repeat(40);
    const reply = await call(`/repos/spark/spark-infra/commits/${unknown}/pulls`);
    expect(reply.status).toBe(422);
    expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(reply.json).toEqual({
      message: `No commit found for SHA: ${unknown}`,
      documentation_url:
        'https://docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit',
      status: '422',
    });
  });

  it('serves under a GHES base path and nowhere else', async () => {
    await start({ basePath: '/api/v3' });
    expect(api?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    const reply = await call('/repos/spark/spark-infra');
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ url: `${api?.url}/repos/spark/spark-infra` });
    const outside = await fetch(`${api?.url.replace('/api/v3', '')}/repos/spark/spark-infra`, {
      headers: AUTH,
    });
    expect(outside.status).toBe(404);
    expect(api?.requests.map((request) => [request.path, request.apiPath])).toEqual([
      ['/api/v3/repos/spark/spark-infra', '/repos/spark/spark-infra'],
      ['/repos/spark/spark-infra', '/repos/spark/spark-infra'],
    ]);
  });

  it('injects one-shot faults and records them', async () => {
    await start();
    api?.state.failNext('GET', /\/issues$/, 429, { 'retry-after': '2' });
    const limited = await call('/repos/spark/spark-infra/issues');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.json).toMatchObject({
      message: expect.stringContaining('secondary rate limit'),
      status: '429',
    });
    expect((await call('/repos/spark/spark-infra/issues')).status).toBe(200);
    expect(api?.requests.map((request) => [request.status, request.injected])).toEqual([
      [429, true],
      [200, false],
    ]);
    expect(api?.state.faults).toEqual([]);
  });
});
