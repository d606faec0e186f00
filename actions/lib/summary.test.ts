import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { SUMMARY_LIMIT_BYTES } from './markdown.js';
import { SecretMasker } from './secrets.js';
import { writeJobSummary } from './summary.js';

const summaryFile = () => {
  const path = join(tempDir('summary-'), 'summary.md');
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

  it('stays within the per-step limit in bytes, counting what the step already wrote', () => {
    const path = summaryFile();
    writeJobSummary(`# first\n${'€'.repeat(100)}\n`.repeat(1_000), { path });
    writeJobSummary(`# head\n${'€ä🙂'.repeat(100)}\n`.repeat(10_000), { path });
    const bytes = readFileSync(path);
    expect(bytes.length).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES);
    expect(bytes.length).toBeGreaterThan(SUMMARY_LIMIT_BYTES * 0.9);
    expect(bytes.toString('utf8')).not.toContain('\uFFFD');
    expect(bytes.toString('utf8')).toContain('# first\n€€');
    expect(bytes.toString('utf8')).toContain('cut to fit');
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
