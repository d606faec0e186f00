// ansible/ passes ansible-lint's production profile, offline.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireTool, runTool } from '../scripts/lib/system-tools.js';
import { repoRoot } from './support/action-runner.js';

describe('ansible/', () => {
  it('passes ansible-lint with the production profile', async () => {
    const lint = requireTool('ansible-lint');
    const result = await runTool(lint, ['--offline', '--profile', 'production', '--nocolor'], {
      cwd: join(repoRoot, 'ansible'),
      timeoutMs: 600_000,
    }).catch((error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? String(error),
    }));
    expect(`${result.stdout}\n${result.stderr}`).toMatch(
      /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/,
    );
  }, 600_000);
});
