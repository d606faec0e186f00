import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ncc from '@vercel/ncc';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runActionBundle } from './support/action-runner.js';
import { startGitHubApi } from './support/github-api.js';
import { tempDir } from './support/temp-dir.js';

// The shared runtime, bundled and run the way the runner runs every action.
const fixture = join(repoRoot, 'test/fixtures/runtime-probe');
let entry = '';

beforeAll(async () => {
  const { code } = await ncc(join(fixture, 'src/main.ts'), { quiet: true, target: 'es2022' });
  const dir = tempDir('runtime-probe-');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  entry = join(dir, 'index.js');
  writeFileSync(entry, code);
}, 120_000);

const run = (
  inputs: Record<string, string | undefined>,
  options: Parameters<typeof runActionBundle>[1] = {},
) => runActionBundle('runtime-probe', { entry, actionYml: join(fixture, 'action.yml'), inputs, ...options });

describe('action runtime', () => {
  it('sets outputs, fills defaults from action.yml, writes the summary', async () => {
    const result = await run({ environment: 'dev' });
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({
      environment: 'dev',
      'timeout-ms': '90000',
      lines: 'one\ntwo',
      'failure-reason': '',
    });
    expect(result.summary).toContain('### probe for dev');
  });

  it('fails fast on a missing required input, naming it, with failure-reason and a summary', async () => {
    const result = await run({});
    expect(result.exitCode).toBe(1);
    expect(result.outputs['failure-reason']).toBe('bad-input');
    expect(result.annotations).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: "Input 'environment' is required but was not given.",
      }),
    );
    expect(result.summary).toContain('runtime-probe failed');
    expect(result.summary).toContain('`bad-input`');
  });

  it('names the input and what is allowed on a bad value', async () => {
    const result = await run({ environment: 'dev', timeout: 'soon' });
    expect(result.exitCode).toBe(1);
    expect(result.annotations[0]?.message).toBe(
      "Input 'timeout' has the value 'soon', which is not a duration. Allowed: a number with a unit, such as 500ms, 90s, 15m, 4h, 1d or 1h30m.",
    );
  });

  it('keeps a secret out of everything it writes, on success and on failure', async () => {
    const secret = 'tok-7f3e9a-SECRET-do-not-print';
    for (const inputs of [
      { environment: 'dev', token: secret },
      { environment: 'dev', token: secret, 'fail-with': 'restore-failed' },
    ]) {
      const result = await run(inputs);
      expect(result.masks).toContain(secret);
      expect(result.everythingWritten()).not.toContain(secret);
      expect(result.summary).toContain('token again: ***');
      expect(result.log).toContain('token is ***');
    }
  });

  it('reports a failure the action decided on, after writing its report', async () => {
    const result = await run({ environment: 'dev', 'fail-with': 'rto-exceeded' });
    expect(result.exitCode).toBe(1);
    expect(result.outputs['failure-reason']).toBe('rto-exceeded');
    expect(result.summary).toMatch(/### probe for dev[\s\S]*runtime-probe failed[\s\S]*`rto-exceeded`/);
  });

  it('talks to the API at GITHUB_API_URL (Enterprise path) and upserts one PR comment across runs', async () => {
    const api = await startGitHubApi({
      basePath: '/api/v3',
      repos: { 'spark/platform': { pulls: [{ number: 7, headSha: 'a'.repeat(40) }] } },
    });
    try {
      const token = 'ghs_probeTokenThatMustNotLeak123';
      const options = {
        apiUrl: api.url,
        repository: 'spark/platform',
        eventName: 'pull_request',
        event: { pull_request: { number: 7, head: { sha: 'a'.repeat(40) } } },
      };
      const first = await run({ environment: 'dev', 'github-token': token }, options);
      const second = await run({ environment: 'dev', 'github-token': token, timeout: '2m' }, options);
      expect(first.exitCode).toBe(0);
      expect(second.exitCode).toBe(0);
      expect(first.outputs['comment-url']).toBe(second.outputs['comment-url']);
      const writes = api.requests.filter((r) => r.method !== 'GET');
      expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /api/v3/repos/spark/platform/issues/7/comments',
      ]);
      const comments = api.state.comments('spark/platform', 7);
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toMatch(/^<!-- spark:runtime-probe:dev \{"head":"a{40}"\} -->/);
      for (const result of [first, second]) expect(result.everythingWritten()).not.toContain(token);
      expect(JSON.stringify(api.requests)).not.toContain(token);
    } finally {
      await api.close();
    }
  });
});
