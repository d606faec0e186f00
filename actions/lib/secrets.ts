/**
 * Secret handling shared by every action: a masker that scrubs known secret values from any text before it is
 * logged, written to a file, a comment or a summary, and 0600 secret files that are always removed.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MASK = '***';

/** RUNNER_TEMP (which the runner empties after the job), or the system temp dir outside a runner. */
export function runnerTemp(): string {
  return process.env.RUNNER_TEMP || tmpdir();
}

/** The strings to mask for one secret: the whole value and each line, as log lines are masked one by one. */
export function secretParts(value: string): string[] {
  const parts = [value, ...value.split(/\r?\n/).map((line) => line.trim())];
  return [...new Set(parts.filter((part) => part.length >= 4))];
}

export class SecretMasker {
  private readonly values = new Set<string>();

  constructor(values: Iterable<string | undefined> = []) {
    for (const value of values) this.add(value);
  }

  /** Registers a secret, and each of its lines, as the runner does. Very short values are ignored. */
  add(value: string | undefined): void {
    if (!value) return;
    for (const part of secretParts(value)) this.values.add(part);
  }

  get size(): number {
    return this.values.size;
  }

  mask(text: string): string {
    if (this.values.size === 0 || text === '') return text;
    // Longest first, so a secret that contains another is replaced whole.
    let result = text;
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) {
      if (result.includes(value)) result = result.split(value).join(MASK);
    }
    return result;
  }
}

/**
 * The masker of this process: every secret input is added to it (by the action frame), and exec, the job
 * summary and the comment helpers use it unless given another, so nothing written by the action can carry a
 * secret even where a caller forgot to pass one.
 */
export const processMasker = new SecretMasker();

export interface SecretFiles {
  /** Writes `content` to a new 0600 file and returns its path. */
  write(name: string, content: string): string;
  /** Removes every file written. Safe to call twice. */
  dispose(): void;
}

/** A private 0700 folder (under `parent`, usually RUNNER_TEMP) for secret files; call `dispose()` in `finally`. */
export function createSecretFiles(parent: string = runnerTemp()): SecretFiles {
  const dir = mkdtempSync(join(parent, 'spark-secrets-'));
  chmodSync(dir, 0o700);
  return {
    write(name, content) {
      if (!/^[\w.-]+$/.test(name)) throw new Error(`secret file name '${name}' must be a plain file name`);
      const path = join(dir, name);
      writeFileSync(path, content, { mode: 0o600 });
      chmodSync(path, 0o600);
      return path;
    },
    dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
