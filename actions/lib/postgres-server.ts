/**
 * Running PostgreSQL's own binaries: find the server's bin directory, run a tool as the `postgres` OS user when
 * this process is root (the server and the tools that touch a data directory refuse to run as root), start a
 * server on a data directory and wait until it accepts connections, stop it, and run SQL through psql.
 *
 * Shared by the dr-drill action (a scratch copy restored from backups) and the tests (a live server).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, closeSync, lchownSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ActionError } from './errors.js';
import { execChecked, execCommand, findExecutable, isExecutableFile, tailOfFile } from './exec.js';
import type { SecretMasker } from './secrets.js';

/** The OS user PostgreSQL runs as when this process is root (created by Debian's postgresql-common). */
export const POSTGRES_OS_USER = 'postgres';
/** Where Debian keeps each installed major's server binaries: `<dir>/<major>/bin`. */
export const POSTGRES_LIB_DIR = '/usr/lib/postgresql';

const INSTALL_HINT = 'Install PostgreSQL (Debian: `apt-get install postgresql`).';

export type PostgresConfValue = string | number | boolean;

/** Installed majors under `root` that have a server binary, newest first. */
export function installedPostgresMajors(root = POSTGRES_LIB_DIR): number[] {
  try {
    return readdirSync(root)
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number)
      .filter((major) => isExecutableFile(join(root, String(major), 'bin', 'postgres')))
      .sort((a, b) => b - a);
  } catch {
    return [];
  }
}

/** `<root>/<major>/bin` of the newest installed major (or of `major`), or undefined. */
export function postgresLibBinDir(major?: number, root = POSTGRES_LIB_DIR): string | undefined {
  const majors = installedPostgresMajors(root);
  const chosen = major === undefined ? majors[0] : majors.find((m) => m === major);
  return chosen === undefined ? undefined : join(root, String(chosen), 'bin');
}

/**
 * The directory of `postgres`, `initdb`, `pg_ctl`, `psql`, ... of one major: the newest (or the given) major
 * under /usr/lib/postgresql, else the directory of a `postgres` on PATH. Throws `missing-tool` otherwise.
 */
export function postgresBinDir(major?: number): string {
  const lib = postgresLibBinDir(major);
  if (lib !== undefined) return lib;
  const onPath = findExecutable('postgres');
  if (onPath !== undefined && major === undefined) return dirname(onPath);
  const which = major === undefined ? 'PostgreSQL' : `PostgreSQL ${major}`;
  throw new ActionError(
    'missing-tool',
    `${which} server binaries were not found in ${POSTGRES_LIB_DIR}/<major>/bin${major === undefined ? ' or on PATH' : ''}. ${INSTALL_HINT}`,
  );
}

/** The absolute path of one of PostgreSQL's programs (psql, pg_amcheck, ...) in `binDir`. */
export function postgresTool(name: string, binDir: string = postgresBinDir()): string {
  const path = join(binDir, name);
  if (!isExecutableFile(path)) {
    throw new ActionError('missing-tool', `'${name}' was not found in ${binDir}. ${INSTALL_HINT}`);
  }
  return path;
}

/** The major version (15, 16, ...) of the server in `binDir`, from `postgres --version`. */
export async function postgresMajor(binDir: string = postgresBinDir()): Promise<number> {
  const out = await execChecked([postgresTool('postgres', binDir), '--version'], { echo: false });
  const match = /\(PostgreSQL\)\s+(\d+)/.exec(out.stdout());
  if (!match)
    throw new ActionError('internal', `Unexpected 'postgres --version' output: ${out.stdout().trim()}`);
  return Number(match[1]);
}

/** Whether this process runs as root (PostgreSQL then has to run as another user). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

export interface OsUser {
  uid: number;
  gid: number;
}

export function lookupOsUser(name: string): OsUser {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  const fields = line?.split(':');
  if (fields === undefined || fields[2] === undefined || fields[3] === undefined) {
    throw new ActionError('missing-tool', `The "${name}" OS user does not exist. ${INSTALL_HINT}`);
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

function setprivPath(): string {
  const path = findExecutable('setpriv') ?? ['/usr/bin/setpriv', '/bin/setpriv'].find(isExecutableFile);
  if (path === undefined) {
    throw new ActionError(
      'missing-tool',
      "'setpriv' (util-linux) was not found; it runs PostgreSQL as its own user.",
    );
  }
  return path;
}

/**
 * As root, `argv` prefixed so that it runs as the postgres OS user (PostgreSQL refuses to run as root);
 * otherwise `argv` unchanged.
 */
