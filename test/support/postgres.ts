// A real PostgreSQL server for tests: initdb in a fresh temp dir, postgres on a free loopback port, unix
// socket inside the temp dir, trust auth. As root the server runs as Debian's `postgres` user. Starting,
// stopping, running as that user and psql are actions/lib/postgres-server.ts, which the dr-drill action uses.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import {
  asPostgresUser,
  chownToPostgres,
  confLine,
  isShellSafePath,
  POSTGRES_OS_USER,
  type PostgresConfValue,
  type PostgresServerProcess,
  postgresServerEnv,
  psql as runPsql,
  startPostgresServer,
  walArchiveCommand,
} from '../../actions/lib/postgres-server.js';
import {
  isRoot,
  makeServerTempDir,
  onProcessExit,
  postgresBinDir,
  requireTool,
  runTool,
} from '../../scripts/lib/system-tools.js';
import { freePort } from './free-port.js';

// Kept here for the tests that import them from this module.
export { asPostgresUser, chownToPostgres, POSTGRES_OS_USER, type PostgresConfValue };

const SUPERUSER = 'postgres';

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

async function runAsServerUser(argv: readonly string[], cwd: string): Promise<string> {
  const [file, ...args] = asPostgresUser(argv);
  if (file === undefined) throw new Error('empty command');
  const { stdout } = await runTool(file, args, { cwd, env: postgresServerEnv(), timeoutMs: 120_000 });
  return stdout;
}

/** Starts a fresh PostgreSQL. Always pair with stop(); a process exit without it still kills the server. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const initdb = requireTool(join(binDir, 'initdb'));
  requireTool(join(binDir, 'postgres'));
  requireTool(join(binDir, 'pg_isready'));
  requireTool(join(binDir, 'psql'));

  const baseDir = makeServerTempDir('spark-pg-');
  let removeExitHook = onProcessExit(() => rmSync(baseDir, { recursive: true, force: true }));
  try {
    chownToPostgres(baseDir);
    const dataDir = join(baseDir, 'data');
    const socketDir = join(baseDir, 'socket');
    const logFile = join(baseDir, 'postgres.log');
    const execLogDir = join(baseDir, 'exec');
    mkdirSync(socketDir, { mode: 0o700 });
    chownToPostgres(socketDir);
    mkdirSync(execLogDir, { mode: 0o700 });
    writeFileSync(logFile, '');

    const walArchiveDir = options.walArchiveDir;
    if (walArchiveDir !== undefined) {
      walArchiveCommand(walArchiveDir); // validates the path before anything is created
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

    // In postgresql.conf, so a base backup of this server carries them as a real one would (archive_command
    // included). The address, port and socket go on the command line.
    const settings: Record<string, PostgresConfValue> = {
      max_connections: 50,
      log_destination: 'stderr',
      logging_collector: false,
    };
    if (walArchiveDir !== undefined) {
      settings.wal_level = 'replica';
      settings.archive_mode = 'on';
      settings.archive_command = walArchiveCommand(walArchiveDir);
    }
    Object.assign(settings, options.extraConf);
    const conf = Object.entries(settings).map(([key, value]) => confLine(key, value));
    await appendFile(join(dataDir, 'postgresql.conf'), `\n# test/support/postgres.ts\n${conf.join('\n')}\n`);

    let running: PostgresServerProcess | undefined;
    for (let attempt = 1; running === undefined; attempt++) {
      const port = await freePort();
      try {
        running = await startPostgresServer({
          dataDir,
          port,
          socketDir,
          logFile,
          binDir,
          execLogDir,
          timeoutMs: 60_000,
          onSpawn: (spawned) => {
            removeExitHook();
            removeExitHook = onProcessExit(() => {
              if (!spawned.exited()) spawned.child.kill('SIGKILL');
              rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
            });
          },
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (attempt < 3 && /could not bind|Address already in use/i.test(message)) continue;
        throw error;
      }
    }
    const server = running;
    const port = server.port;

    let stopped = false;
    return {
      host: '127.0.0.1',
      port,
      pid: server.pid,
      dataDir,
      socketDir,
      logFile,
      connectionString: `postgresql://${SUPERUSER}@127.0.0.1:${port}/postgres?sslmode=disable`,
      superuser: SUPERUSER,
      binDir,
      walArchiveDir,
      psql(sql, psqlOptions = {}) {
        return runPsql(
          { host: '127.0.0.1', port, user: SUPERUSER, database: psqlOptions.database ?? 'postgres' },
          sql,
          {
            binDir,
            logDir: execLogDir,
            timeoutMs: 60_000,
          },
        );
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop(30_000); // fast shutdown
        rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
        removeExitHook();
      },
    };
  } catch (error) {
    rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
    removeExitHook();
    throw error;
  }
}
