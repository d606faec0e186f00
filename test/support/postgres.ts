// A real PostgreSQL server for tests: initdb in a fresh temp dir, postgres on a free loopback port, unix
// socket inside the temp dir, trust auth. As root the server runs as Debian's `postgres` user.
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import {
  hasExited,
  isRoot,
  makeServerTempDir,
  onProcessExit,
  postgresBinDir,
  requireTool,
  runTool,
  spawnDaemon,
  stopDaemon,
} from './tools.js';

/** The OS user the server runs as when the tests run as root (created by Debian's postgresql-common). */
export const POSTGRES_OS_USER = 'postgres';
const SUPERUSER = 'postgres';

export type PostgresConfValue = string | number | boolean;

export interface StartPostgresOptions {
  /** Turns on WAL archiving (archive_mode=on) into this directory, which is created if needed. */
  walArchiveDir?: string;
  /** More postgresql.conf settings; they override the defaults set here. */
  extraConf?: Readonly<Record<string, PostgresConfValue>>;
}

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The postmaster's process id. */
  readonly pid: number;
  /** PGDATA. */
  readonly dataDir: string;
  /** Directory of the unix socket (also a valid `host` for libpq clients). */
  readonly socketDir: string;
  /** The server's stderr log. */
  readonly logFile: string;
  /** libpq URI for the superuser; sslmode=disable because the server has no TLS (lib/pq defaults to require). */
  readonly connectionString: string;
  readonly superuser: string;
  /** Directory of initdb, pg_basebackup, pg_amcheck, ... matching this server's major version. */
  readonly binDir: string;
  readonly walArchiveDir?: string;
  /** Runs SQL (one or more statements) with psql as the superuser; returns unaligned, tuples-only stdout. */
  psql(sql: string, options?: { database?: string }): Promise<string>;
  /** Fast shutdown, then removes the temp dir (not walArchiveDir). Safe to call twice. */
  stop(): Promise<void>;
}

interface OsUser {
  uid: number;
  gid: number;
}

function lookupOsUser(name: string): OsUser {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  const fields = line?.split(':');
  if (fields === undefined || fields[2] === undefined || fields[3] === undefined) {
    throw new Error(
      `The "${name}" user does not exist; it comes with Debian's postgresql package. Install the system tools with \`bash scripts/setup-system.sh\` (as root).`,
    );
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/**
 * As root, `argv` prefixed so that it runs as the postgres OS user (PostgreSQL refuses to run as root);
 * otherwise `argv` unchanged. Useful for later tools that touch a data directory, e.g. pg_ctl or
 * pg_basebackup into a directory the server will use.
 */
export function asPostgresUser(argv: readonly string[]): string[] {
  if (!isRoot()) return [...argv];
  return [
    requireTool('setpriv'),
    `--reuid=${POSTGRES_OS_USER}`,
    `--regid=${POSTGRES_OS_USER}`,
    '--init-groups',
    '--',
    ...argv,
  ];
}

/** As root, hands `path` to the postgres OS user so the server can write there. A no-op otherwise. */
export function chownToPostgres(path: string): void {
  if (!isRoot()) return;
  const user = lookupOsUser(POSTGRES_OS_USER);
  chownSync(path, user.uid, user.gid);
}

function confLine(key: string, value: PostgresConfValue): string {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(key)) throw new Error(`invalid postgresql.conf key: ${key}`);
  const text = typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value);
  if (/[\n\r]/.test(text)) throw new Error(`invalid postgresql.conf value for ${key}: contains a line break`);
  return `${key} = '${text.replaceAll("'", "''")}'`;
}

function archiveCommand(dir: string): string {
  // archive_command is run by the server through /bin/sh; keep the directory free of anything that
  // would need quoting there or escaping from PostgreSQL's % placeholders.
  if (!/^\/[A-Za-z0-9_./-]+$/.test(dir)) {
    throw new Error(`walArchiveDir must be an absolute path of [A-Za-z0-9_./-] characters, got: ${dir}`);
  }
  // Copy under a temporary name and rename, so a segment appears in the archive only when complete.
  return `test ! -f ${dir}/%f && cp %p ${dir}/%f.partial && mv ${dir}/%f.partial ${dir}/%f`;
}

async function runAsServerUser(argv: readonly string[], cwd: string): Promise<string> {
  const [file, ...args] = asPostgresUser(argv);
  if (file === undefined) throw new Error('empty command');
  const { stdout } = await runTool(file, args, { cwd, env: serverEnv(), timeoutMs: 120_000 });
  return stdout;
}

/** The caller's environment without PG* variables, which would redirect the server or its clients. */
function clientEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('PG')) delete env[key];
  return env;
}

function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...clientEnv(), LC_ALL: 'C', LANG: 'C' };
  if (isRoot()) env.HOME = '/var/lib/postgresql';
  return env;
}

