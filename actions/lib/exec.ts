/**
 * Runs external programs: argv arrays only (never a shell string), output streamed line by line to files with
 * no buffer limit, every line scrubbed of secrets before it reaches a file or the log, optional timeout that
 * stops the whole process group.
 */
import { spawn } from 'node:child_process';
import {
  accessSync,
  constants,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  type WriteStream,
} from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { formatDuration } from './duration.js';
import { ActionError } from './errors.js';
import { signalGroup, trackGroup } from './process-groups.js';
import { processMasker, runnerTemp, type SecretMasker } from './secrets.js';

export interface ExecOptions {
  cwd?: string;
  /** Added to (or, with value undefined, removed from) the inherited environment. */
  env?: Record<string, string | undefined>;
  /** Where stdout/stderr files go. Default: a new folder under RUNNER_TEMP or the system temp dir. */
  logDir?: string;
  /** File name stem for the log files. Default: the program's name. */
  label?: string;
  /** Values that must never appear in the log or the files. */
  masker?: SecretMasker;
  /** Stop the process group after this long and fail with reason `timeout`. */
  timeoutMs?: number;
  /** Written to the program's stdin, then stdin is closed. */
  input?: string;
  /** Echo each (masked) line to the log. Default true. */
  echo?: boolean;
  /** Stops the program's process group when aborted (for example by an overall timeout). */
  signal?: AbortSignal;
  /** Called with each masked line, for progress parsing. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Where echoed lines go. Default: process.stdout. */
  log?: (line: string) => void;
}

export interface ExecResult {
  argv: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Stopped by the timeout or the abort signal. */
  timedOut: boolean;
  durationMs: number;
  stdoutPath: string;
  stderrPath: string;
  stdout(): string;
  stderr(): string;
}

