/**
 * Runs one bundled action as a workflow step on the runner would: `node actions/<name>/dist/index.js` with its
 * inputs (action.yml defaults filled in) as INPUT_* variables and the runner's files. The log streams out line
 * by line as the runner shows it (masks applied, add-mask consumed); the step's summary, outputs and log are
 * kept in `stepDir`.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  inputDefaults,
  inputVariable,
  parseOutputFile,
  prepareRunnerFiles,
  RunnerLog,
} from './runner-protocol.js';

export interface StepOptions {
  /** The repository root: GITHUB_WORKSPACE and the process's cwd. */
  root: string;
  /** Where this step's files go (runner temp, summary.md, outputs.json, log.txt). */
  stepDir: string;
  inputs: Record<string, string>;
  env?: Record<string, string>;
  eventName?: string;
  /** Each log line as the runner would show it. */
  onLine?: (line: string) => void;
}

export interface StepResult {
  exitCode: number | null;
  outputs: Record<string, string>;
  summary: string;
  durationMs: number;
  /** The annotations (::error:: and the like) the step wrote, masked. */
  errors: string[];
}

export async function runStep(action: string, options: StepOptions): Promise<StepResult> {
  const { root, stepDir } = options;
  const files = prepareRunnerFiles(stepDir);
  const inputs = { ...inputDefaults(join(root, 'actions', action, 'action.yml')), ...options.inputs };
  // `${{ github.token }}` is what the runner would put there; no GitHub here, so no token.
  for (const [key, value] of Object.entries(inputs)) if (value.includes('${{')) inputs[key] = '';
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: action,
    GITHUB_WORKFLOW: 'rehearse',
    GITHUB_RUN_ID: '0',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'rehearse',
    GITHUB_EVENT_NAME: options.eventName ?? 'workflow_dispatch',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKSPACE: root,
    ...files.env,
    ...options.env,
  };
  for (const [key, value] of Object.entries(inputs)) env[inputVariable(key)] = value;

  const started = Date.now();
  const log = createWriteStream(join(stepDir, 'log.txt'));
  const runnerLog = new RunnerLog();
  const child = spawn(process.execPath, [join(root, 'actions', action, 'dist', 'index.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const show = (text: string) => {
    log.write(`${text}\n`);
    options.onLine?.(text);
  };
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    const read = runnerLog.line(line);
    if (read !== undefined) show(read.shown);
  });
  const errLines = createInterface({ input: child.stderr });
  errLines.on('line', (line) => show(runnerLog.mask(line)));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve) => log.end(resolve));

  const outputs = parseOutputFile(readFileSync(files.outputFile, 'utf8'));
  writeFileSync(join(stepDir, 'outputs.json'), `${JSON.stringify(outputs, null, 2)}\n`);
  return {
    exitCode,
    outputs,
    summary: readFileSync(files.summaryFile, 'utf8'),
    durationMs: Date.now() - started,
    errors: runnerLog.annotations.filter((a) => a.level === 'error').map((a) => runnerLog.mask(a.message)),
  };
}