export function asPostgresUser(argv: readonly string[]): string[] {
  if (!isRoot()) return [...argv];
  return [
    setprivPath(),
    `--reuid=${POSTGRES_OS_USER}`,
    `--regid=${POSTGRES_OS_USER}`,
    '--init-groups',
    '--',
    ...argv,
  ];
}

/** As root, hands `path` (with `recursive`, everything below it too) to the postgres OS user. A no-op otherwise. */
export function chownToPostgres(path: string, options: { recursive?: boolean } = {}): void {
  if (!isRoot()) return;
  const { uid, gid } = lookupOsUser(POSTGRES_OS_USER);
  chownSync(path, uid, gid);
  if (!options.recursive) return;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const child = join(dir, entry.name);
      lchownSync(child, uid, gid); // a symlink itself, never what it points to
      if (entry.isDirectory()) walk(child);
    }
  };
  if (statSync(path).isDirectory()) walk(path);
}

/**
 * Whether `path` can be put into a command that the server runs through /bin/sh (archive_command,
 * restore_command) without quoting: absolute, only `[A-Za-z0-9_./-]`, so no spaces, quotes, `$`, `%`, ...
 */
export function isShellSafePath(path: string): boolean {
  return /^\/[A-Za-z0-9_./-]*$/.test(path);
}

/**
 * An archive_command that copies each finished WAL segment into `dir`, under a temporary name first so a
 * segment appears there only when complete, and never over an existing one. The server runs it through
 * /bin/sh, so `dir` must be shell-safe (see isShellSafePath) and not `/`.
 */
export function walArchiveCommand(dir: string): string {
  if (!isShellSafePath(dir) || dir === '/') {
    throw new ActionError(
      'internal',
      `A WAL archive must be an absolute path of [A-Za-z0-9_./-] characters other than /, got: ${dir}`,
    );
  }
  return `test ! -f ${dir}/%f && cp %p ${dir}/%f.partial && mv ${dir}/%f.partial ${dir}/%f`;
}

const CONF_KEY = /^[a-z_][a-z0-9_.]*$/i;

function confText(key: string, value: PostgresConfValue): string {
  if (!CONF_KEY.test(key)) throw new ActionError('internal', `Invalid PostgreSQL setting name: ${key}`);
  const text = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
  if (/[\n\r\0]/.test(text)) {
    throw new ActionError('internal', `Invalid value for PostgreSQL setting ${key}: contains a line break`);
  }
  return text;
}

/** One postgresql.conf line, the value single-quoted. */
export function confLine(key: string, value: PostgresConfValue): string {
  return `${key} = '${confText(key, value).replaceAll("'", "''")}'`;
}

/** `-c key=value` arguments for the server's command line, which override postgresql(.auto).conf. */
export function confArgs(conf: Readonly<Record<string, PostgresConfValue>>): string[] {
  return Object.entries(conf).flatMap(([key, value]) => ['-c', `${key}=${confText(key, value)}`]);
}

/** Environment overrides that remove every PG* variable, which would redirect a server or its clients. */
export function withoutPgEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(process.env)) if (key.startsWith('PG')) env[key] = undefined;
  return { ...env, ...extra };
}

/** The environment for the server and the tools that write a data directory (initdb): no PG*, C locale. */
export function postgresServerEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
  for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key];
  if (isRoot()) env.HOME = '/var/lib/postgresql';
  return env;
}

export interface PostgresServerOptions {
  dataDir: string;
  port: number;
  /** Directory of the unix socket (owned by the server's user). */
  socketDir: string;
  /** The server's stdout and stderr are appended here. */
  logFile: string;
  /** Settings passed as `-c`, which win over postgresql.conf and postgresql.auto.conf. */
  conf?: Readonly<Record<string, PostgresConfValue>>;
  /** Default: 127.0.0.1. */
  listenAddress?: string;
  /** Default: postgresBinDir(). */
  binDir?: string;
  /** Sent to the server by the kernel when this process dies without stopping it. Default SIGINT (fast). */
  parentDeathSignal?: NodeJS.Signals;
}