/** Whether `path` is a regular file this process may execute. */
export function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Absolute path of `program` on PATH (or the path itself when it is one), or undefined. */
export function findExecutable(program: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates =
    isAbsolute(program) || program.includes('/')
      ? [program]
      : path.split(delimiter).map((d) => join(d, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws `missing-tool` naming the program and what provides it, unless it is on PATH. */
export function requireExecutable(program: string, hint: string): string {
  const found = findExecutable(program);
  if (!found) throw new ActionError('missing-tool', `'${program}' was not found on PATH. ${hint}`);
  return found;
}

/**
 * A line a child printed, made safe to echo into the runner's log: a line that starts with `::` would be read
 * by the runner as a workflow command (add-mask, set-output, ...), so it is shown with a leading space.
 */
export function neutraliseCommand(line: string): string {
  return line.startsWith('::') ? ` ${line}` : line;
}

function lineWriter(file: WriteStream, masker: SecretMasker, emit: (line: string) => void) {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  const write = (raw: string, newline: boolean) => {
    const line = masker.mask(raw);
    file.write(newline ? `${line}\n` : line);
    emit(line);
  };
  return {
    push(chunk: Buffer) {
      const text = decoder.write(chunk);
      // Only the new text is searched for line ends, so a long line without one costs linear time.
      let start = 0;
      let newline = text.indexOf('\n');
      if (newline === -1) {
        pending += text;
        return;
      }
      write(pending + text.slice(0, newline), true);
      pending = '';
      start = newline + 1;
      for (newline = text.indexOf('\n', start); newline !== -1; newline = text.indexOf('\n', start)) {
        write(text.slice(start, newline), true);
        start = newline + 1;
      }
      pending = text.slice(start);
    },
    flush() {
      pending += decoder.end();
      if (pending !== '') write(pending, false);
      pending = '';
    },
  };
}

const closeStream = (stream: WriteStream) => new Promise<void>((resolve) => stream.end(resolve));

let counter = 0;
let processLogDir: string | undefined;

/** One log folder per process, under RUNNER_TEMP (which the runner cleans) or the system temp dir. */
function defaultLogDir(): string {
  processLogDir ??= mkdtempSync(join(runnerTemp(), 'spark-exec-'));
  return processLogDir;
}

export async function execCommand(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (!program) throw new ActionError('internal', 'execCommand needs a program to run');
  const masker = options.masker ?? processMasker;
  const logDir = options.logDir ?? defaultLogDir();
  mkdirSync(logDir, { recursive: true });
  const stem = `${options.label ?? program.split('/').pop()}-${process.pid}-${++counter}`;
  const stdoutPath = join(logDir, `${stem}.stdout.log`);
  const stderrPath = join(logDir, `${stem}.stderr.log`);
  const outFile = createWriteStream(stdoutPath, { mode: 0o600 });
  const errFile = createWriteStream(stderrPath, { mode: 0o600 });
  const log = options.log ?? ((line: string) => process.stdout.write(`${neutraliseCommand(line)}\n`));
  const echo = options.echo ?? true;
  const emitter = (stream: 'stdout' | 'stderr') => (line: string) => {
    if (echo) log(line);
    options.onLine?.(line, stream);
  };
  const out = lineWriter(outFile, masker, emitter('stdout'));
  const err = lineWriter(errFile, masker, emitter('stderr'));

  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }

  const started = Date.now();
  const child = spawn(program, args, {
    cwd: options.cwd,
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const untrack = trackGroup(child.pid);
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  child.stdin.on('error', () => {}); // a program that exits without reading stdin is not our failure
  child.stdin.end(options.input ?? '');

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = () => {
    timedOut = true;
    signalGroup(child.pid, 'SIGTERM');
    killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000);
  };
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(stop, options.timeoutMs);
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });

  const { exitCode, signal } = await new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') {
          reject(
            new ActionError(
              'missing-tool',
              `'${program}' was not found${options.cwd ? ` (cwd ${options.cwd})` : ''}.`,
            ),
          );
        } else reject(new ActionError('command-failed', `Could not start '${program}': ${error.message}`));
      });
      child.once('close', (code, sig) => resolve({ exitCode: code, signal: sig }));
    },
  ).finally(() => {
    untrack();
    options.signal?.removeEventListener('abort', stop);
    clearTimeout(timer);
    clearTimeout(killTimer);
    out.flush();
    err.flush();
  });
  await Promise.all([closeStream(outFile), closeStream(errFile)]);

  return {
    argv,
    exitCode,
    signal,
    timedOut,
    durationMs: Date.now() - started,
    stdoutPath,
    stderrPath,
    stdout: () => readFileSync(stdoutPath, 'utf8'),
    stderr: () => readFileSync(stderrPath, 'utf8'),
  };
}

/** The last `lines` non-empty lines of a log file, or a note that there is none. */
export function tailOfFile(file: string, lines = 30): string {
  try {
    return lastLines(readFileSync(file, 'utf8'), lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The last `count` non-empty lines of a file's text. */
export function lastLines(text: string, count: number): string[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-count);
}

/** Like execCommand, but a non-zero exit or a timeout becomes an ActionError with the last lines of stderr. */
export async function execChecked(
  argv: string[],
  options: ExecOptions & { reason?: string; what?: string } = {},
): Promise<ExecResult> {
  const result = await execCommand(argv, options);
  const what = options.what ?? `'${argv.slice(0, 2).join(' ')}'`;
  if (result.timedOut) {
    throw new ActionError(
      'timeout',
      `${what} did not finish within ${formatDuration(options.timeoutMs ?? 0)}.`,
    );
  }
  if (result.exitCode !== 0) {
    const tail = lastLines(result.stderr(), 15);
    const how =
      result.exitCode === null ? `was stopped by ${result.signal}` : `exited with code ${result.exitCode}`;
    throw new ActionError(
      options.reason ?? 'command-failed',
      `${what} ${how}.${tail.length ? `\n${tail.join('\n')}` : ''}`,
      { details: [`Full output: ${result.stdoutPath}, ${result.stderrPath}`] },
    );
  }
  return result;
}
