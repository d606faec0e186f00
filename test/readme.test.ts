import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/action-runner.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

const marked = (tag: string) =>
  readme
    .split('\n')
    .filter((line) => line.endsWith(`  # ${tag}`))
    .map((line) => line.trim().replace(new RegExp(`\\s+# ${tag}$`), ''));

describe('README quick start', () => {
  it('gives exactly one main-job command and one test command', () => {
    expect(marked('runs the main job')).toHaveLength(1);
    expect(marked('runs the tests')).toHaveLength(1);
  });

  it('names only npm scripts that exist and does its own set-up', () => {
    for (const command of [...marked('runs the main job'), ...marked('runs the tests')]) {
      expect(command).toMatch(/npm install/);
      for (const [, script] of command.matchAll(/npm run ([\w:-]+)/g))
        expect(packageJson.scripts).toHaveProperty(script as string);
    }
    expect(marked('runs the tests')[0]).toContain('bash scripts/setup-system.sh');
    // The main job is the rehearsal, which runs the setup script itself when a system tool is missing.
    expect(marked('runs the main job')[0]).toContain('npm run rehearse');
    expect(readFileSync(join(repoRoot, 'scripts/rehearse.ts'), 'utf8')).toContain(
      "'scripts/setup-system.sh'",
    );
  });

  it('is what .ci/run runs, extracted the way .ci/run extracts it', () => {
    const ci = readFileSync(join(repoRoot, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^bash scripts\/setup-system\.sh$/m);
    const sed = /sed -n '([^']+)' README\.md/.exec(ci)?.[1];
    expect(sed).toBeDefined();
    const extracted = execFileSync('sed', ['-n', sed as string, join(repoRoot, 'README.md')], {
      encoding: 'utf8',
    });
    expect(extracted.trim()).toBe(marked('runs the tests')[0]);
  });
});