export interface PostgresServerProcess {
  readonly child: ChildProcess;
  /** The postmaster's process id. */
  readonly pid: number;
  readonly port: number;
  readonly socketDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly binDir: string;
  /** Whether the postmaster has exited. */
  exited(): boolean;
  /** Resolves when the postmaster has exited. */
  readonly exit: Promise<void>;
  /** The last `lines` lines of the server log. */
  logTail(lines?: number): string;
  /** Fast shutdown (SIGINT to the postmaster), then SIGKILL to its process group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `postgres -D dataDir` in its own process group (as the postgres OS user when root) and returns at
 * once. The server is asked to stop (fast) if this process dies. Pair with stop().
 */
export function spawnPostgresServer(options: PostgresServerOptions): PostgresServerProcess {
  const binDir = options.binDir ?? postgresBinDir();
  const postgres = postgresTool('postgres', binDir);
  const conf = {
    listen_addresses: options.listenAddress ?? '127.0.0.1',
    port: options.port,
    unix_socket_directories: options.socketDir,
    ...options.conf,
  };
  const serverArgv = [postgres, '-D', options.dataDir, ...confArgs(conf)];
  const setpriv = isRoot() ? setprivPath() : (findExecutable('setpriv') ?? undefined);
  const argv =
    setpriv === undefined
      ? serverArgv
      : [
          setpriv,
          ...(isRoot()
            ? [`--reuid=${POSTGRES_OS_USER}`, `--regid=${POSTGRES_OS_USER}`, '--init-groups']
            : []),
          '--pdeathsig',
          options.parentDeathSignal ?? 'SIGINT',
          '--',
          ...serverArgv,
        ];
  const [file, ...args] = argv as [string, ...string[]];
  const log = openSync(options.logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd: options.dataDir,
      env: postgresServerEnv(),
      detached: true,
      stdio: ['ignore', log, log],
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new ActionError('command-failed', `Could not start ${postgres}.`);
  let hasExited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      hasExited = true;
      resolve();
    });
    child.once('error', () => {
      hasExited = true;
      resolve();
    });
  });
  const signalPid = (target: number, sig: NodeJS.Signals) => {
    try {
      process.kill(target, sig);
    } catch {
      // already gone
    }
  };
  return {
    child,
    pid,
    port: options.port,
    socketDir: options.socketDir,
    dataDir: options.dataDir,
    logFile: options.logFile,
    binDir,
    exit,
    exited: () => hasExited,
    logTail: (lines = 30) => tailOfFile(options.logFile, lines),
    async stop(graceMs = 30_000) {
      if (hasExited) return;
      signalPid(pid, 'SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          signalPid(-pid, 'SIGKILL');
          resolve();
        }, graceMs);
      });
      await Promise.race([exit, killed]);
      clearTimeout(timer);
      await exit;
    },
  };
}

/** Whether the server behind `socketDir`:`port` accepts connections now (pg_isready). */
export async function isAcceptingConnections(
  server: { socketDir: string; port: number },
  options: { binDir?: string; logDir?: string } = {},
): Promise<boolean> {
  const result = await execCommand(
    [
      postgresTool('pg_isready', options.binDir),
      '-q',
      '-h',
      server.socketDir,
      '-p',
      String(server.port),
      '-t',
      '2',
    ],
    { echo: false, env: withoutPgEnv(), logDir: options.logDir, label: 'pg_isready', timeoutMs: 10_000 },
  );
  return result.exitCode === 0;
}

export interface StartPostgresServerOptions extends PostgresServerOptions {
  /** How long the server may take to accept connections. Default 60 s. */
  timeoutMs?: number;
  /** Called right after the process was spawned, e.g. to register it for cleanup. */
  onSpawn?: (server: PostgresServerProcess) => void;
  /** Where the pg_isready probes write their output files. */
  execLogDir?: string;
}

/**
 * Spawns the server and waits until it accepts connections. When it dies or does not get ready in time, it
 * is stopped and an ActionError (`command-failed`) carries the last lines of its log.
 */
