/**
 * Runs a bundled action exactly as the GitHub runner does: `node actions/<name>/dist/index.js` with the
 * inputs (defaults filled in from action.yml) as INPUT_* variables and the runner's files (GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY, GITHUB_EVENT_PATH, RUNNER_TEMP). It then reads back what the action left: outputs,
 * summary, the log as the runner would show it (masks applied, commands consumed), annotations.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Annotation,
  inputDefaults,
  inputVariable,
  parseOutputFile,
  prepareRunnerFiles,
  RunnerLog,
} from '../../scripts/lib/runner-protocol.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface RunActionOptions {
  inputs?: Record<string, string | number | boolean | undefined>;
  eventName?: string;
  event?: Record<string, unknown>;
  sha?: string;
  ref?: string;
  repository?: string;
  apiUrl?: string;
  serverUrl?: string;
  runId?: string;
  /** GITHUB_WORKSPACE and the process's cwd. Default: the repository root. */
  workspace?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Run this bundle instead of actions/<name>/dist/index.js (for test fixtures). */
  entry?: string;
  /** Read input defaults from this action.yml instead of actions/<name>/action.yml. */
  actionYml?: string;
}

export interface ActionRun {
  exitCode: number | null;
  outputs: Record<string, string>;
  summary: string;
  /** The log as the runner shows it: add-mask lines consumed and their values replaced by ***. */
  log: string;
  /** What the process really printed to stdout, add-mask commands removed. */
  rawStdout: string;
  stderr: string;
  annotations: Annotation[];
  masks: string[];
  runnerTemp: string;
  /** Everything the action wrote that a person or another job could see: raw log, stderr, outputs, summary, files left in RUNNER_TEMP. */
  everythingWritten(): string;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() && statSync(path).size < 50 * 1024 * 1024 ? [path] : [];
  });
}

// Each run's runner folders are removed when the test process ends.
const runHomes = new Set<string>();

/** Removes the runner folders of every run so far (test/setup.ts calls it after each test file). */
export function removeRunHomes(): void {
  for (const home of runHomes) rmSync(home, { recursive: true, force: true });
  runHomes.clear();
}

export async function runActionBundle(name: string, options: RunActionOptions = {}): Promise<ActionRun> {
  const entry = options.entry ?? join(repoRoot, 'actions', name, 'dist', 'index.js');
  const actionYml = options.actionYml ?? join(repoRoot, 'actions', name, 'action.yml');
  if (!existsSync(entry)) throw new Error(`No bundle at ${entry}: run \`npm run build\` first.`);

  const home = mkdtempSync(join(tmpdir(), `spark-run-${name}-`));
  runHomes.add(home);
  const files = prepareRunnerFiles(home, options.event ?? {});

  const inputs = { ...inputDefaults(actionYml) };
  for (const [key, value] of Object.entries(options.inputs ?? {})) {
    if (value !== undefined) inputs[key] = String(value);
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? home,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_ACTION: name,
    GITHUB_WORKFLOW: 'test',
    GITHUB_RUN_ID: options.runId ?? '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTOR: 'spark-bot',
    GITHUB_SERVER_URL: options.serverUrl ?? 'https://github.example',
    GITHUB_API_URL: options.apiUrl ?? 'http://127.0.0.1:9/unreachable-api',
    GITHUB_REPOSITORY: options.repository ?? 'spark/platform',
    GITHUB_EVENT_NAME: options.eventName ?? 'workflow_dispatch',
    GITHUB_SHA: options.sha ?? '0000000000000000000000000000000000000000',
    GITHUB_REF: options.ref ?? 'refs/heads/main',
    GITHUB_WORKSPACE: options.workspace ?? repoRoot,
    ...files.env,
    ...options.env,
  };
  for (const [key, value] of Object.entries(inputs)) env[inputVariable(key)] = value;

  const child = spawn(process.execPath, [entry], {
    cwd: env.GITHUB_WORKSPACE,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(timer);

  const runnerLog = new RunnerLog();
  const shown: string[] = [];
  const raw: string[] = [];
  for (const line of Buffer.concat(out).toString('utf8').split('\n')) {
    const read = runnerLog.line(line);
    if (read === undefined) continue;
    raw.push(read.raw);
    shown.push(read.shown);
  }
  const { masks, annotations } = runnerLog;

  const outputs = parseOutputFile(readFileSync(files.outputFile, 'utf8'));
  const summary = readFileSync(files.summaryFile, 'utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  const rawStdout = raw.join('\n');
  return {
    exitCode,
    outputs,
    summary,
    log: shown.join('\n'),
    rawStdout,
    stderr,
    annotations,
    masks,
    runnerTemp: files.runnerTemp,
    everythingWritten: () =>
      [
        rawStdout,
        stderr,
        JSON.stringify(outputs),
        summary,
        ...filesUnder(files.runnerTemp).map((f) => readFileSync(f, 'utf8')),
      ].join('\n'),
  };
}
