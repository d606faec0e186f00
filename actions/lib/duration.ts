/**
 * Durations as people write them in inputs and environment files: `90s`, `15m`, `4h`, `1d`, `1h30m`, `500ms`.
 * A bare number is not accepted: the unit is always explicit.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

export const DURATION_FORMAT = 'a number with a unit, such as 500ms, 90s, 15m, 4h, 1d or 1h30m';

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let match = PART.exec(value); match; match = PART.exec(value)) {
    const [whole, amount, unit] = match;
    total += Number(amount) * (UNIT_MS[unit as string] ?? Number.NaN);
    consumed += whole.length;
  }
  if (consumed !== value.length || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

/** Seconds (may be fractional), or undefined when `text` is not a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const ms = parseDurationMs(text);
  return ms === undefined ? undefined : ms / 1000;
}

/** A compact human form: 3_723_000 -> "1h2m3s"; 450 -> "450ms"; 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return ms <= 0 ? '0s' : `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
