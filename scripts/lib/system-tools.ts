// Finding and running the real system tools the tests use (installed by scripts/setup-system.sh).
// A missing tool is an error that names the tool and the setup script: tests fail, they never skip.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { isExecutableFile } from '../../actions/lib/exec.js';
import {
  isRoot,
  POSTGRES_LIB_DIR as POSTGRES_LIB,
  postgresLibBinDir,
} from '../../actions/lib/postgres-server.js';

export const SETUP_HINT = 'Install the system tools with `bash scripts/setup-system.sh` (as root).';

/** Searched after PATH: root's tools live in sbin, which a non-login PATH may lack. */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** How each tool prints its version, where it is not `--version`. */
const VERSION_ARGS: Readonly<Record<string, readonly string[]>> = {
  terraform: ['version'],
  etcdctl: ['version'],
  etcdutl: ['version'],
};

export class MissingToolError extends Error {
  constructor(
    readonly tool: string,
    detail: string,
  ) {
    super(`Required tool "${tool}" is missing: ${detail}. ${SETUP_HINT}`);
    this.name = 'MissingToolError';
  }
}

export interface RequireToolOptions {
  /** When given, the tool is also run with these arguments and must exit 0. */
  versionArgs?: readonly string[];
}

/** The newest installed PostgreSQL major's bin directory, e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string {
  const dir = postgresLibBinDir();
  if (dir === undefined) {
    throw new MissingToolError('postgres', `no PostgreSQL server binaries under ${POSTGRES_LIB}/<major>/bin`);
  }
  return dir;
}

function postgresBinDirOrUndefined(): string | undefined {
  try {
    return postgresBinDir();
  } catch {
    return undefined;
  }
}

function searchDirs(): string[] {
  const fromPath = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  return [...new Set([...fromPath, ...EXTRA_DIRS])];
}

function locate(name: string): string | undefined {
  if (name.includes('/')) return isExecutableFile(name) ? resolve(name) : undefined;
  // PostgreSQL's own directory first: Debian's /usr/bin/psql, pg_basebackup, ... are pg_wrapper, which
  // picks a version by cluster configuration, and an image may link older server binaries elsewhere.
  const pgBin = postgresBinDirOrUndefined();
  if (pgBin !== undefined && isExecutableFile(join(pgBin, name))) return join(pgBin, name);
  return searchDirs()
    .map((dir) => join(dir, name))
    .find(isExecutableFile);
}

/**
 * The absolute path of a system tool: PostgreSQL's bin directory first (initdb, postgres, pg_ctl, psql, ...,
 * all of one major), then PATH and the sbin directories. Throws a MissingToolError naming the tool and the
 * setup script.
 */
export function requireTool(name: string, options: RequireToolOptions = {}): string {
  const path = locate(name);
  if (path === undefined) {
    throw new MissingToolError(
      name,
      `not found in PATH, ${EXTRA_DIRS.join(', ')} or ${POSTGRES_LIB}/<major>/bin`,
    );
  }
  if (options.versionArgs !== undefined) versionOutput(name, path, options.versionArgs);
  return path;
}

function versionOutput(name: string, path: string, args: readonly string[]): string {
  try {
    return execFileSync(path, [...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30_000,
    });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new MissingToolError(name, `${path} ${args.join(' ')} failed (${detail.trim()})`);
  }
}

/** The first non-empty line of the tool's version output (`--version`, or `version` where that is the verb). */
export function toolVersion(name: string, versionArgs?: readonly string[]): string {
  const args = versionArgs ?? VERSION_ARGS[name] ?? ['--version'];
  const output = versionOutput(name, requireTool(name), args);
  const line = output.split('\n').find((text) => text.trim() !== '');
  if (line === undefined) throw new MissingToolError(name, `${args.join(' ')} printed nothing`);
  return line.trim();
}

export interface RunToolOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the tool's stdin, which is then closed. */
  input?: string;
  timeoutMs?: number;
}

export interface RunToolResult {
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion (argv, no shell). Rejects with its exit status and stderr when it fails. */
export function runTool(
  file: string,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<RunToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => {}); // the tool may exit without reading its input
    child.stdin.end(options.input ?? '');
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const result = {
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      if (code === 0) {
        resolve(result);
        return;
      }
      const status = signal === null ? `exit code ${code}` : `signal ${signal}`;
      const message = `${[file, ...args].join(' ')} failed with ${status}: ${result.stderr.trim() || result.stdout.trim()}`;
      reject(Object.assign(new Error(message), result));
    });
  });
}

export interface DaemonOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Run as this user (requires root), e.g. 'postgres'. */
  user?: string;
  /** Sent to the daemon by the kernel if this test process dies without stopping it. */
  parentDeathSignal?: NodeJS.Signals;
}

/**
 * Starts a long-running server. It is started through `setpriv`, which switches to `user` when asked and
 * arranges for the kernel to signal the server if this process dies, so a crashed test run leaves no server.
 */
export function spawnDaemon(file: string, args: readonly string[], options: DaemonOptions): ChildProcess {
  const setpriv = requireTool('setpriv');
  const prefix = ['--pdeathsig', options.parentDeathSignal ?? 'SIGTERM'];
  if (options.user !== undefined)
    prefix.unshift(`--reuid=${options.user}`, `--regid=${options.user}`, '--init-groups');
  const log = openSync(options.logFile, 'a');
  try {
    return spawn(setpriv, [...prefix, '--', file, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
}

/** Whether the child has exited (or was killed). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Waits up to `timeoutMs` for the child to exit; true if it did. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Stops a daemon: `signal`, then SIGKILL if it has not exited after `graceMs`. */
export async function stopDaemon(
  child: ChildProcess,
  signal: NodeJS.Signals,
  graceMs = 30_000,
): Promise<void> {
  if (hasExited(child)) return;
  child.kill(signal);
  if (await waitForExit(child, graceMs)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 10_000);
}

const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Registers a synchronous cleanup that runs when this process exits with the server still up (a test
 * that failed before its stop()). Returns a function that unregisters it.
 */
export function onProcessExit(cleanup: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const fn of exitCleanups) {
        try {
          fn();
        } catch {
          // best effort while exiting
        }
      }
    });
  }
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

/** Whether this process runs as root (PostgreSQL then has to run as another user). */
export { isRoot };

const OWNER_FILE = 'owner.pid';

/**
 * Makes a temp dir `<tmpdir>/<prefix>XXXXXX` for a server, marked with this process's id. First removes
 * older dirs with the same prefix whose owning process is gone (a test run that was killed outright).
 */
export function makeServerTempDir(prefix: string): string {
  const root = tmpdir();
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(prefix)) continue;
    const dir = join(root, entry);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours, or still being set up
    }
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  }
  const dir = mkdtempSync(join(root, prefix));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  return dir;
}

/** Whether process `pid` exists (a zombie counts until it is reaped). */
export function processAlive(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}`);
}

/**
 * Polls `probe` every 200 ms until it is true. After `timeoutMs` it throws, naming `what` and quoting the last
 * lines of `logFile`, the log of whatever was awaited.
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      const tail = existsSync(logFile)
        ? readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-30).join('\n')
        : '';
      throw new Error(`timed out waiting for ${what}; last lines of ${logFile}:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