async function waitUntilReady(
  isReady: () => Promise<boolean>,
  hasDied: () => boolean,
  timeoutMs: number,
): Promise<'ready' | 'died' | 'timeout'> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasDied()) return 'died';
    if (await isReady()) return 'ready';
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 'timeout';
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a fresh PostgreSQL. Always pair with stop(); a process exit without it still kills the server. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const bin = (name: string) => requireTool(join(binDir, name));
  const initdb = bin('initdb');
  const postgres = bin('postgres');
  const pgIsready = bin('pg_isready');
  const psqlPath = bin('psql');

  const baseDir = makeServerTempDir('spark-pg-');
  let removeExitHook = onProcessExit(() => rmSync(baseDir, { recursive: true, force: true }));
  try {
    chownToPostgres(baseDir);
    const dataDir = join(baseDir, 'data');
    const socketDir = join(baseDir, 'socket');
    const logFile = join(baseDir, 'postgres.log');
    mkdirSync(socketDir, { mode: 0o700 });
    chownToPostgres(socketDir);
    writeFileSync(logFile, '');
    chownToPostgres(logFile);

    const walArchiveDir = options.walArchiveDir;
    if (walArchiveDir !== undefined) {
      archiveCommand(walArchiveDir); // validates the path before anything is created
      if (!existsSync(walArchiveDir)) mkdirSync(walArchiveDir, { recursive: true });
      chownToPostgres(walArchiveDir);
      try {
        await runAsServerUser([requireTool('test'), '-w', walArchiveDir, '-a', '-x', walArchiveDir], baseDir);
      } catch {
        throw new Error(
          `walArchiveDir ${walArchiveDir} is not writable by the "${isRoot() ? POSTGRES_OS_USER : userInfo().username}" user; its parent directories must be searchable (mode o+x)`,
        );
      }
    }

    await runAsServerUser(
      [initdb, '-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      baseDir,
    );

    const settings: Record<string, PostgresConfValue> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: socketDir,
      max_connections: 50,
      log_destination: 'stderr',
      logging_collector: false,
    };
    if (walArchiveDir !== undefined) {
      settings.wal_level = 'replica';
      settings.archive_mode = 'on';
      settings.archive_command = archiveCommand(walArchiveDir);
    }
    Object.assign(settings, options.extraConf);

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const conf = Object.entries({ ...settings, port }).map(([key, value]) => confLine(key, value));
      await appendFile(
        join(dataDir, 'postgresql.conf'),
        `\n# test/support/postgres.ts, attempt ${attempt}\n${conf.join('\n')}\n`,
      );
      const child = spawnDaemon(postgres, ['-D', dataDir], {
        cwd: baseDir,
        env: serverEnv(),
        logFile,
        user: isRoot() ? POSTGRES_OS_USER : undefined,
        parentDeathSignal: 'SIGINT',
      });
      removeExitHook();
      removeExitHook = onProcessExit(() => {
        if (!hasExited(child)) child.kill('SIGKILL');
        rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
      });
      const state = await waitUntilReady(
        async () => {
          try {
            await runTool(pgIsready, ['-q', '-h', socketDir, '-p', String(port), '-t', '1'], {
              env: clientEnv(),
            });
            return true;
          } catch {
            return false;
          }
        },
        () => hasExited(child),
        60_000,
      );
      if (state !== 'ready') {
        await stopDaemon(child, 'SIGQUIT', 5_000);
        const log = tail(logFile);
        if (state === 'died' && attempt < 3 && /could not bind|Address already in use/i.test(log)) continue;
        throw new Error(`PostgreSQL did not start (${state}) on port ${port}; log ${logFile}:\n${log}`);
      }

      let stopped = false;
      const server: PostgresServer = {
        host: '127.0.0.1',
        port,
        pid: child.pid ?? -1,
        dataDir,
        socketDir,
        logFile,
        connectionString: `postgresql://${SUPERUSER}@127.0.0.1:${port}/postgres?sslmode=disable`,
        superuser: SUPERUSER,
        binDir,
        walArchiveDir,
        async psql(sql, psqlOptions = {}) {
          const args = [
            '-X',
            '-q',
            '-A',
            '-t',
            '-v',
            'ON_ERROR_STOP=1',
            '-h',
            '127.0.0.1',
            '-p',
            String(port),
          ];
          args.push('-U', SUPERUSER, '-d', psqlOptions.database ?? 'postgres', '-f', '-');
          const { stdout } = await runTool(psqlPath, args, { input: sql, env: clientEnv() });
          return stdout;
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          await stopDaemon(child, 'SIGINT'); // fast shutdown
          rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
          removeExitHook();
        },
      };
      return server;
    }
  } catch (error) {
    rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
    removeExitHook();
    throw error;
  }
}
