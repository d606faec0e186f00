/**
 * Progress on long work: a status line at least every 30 s while waiting, so a
 * person watching the run always sees that it is alive and what it waits for.
 */
import * as core from '@actions/core';
import { formatDuration } from './duration.js';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Runs `work` while logging `status()` every `intervalMs` (default 30 s). */
export async function withHeartbeat<T>(
  what: string,
  work: () => Promise<T>,
  options: { intervalMs?: number; log?: (line: string) => void; status?: () => string; clock?: Clock } = {},
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? core.info;
  const started = clock.now();
  const timer = setInterval(() => {
    const extra = options.status?.();
    log(`… still ${what} (${formatDuration(clock.now() - started)} elapsed)${extra ? `: ${extra}` : ''}`);
  }, options.intervalMs ?? 30_000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
