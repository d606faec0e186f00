import { describe, expect, it } from 'vitest';
import { formatDuration, parseDurationMs, parseDurationSeconds } from './duration.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['90s', 90_000],
    ['15m', 900_000],
    ['4h', 14_400_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
  ])('parses %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  it.each(['', '15', 'm', '15 m', '15min', '-5s', '1h 30m', 'abc'])('refuses %j', (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
  });

  it('gives seconds', () => {
    expect(parseDurationSeconds('15m')).toBe(900);
  });

  it('formats compactly', () => {
    expect(formatDuration(3_723_000)).toBe('1h2m3s');
    expect(formatDuration(450)).toBe('450ms');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(86_400_000 + 60_000)).toBe('1d1m');
  });
});
