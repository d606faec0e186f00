import { describe, expect, it } from 'vitest';
import { backoffDelay, retry } from './retry.js';

describe('retry', () => {
  it('retries until success and reports each wait', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new Error(`boom ${calls}`);
        return 'done';
      },
      { sleep: async (ms) => void waits.push(ms), random: () => 1, baseDelayMs: 100 },
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(waits).toEqual([100, 200]);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(`fail ${calls}`);
        },
        { attempts: 3, sleep: async () => {} },
      ),
    ).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('does not retry what is not retryable', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error('permanent');
        },
        { retryable: () => false, sleep: async () => {} },
      ),
    ).rejects.toThrow('permanent');
    expect(calls).toBe(1);
  });

  it('honours a delay the error asks for, within the maximum', async () => {
    const waits: number[] = [];
    let calls = 0;
    await retry(
      async () => {
        if (++calls === 1) throw new Error('rate limited');
      },
      { delayHint: () => 60_000, maxDelayMs: 5_000, sleep: async (ms) => void waits.push(ms) },
    );
    expect(waits).toEqual([5_000]);
  });

  it('grows the backoff exponentially up to a ceiling', () => {
    expect(backoffDelay(1, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(4, 500, 30_000, () => 1)).toBe(4_000);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(10, 500, 30_000, () => 0)).toBe(15_000);
  });
});
