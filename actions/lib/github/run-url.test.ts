import { describe, expect, it } from 'vitest';
import { runUrl } from './run-url.js';

const ENV = {
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'spark/spark-infra',
  GITHUB_RUN_ID: '123',
};

describe('runUrl', () => {
  it('builds the run URL, with the attempt when known', () => {
    expect(runUrl(ENV)).toBe('https://github.com/spark/spark-infra/actions/runs/123');
    expect(runUrl({ ...ENV, GITHUB_RUN_ATTEMPT: '2' })).toBe(
      'https://github.com/spark/spark-infra/actions/runs/123/attempts/2',
    );
    expect(runUrl({ ...ENV, GITHUB_SERVER_URL: 'https://ghe.example.com/', GITHUB_RUN_ATTEMPT: '' })).toBe(
      'https://ghe.example.com/spark/spark-infra/actions/runs/123',
    );
  });

  it('is undefined outside a workflow run', () => {
    expect(runUrl({})).toBeUndefined();
    expect(runUrl({ ...ENV, GITHUB_RUN_ID: undefined })).toBeUndefined();
    expect(runUrl({ ...ENV, GITHUB_SERVER_URL: '' })).toBeUndefined();
    expect(runUrl({ ...ENV, GITHUB_RUN_ID: '12; rm' })).toBeUndefined();
  });
});
