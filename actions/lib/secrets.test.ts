import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretFiles, SecretMasker } from './secrets.js';

describe('SecretMasker', () => {
  it('masks every occurrence, longest secret first, and each line of a multi-line secret', () => {
    const masker = new SecretMasker(['abcd', 'abcdefgh', 'line-one\nline-two', 'ab']);
    expect(masker.mask('x abcdefgh y abcd z')).toBe('x *** y *** z');
    expect(masker.mask('got line-two here')).toBe('got *** here');
    expect(masker.mask('ab stays')).toBe('ab stays');
  });
});

describe('secret files', () => {
  it('writes 0600 files in a 0700 folder and removes them all', () => {
    const files = createSecretFiles();
    const path = files.write('vault-pass', 's3cret');
    expect(readFileSync(path, 'utf8')).toBe('s3cret');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    files.dispose();
    files.dispose();
    expect(existsSync(path)).toBe(false);
    expect(() => files.write('../escape', 'x')).toThrow('plain file name');
  });
});
