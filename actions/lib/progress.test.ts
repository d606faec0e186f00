import { afterEach, describe, expect, it, vi } from 'vitest';
import { withHeartbeat } from './progress.js';

afterEach(() => vi.useRealTimers());

describe('withHeartbeat', () => {
  it('logs a status line every interval while waiting, and stops afterwards', async () => {
    vi.useFakeTimers();
    let now = 0;
    const lines: string[] = [];
    let finish: (value: string) => void = () => {};
    const pending = withHeartbeat(
      'waiting for the state lock',
      () => new Promise<string>((r) => (finish = r)),
      {
        log: (line) => lines.push(line),
        clock: { now: () => now },
        status: () => 'held by alice',
      },
    );
    for (let i = 0; i < 3; i++) {
      now += 30_000;
      await vi.advanceTimersByTimeAsync(30_000);
    }
    finish('done');
    expect(await pending).toBe('done');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(lines).toEqual([
      '… still waiting for the state lock (30s elapsed): held by alice',
      '… still waiting for the state lock (1m elapsed): held by alice',
      '… still waiting for the state lock (1m30s elapsed): held by alice',
    ]);
  });

  it('stops the heartbeat when the work fails', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    await expect(
      withHeartbeat('x', () => Promise.reject(new Error('boom')), { log: (l) => lines.push(l) }),
    ).rejects.toThrow('boom');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(lines).toEqual([]);
  });
});
