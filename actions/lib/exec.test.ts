import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/support/temp-dir.js';
import { ActionError } from './errors.js';
import { execChecked, execCommand, findExecutable, neutraliseCommand, requireExecutable } from './exec.js';
import { processMasker, SecretMasker } from './secrets.js';

const node = process.execPath;
const quiet = { log: () => {} };

describe('execCommand', () => {
  it('passes argv untouched, with no shell in between', async () => {
    const dangerous = '$(touch /nonexistent-should-not-run); `echo no` && echo hi | cat';
    const result = await execCommand([node, '-e', 'console.log(process.argv[1])', dangerous], quiet);
    expect(result.exitCode).toBe(0);
    expect(result.stdout()).toBe(`${dangerous}\n`);
  });

  it('streams large output to files without a buffer limit', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the child program's own template literal
    const script = 'for (let i = 0; i < 200000; i++) process.stdout.write(`line ${i} ${"x".repeat(40)}\\n`)';
    let lines = 0;
    const result = await execCommand([node, '-e', script], { echo: false, onLine: () => lines++ });
    expect(result.exitCode).toBe(0);
    expect(lines).toBe(200_000);
    expect(statSync(result.stdoutPath).size).toBeGreaterThan(10 * 1024 * 1024);
    expect(statSync(result.stdoutPath).mode & 0o777).toBe(0o600);
  });

  it('masks secrets in the log, the files and the line callbacks', async () => {
    const secret = 'hunter2-very-secret';
    const logged: string[] = [];
    const seen: string[] = [];
    const result = await execCommand(
      [node, '-e', `console.log("pw=${secret}"); console.error("again ${secret} end")`],
      { masker: new SecretMasker([secret]), log: (l) => logged.push(l), onLine: (l) => seen.push(l) },
    );
    for (const text of [result.stdout(), result.stderr(), logged.join('\n'), seen.join('\n')]) {
      expect(text).not.toContain(secret);
      expect(text).toContain('***');
    }
  });

  it('keeps separate stdout and stderr files and the exit code', async () => {
    const result = await execCommand(
      [node, '-e', 'console.log("out"); console.error("err"); process.exit(3)'],
      quiet,
    );
    expect(result.exitCode).toBe(3);
    expect(result.stdout()).toBe('out\n');
    expect(result.stderr()).toBe('err\n');
  });

  it('feeds stdin and sets environment variables', async () => {
    const result = await execCommand(
      [node, '-e', 'process.stdin.on("data", d => console.log(String(d).trim() + process.env.SUFFIX))'],
      { input: 'abc', env: { SUFFIX: '-xyz' }, ...quiet },
    );
    expect(result.stdout()).toBe('abc-xyz\n');
  });

  it('stops the whole process group on timeout', async () => {
    const dir = tempDir('exec-test-');
    const marker = join(dir, 'child-survived');
    // The parent spawns a grandchild that would write a file after 1.5 s; both must be killed.
    const grandchild = `setTimeout(() => require('fs').writeFileSync(process.argv[1], 'x'), 1500)`;
    const script = `require('child_process').spawn(process.execPath, ['-e', process.argv[1], process.argv[2]], { stdio: 'ignore' }); setInterval(() => {}, 1000)`;
    const result = await execCommand([node, '-e', script, grandchild, marker], { timeoutMs: 300, ...quiet });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    await new Promise((r) => setTimeout(r, 1800));
    expect(existsSync(marker)).toBe(false);
  });

  it('says clearly when the program does not exist', async () => {
    await expect(execCommand(['spark-no-such-program-xyz'], quiet)).rejects.toMatchObject({
      reason: 'missing-tool',
      message: "'spark-no-such-program-xyz' was not found.",
    });
  });
});

describe('execChecked', () => {
  it('turns a failure into an ActionError with the last lines of stderr', async () => {
    const error = await execChecked(
      [node, '-e', 'console.error("first"); console.error("Error: lock held"); process.exit(1)'],
      {
        ...quiet,
        reason: 'state-locked',
        what: 'terraform plan',
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ActionError);
    expect((error as ActionError).reason).toBe('state-locked');
    expect((error as ActionError).message).toBe(
      'terraform plan exited with code 1.\nfirst\nError: lock held',
    );
  });

  it('reports a timeout as such', async () => {
    await expect(
      execChecked([node, '-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 200, ...quiet }),
    ).rejects.toMatchObject({
      reason: 'timeout',
    });
  });
});

describe('finding programs', () => {
  it('finds programs on PATH and explains a missing one', () => {
    expect(findExecutable('node')).toBeTruthy();
    expect(findExecutable(node)).toBe(node);
    expect(findExecutable('spark-no-such-program-xyz')).toBeUndefined();
    expect(() => requireExecutable('spark-no-such-program-xyz', 'Install it with apt.')).toThrow(
      "'spark-no-such-program-xyz' was not found on PATH. Install it with apt.",
    );
  });

  it('writes log files where asked', async () => {
    const dir = tempDir('exec-logs-');
    const result = await execCommand([node, '-e', 'console.log(1)'], {
      logDir: dir,
      label: 'probe',
      ...quiet,
    });
    expect(result.stdoutPath.startsWith(dir)).toBe(true);
    expect(readFileSync(result.stdoutPath, 'utf8')).toBe('1\n');
  });
});

describe('exec output handling', () => {
  it('keeps multi-byte characters whole across chunk boundaries', async () => {
    const script = 'for (let i = 0; i < 20000; i++) process.stdout.write("€äöü🙂")';
    const result = await execCommand([node, '-e', script], quiet);
    const text = result.stdout();
    expect(text).not.toContain('\uFFFD');
    expect(text).toBe('€äöü🙂'.repeat(20000));
  });

  it('handles one very long line without a newline in linear time', async () => {
    const result = await execCommand(
      [node, '-e', 'process.stdout.write("x".repeat(32 * 1024 * 1024))'],
      quiet,
    );
    expect(statSync(result.stdoutPath).size).toBe(32 * 1024 * 1024);
  });

  it('masks with the process-wide masker when none is given', async () => {
    processMasker.add('process-wide-secret-123');
    const logged: string[] = [];
    const result = await execCommand([node, '-e', 'console.log("x process-wide-secret-123 y")'], {
      log: (l) => logged.push(l),
    });
    expect(result.stdout()).toBe('x *** y\n');
    expect(logged).toEqual(['x *** y']);
  });

  it('does not let a child issue workflow commands through the log', () => {
    expect(neutraliseCommand('::add-mask::nothing')).toBe(' ::add-mask::nothing');
    expect(neutraliseCommand('plain :: text')).toBe('plain :: text');
  });
});

describe('a cancelled job', () => {
  it('stops the programs it started when the action gets SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const fixture = join(import.meta.dirname, '../../test/fixtures/exec-cancel/main.ts');
    const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');
    const parent = spawn(tsx, [fixture], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((resolve) => {
      parent.stdout.on('data', (chunk: Buffer) => {
        const match = /child (\d+)/.exec(String(chunk));
        if (match) resolve(Number(match[1]));
      });
    });
    expect(() => process.kill(childPid, 0)).not.toThrow();
    // tsx runs the script in a child node process; signal the whole tree the way the runner cancels a step.
    process.kill(parent.pid ?? 0, 'SIGTERM');
    await new Promise((resolve) => parent.once('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(() => process.kill(childPid, 0)).toThrow();
  });
});

describe('aborting', () => {
  it('stops the program when the signal aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await execCommand([node, '-e', 'setInterval(() => {}, 1000)'], {
      signal: controller.signal,
      ...quiet,
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
  });
});