export async function startPostgresServer(
  options: StartPostgresServerOptions,
): Promise<PostgresServerProcess> {
  const server = spawnPostgresServer(options);
  options.onSpawn?.(server);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let state: 'died' | 'timeout' = 'timeout';
  while (Date.now() < deadline) {
    if (server.exited()) {
      state = 'died';
      break;
    }
    if (await isAcceptingConnections(server, { binDir: server.binDir, logDir: options.execLogDir }))
      return server;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (server.exited()) state = 'died';
  await server.stop(5_000);
  const how = state === 'died' ? 'exited' : 'did not accept connections in time';
  throw new ActionError(
    'command-failed',
    `PostgreSQL on ${options.dataDir} (port ${options.port}) ${how}; last lines of ${options.logFile}:\n${server.logTail()}`,
  );
}

/** A libpq URI or key=value string, or where a local server listens (unix socket directory and port). */
export type PostgresConnection = string | { host: string; port: number; user?: string; database?: string };

export interface PsqlOptions {
  binDir?: string;
  /** Every password found in a connection string is added to it. */
  masker?: SecretMasker;
  /** Default 5 min. */
  timeoutMs?: number;
  /** psql variables (`-v name=value`), for `:'name'` interpolation in the SQL. */
  variables?: Readonly<Record<string, string>>;
  /** Where psql's output files go (exec's default folder otherwise). */
  logDir?: string;
  /** How the command is named in an error message. */
  what?: string;
  /** ActionError reason on failure. Default `command-failed`. */
  reason?: string;
  /** Stops psql when aborted. */
  signal?: AbortSignal;
}

/**
 * A connection string split into the string without its password (for argv, which other local users can see
 * in `ps`) and the password (for PGPASSWORD). Handles URIs (`postgresql://user:pw@host/db?password=pw`) and
 * key=value strings (`host=h password='p w'`); anything else comes back unchanged.
 */
export function splitConnectionPassword(connection: string): { connection: string; password?: string } {
  const uri = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(connection);
  if (!uri) {
    // key=value: a value is a bare word or single-quoted with \' and \\ escapes
    const pair = /(^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/.exec(connection);
    if (!pair) return { connection };
    const raw = pair[2] as string;
    const password = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    const rest = `${connection.slice(0, pair.index)}${pair[1]}${connection.slice(pair.index + pair[0].length)}`;
    return { connection: rest.trim(), password };
  }
  const [, scheme = '', userinfo = '', rest = '', query = '', fragment = ''] = uri;
  let password: string | undefined;
  let user = userinfo.slice(0, -1);
  const colon = user.indexOf(':');
  if (colon !== -1) {
    password = decode(user.slice(colon + 1));
    user = user.slice(0, colon);
  }
  const params = query === '' ? [] : query.slice(1).split('&');
  const kept = params.filter((param) => {
    if (!/^password=/i.test(param)) return true;
    password = decode(param.slice(param.indexOf('=') + 1));
    return false;
  });
  const queryText = kept.length > 0 ? `?${kept.join('&')}` : '';
  return { connection: `${scheme}${user ? `${user}@` : ''}${rest}${queryText}${fragment}`, password };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Runs `sql` (any number of statements; psql meta-commands allowed) with psql: no psqlrc, unaligned,
 * tuples only, stop at the first error. Returns stdout. A URI's password goes through PGPASSWORD, never argv.
 */
export async function psql(
  connection: PostgresConnection,
  sql: string,
  options: PsqlOptions = {},
): Promise<string> {
  const argv = [postgresTool('psql', options.binDir), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1'];
  for (const [name, value] of Object.entries(options.variables ?? {})) {
    if (!/^[A-Za-z_]\w*$/.test(name))
      throw new ActionError('internal', `Invalid psql variable name: ${name}`);
    argv.push('-v', `${name}=${value}`);
  }
  let env: Record<string, string | undefined>;
  if (typeof connection === 'string') {
    const split = splitConnectionPassword(connection);
    options.masker?.add(connection);
    options.masker?.add(split.password);
    argv.push('-d', split.connection);
    env = split.password === undefined ? {} : { PGPASSWORD: split.password };
  } else {
    argv.push('-h', connection.host, '-p', String(connection.port));
    if (connection.user !== undefined) argv.push('-U', connection.user);
    if (connection.database !== undefined) argv.push('-d', connection.database);
    env = withoutPgEnv();
  }
  argv.push('-f', '-');
  const result = await execChecked(argv, {
    input: sql,
    env: { ...env, PGAPPNAME: 'spark-infra', PGCONNECT_TIMEOUT: '30' },
    echo: false,
    masker: options.masker,
    timeoutMs: options.timeoutMs ?? 300_000,
    logDir: options.logDir,
    label: 'psql',
    what: options.what ?? 'psql',
    reason: options.reason,
    signal: options.signal,
  });
  return result.stdout();
}
