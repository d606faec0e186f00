/**
 * Retry with exponential backoff and full jitter. The clock and the random source come in as arguments so
 * tests run instantly and deterministically.
 */
export interface RetryOptions {
  /** Attempts in all, including the first. Default 4. */
  attempts?: number;
  /** First delay in ms. Default 500. */
  baseDelayMs?: number;
  /** Upper bound for one delay in ms. Default 30 000. */
  maxDelayMs?: number;
  /** Whether an error is worth another attempt. Default: always. */
  retryable?: (error: unknown) => boolean;
  /** A delay the error itself asks for (for example Retry-After), in ms; overrides the backoff. */
  delayHint?: (error: unknown) => number | undefined;
  /** Called before each wait, for a progress line. */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number) {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export async function retry<T>(
  work: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const wait = options.sleep ?? sleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= attempts || (options.retryable && !options.retryable(error))) throw error;
      const hinted = options.delayHint?.(error);
      const delayMs = hinted === undefined ? backoffDelay(attempt, base, max, random) : Math.min(hinted, max);
      options.onRetry?.({ attempt, delayMs, error });
      await wait(delayMs);
    }
  }
}
