import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUMMARY_LIMIT } from './markdown.js';
import { SecretMasker } from './secrets.js';
import { writeJobSummary } from './summary.js';

const summaryFile = () => {
  const path = join(mkdtempSync(join(tmpdir(), 'summary-')), 'summary.md');
  writeFileSync(path, '');
  return path;
};

describe('writeJobSummary', () => {
  it('appends masked markdown to the runner file', () => {
    const path = summaryFile();
    writeJobSummary('first pw=s3cr3t-value', { path, masker: new SecretMasker(['s3cr3t-value']) });
    writeJobSummary('second', { path });
    expect(readFileSync(path, 'utf8')).toBe('first pw=***\nsecond\n');
  });

  it('stays within the per-step limit', () => {
    const path = summaryFile();
    writeJobSummary(`# head\n${'x'.repeat(200)}\n`.repeat(10_000), { path });
    const text = readFileSync(path, 'utf8');
    expect(text.length).toBeLessThanOrEqual(SUMMARY_LIMIT + 1);
    expect(text.startsWith('# head\n')).toBe(true);
  });

  it('prints when there is no runner file', () => {
    const printed: string[] = [];
    const previous = process.env.GITHUB_STEP_SUMMARY;
    delete process.env.GITHUB_STEP_SUMMARY;
    try {
      writeJobSummary('### local run', { print: (t) => printed.push(t) });
    } finally {
      if (previous !== undefined) process.env.GITHUB_STEP_SUMMARY = previous;
    }
    expect(printed).toEqual(['### local run']);
  });
});
