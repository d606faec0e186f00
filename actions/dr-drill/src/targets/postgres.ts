/**
 * The PostgreSQL target of a drill: restore the newest base backup into a scratch data directory, replay the
 * WAL archive into it on a throw-away server (loopback, own socket, archiving off), and check what it holds.
 *
 * With a `source` (the live database) the drill first writes a marker row, then, with every user table locked
 * in SHARE mode (writers wait, readers do not) and inside one REPEATABLE READ snapshot, counts and hashes each
 * table and creates a named restore point; only then is the lock released. So nothing the drill read can
 * change before the restore point, and the copy, recovered to exactly that point, must hold the same rows.
 * Then `pg_switch_wal()` closes the segment and the drill waits until it is in the archive. Writers on the
 * source wait for as long as the hashing takes; `lock_timeout` bounds how long the drill waits for them.
 * Unlogged tables are left out: their contents are never in WAL, so every restore has them empty.
 *
 * Recovery point (RPO = drill start - recovery point):
 * - with a restore point: the time stored in the restore point's WAL record, as the copy's server reports it
 *   when it stops there (`recovery stopping at restore point "...", time ...`); fallback: the source's clock
 *   when the point was created. Every transaction committed before that moment is in the copy. The drill
 *   makes that point itself, after the drill started, so RPO comes out at or below zero: the archive was
 *   current when asked. How far it lagged before the drill switched WAL is in the mark-source phase detail.
 * - without: `pg_last_xact_replay_timestamp()` on the promoted copy, the commit time of the newest transaction
 *   replayed from the archive (PostgreSQL keeps it after promotion); fallbacks, in order: the log's
 *   `last completed transaction was at log time`, the backup's STOP TIME from the archive's `.backup` history
 *   file, backup_label's START TIME. An idle database makes this older than the archive is: it is the newest
 *   data, not the newest WAL. The times come from the source server's clock.
 *
 * What fails how (PostgreSQL 15, checked by the tests): recovery that cannot reach the restore point (missing
 * or damaged WAL after the backup) ends with FATAL `recovery ended before configured recovery target was
 * reached` → `verification-failed`. Without a restore point PostgreSQL ends recovery at the first missing or
 * damaged record and promotes as if the archive ended there; the drill compares where recovery stopped with
 * the archive's newest segment (listed before recovery began) and fails with `verification-failed` when
 * segments were left unreplayed. A server that dies otherwise, or cannot start, is `restore-failed`.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import {
  type ExecOptions,
  type ExecResult,
  execCommand,
  findExecutable,
  lastLines,
} from '../../../lib/exec.js';
import { freePort } from '../../../lib/free-port.js';
import {
  asPostgresUser,
  chownToPostgres,
  isRoot,
  type PostgresConnection,
  type PostgresServerProcess,
  postgresBinDir,
  postgresLibBinDir,
  postgresMajor,
  postgresTool,
  psql,
  spawnPostgresServer,
  splitConnectionPassword,
  withoutPgEnv,
} from '../../../lib/postgres-server.js';
import { withHeartbeat } from '../../../lib/progress.js';
import type { Check, DrillContext, PostgresTarget, TargetResult } from '../types.js';
import {
  archiveEnd,
  type BaseBackup,
  emptyRecoveryLog,
  listBaseBackups,
  parseBackupLabel,
  parseLsn,
  parseTimelineHistory,
  pickNewestBackup,
  type RecoveryLog,
  recoveryConf,
  restoreCommand,
  scanRecoveryLog,
  UnsafePathError,
  walFileName,
  walSegments,
  walStopReason,
} from './postgres-backups.js';
import { DrillFailure, errorText, pause, phaseRunner, untilAborted } from './steps.js';

export interface PostgresDrillOptions {
  /** How long to wait for the switched WAL segment to appear in the archive. Default 5 min. */
  archiveWaitMs?: number;
  /** `lock_timeout` on the source while taking the SHARE locks. Default `60s`. */
  lockTimeout?: string;
  /** Limit for the SQL run on the source (marker, hashes, restore point). Default 1 h. */
  sourceTimeoutMs?: number;
  /** Limit for each copy, extraction and check command. Default 6 h. */
  commandTimeoutMs?: number;
  /** Status line interval while waiting. Default 30 s. */
  heartbeatMs?: number;
}

const iso = (ms: number | undefined) => (ms === undefined ? 'unknown' : new Date(ms).toISOString());

/** Session settings that fix how values print, so the copy hashes a row to the same text as the source. */
const STABLE_OUTPUT = `SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SET bytea_output = 'hex';
SET lc_monetary = 'C';
`;

/** Permanent, non-system tables (leaf partitions included; unlogged ones have no WAL, temp ones no future). */
const USER_TABLES = `FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;

/**
 * For `\gexec`: one query per table printing `{"kind":"table","table":"schema.name","rows":n,"hash":"h"}`.
 * The hash is the sum of each row's md5 (first 64 bits): independent of row order and collation, constant
 * memory, with the row count beside it.
 */
const tableHashQueries = (condition: string) => `SELECT format(
  $spark$SELECT json_build_object('kind', 'table', 'table', %L, 'rows', count(*), 'hash',
    coalesce(sum(('x' || left(md5(ROW(spark_row.*)::text), 16))::bit(64)::bigint), 0)::text)::text
  FROM %I.%I AS spark_row$spark$, format('%I.%I', n.nspname, c.relname), n.nspname, c.relname)
${USER_TABLES} ${condition}
ORDER BY n.nspname, c.relname \\gexec
`;

/** Run on the source: marker row, locked snapshot hashes, restore point, WAL switch. */
const MARK_SOURCE_SQL = `SET lock_timeout = :'lock_timeout';
${STABLE_OUTPUT}CREATE SCHEMA IF NOT EXISTS spark_dr_drill;
CREATE TABLE IF NOT EXISTS spark_dr_drill.marker (
  id bigserial PRIMARY KEY,
  drill_id text NOT NULL UNIQUE,
  drilled_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO spark_dr_drill.marker (drill_id) VALUES (:'drill_id');
SELECT json_build_object('kind', 'source', 'database', current_database(),
  'superuser', (SELECT rolname FROM pg_roles WHERE oid = 10),
  'lastArchived', a.last_archived_wal,
  'lastArchivedAt', extract(epoch FROM a.last_archived_time) * 1000,
  'lastFailed', a.last_failed_wal, 'archiveMode', current_setting('archive_mode'))::text
FROM pg_stat_archiver a;
SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY n.nspname, c.relname) AS spark_lock_list
${USER_TABLES} \\gset
BEGIN ISOLATION LEVEL REPEATABLE READ;
LOCK TABLE :spark_lock_list IN SHARE MODE;
${tableHashQueries(`AND c.oid IN (SELECT l.relation FROM pg_locks l
  WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.mode = 'ShareLock' AND l.granted)`)}
SELECT json_build_object('kind', 'point', 'lsn', pg_create_restore_point(:'point'),
  'at', extract(epoch FROM clock_timestamp()) * 1000)::text;
COMMIT;
SELECT json_build_object('kind', 'switch', 'segment', pg_walfile_name(pg_switch_wal()))::text;
`;

/** Run on the copy, in the source's database: the marker row and the same hashes. */
const VERIFY_COPY_SQL = `${STABLE_OUTPUT}SELECT CASE WHEN to_regclass('spark_dr_drill.marker') IS NULL
  THEN $spark$SELECT json_build_object('kind', 'marker', 'count', 0)::text$spark$
  ELSE format($spark$SELECT json_build_object('kind', 'marker', 'count', count(*))::text
    FROM spark_dr_drill.marker WHERE drill_id = %L$spark$, :'drill_id') END \\gexec
${tableHashQueries('')}`;

/** Server settings for the copy, on its command line so that nothing in the backup's files overrides them. */
function scratchServerConf(dataDir: string, confDir: string): Record<string, string | number | boolean> {
  return {
    data_directory: dataDir,
    hba_file: join(confDir, 'pg_hba.conf'),
    ident_file: join(confDir, 'pg_ident.conf'),
    external_pid_file: join(confDir, 'postmaster.pid'),
    unix_socket_permissions: '0700',
    unix_socket_group: '',
    // Never write into the production archive, never follow or feed a primary, never clean the archive.
    archive_mode: 'off',
    archive_command: '',
    archive_cleanup_command: '',
    recovery_end_command: '',
    primary_conninfo: '',
    primary_slot_name: '',
    synchronous_standby_names: '',
    // No connections until promoted (so no hot-standby parameter checks), then writable for pg_amcheck.
    hot_standby: false,
    default_transaction_read_only: false,
    shared_buffers: '32MB',
    huge_pages: 'try',
    ssl: false,
    cluster_name: 'spark-dr-drill',
    // The drill reads this log: plain stderr, English, UTC, LOG level kept.
    logging_collector: false,
    log_destination: 'stderr',
    log_min_messages: 'warning',
    log_line_prefix: '%m [%p] ',
    lc_messages: 'C',
    log_timezone: 'UTC',
    timezone: 'UTC',
  };
}

function parseJsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface TableHash {
  rows: number;
  hash: string;
}

function tableHashes(rows: Array<Record<string, unknown>>): Map<string, TableHash> {
  const tables = new Map<string, TableHash>();
  for (const row of rows) {
    if (row.kind === 'table')
      tables.set(String(row.table), { rows: Number(row.rows), hash: String(row.hash) });
  }
  return tables;
}

const describeHash = (value: TableHash | undefined) =>
  value === undefined ? 'missing' : `${value.rows} rows, hash ${value.hash}`;

/** Reads a file as it grows, whole lines only. */
class LogFollower {
  private offset = 0;
  private partial = '';

  constructor(private readonly file: string) {}

  read(): string {
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return '';
    }
    try {
      const chunks: Buffer[] = [];
      const buffer = Buffer.alloc(64 * 1024);
      for (;;) {
        const got = readSync(fd, buffer, 0, buffer.length, this.offset);
        if (got === 0) break;
        chunks.push(Buffer.from(buffer.subarray(0, got)));
        this.offset += got;
      }
      const text = this.partial + Buffer.concat(chunks).toString('utf8');
      const end = text.lastIndexOf('\n');
      this.partial = text.slice(end + 1);
      return text.slice(0, end + 1);
    } finally {
      closeSync(fd);
    }
  }
}

interface SourceMark {
  database: string;
  superuser: string;
  point: string;
  pointLsn: string;
  pointAt: number;
  segment: string;
  tables: Map<string, TableHash>;
  lastArchivedAt?: number;
}

/** Restores the newest base backup of `target` and replays its WAL archive. Drill failures are results. */
export async function drillPostgres(
  target: PostgresTarget,
  ctx: DrillContext,
  options: PostgresDrillOptions = {},
): Promise<TargetResult> {
  const result: TargetResult = { name: target.name, kind: 'postgres', ok: false, phases: [], checks: [] };
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const commandTimeoutMs = options.commandTimeoutMs ?? 6 * 3_600_000;
  if (target.source !== undefined) {
    ctx.masker.add(target.source);
    ctx.masker.add(splitConnectionPassword(target.source).password);
  }
  const prefix = `pg-${target.name.slice(0, 24)}`;
  let logDir = ''; // made first thing in the try block below
  const drillId = `spark-drill-${new Date(ctx.now()).toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
  const say = (line: string) => ctx.log(ctx.masker.mask(`postgres ${target.name}: ${line}`));
  const archiveDir = resolve(target.walArchive);
  const backupsDir = resolve(target.baseBackups);
  let server: PostgresServerProcess | undefined;
  let chosen: BaseBackup | undefined;
  let mark: SourceMark | undefined;

  const phase = phaseRunner({ name: target.name, ctx, result, heartbeatMs });

  /** Runs a command; an abort fails at once, and cleanup waits for the command before removing its files. */
  async function run(argv: string[], what: string, extra: ExecOptions = {}): Promise<ExecResult> {
    const pending = execCommand(argv, {
      echo: false,
      logDir,
      masker: ctx.masker,
      timeoutMs: commandTimeoutMs,
      signal: ctx.signal,
      ...extra,
    });
    ctx.scratch.onCleanup(`wait for ${what}`, () =>
      pending.then(
        () => undefined,
        () => undefined,
      ),
    );
    const out = await untilAborted(pending, ctx.signal, what);
    if (out.timedOut) throw new DrillFailure('timeout', `${what} did not finish within its time limit.`);
    return out;
  }

  const failedCommand = (what: string, out: ExecResult) => {
    const how = out.exitCode === null ? `was stopped by ${out.signal}` : `exited with code ${out.exitCode}`;
    const tail = lastLines(`${out.stdout()}\n${out.stderr()}`, 12).join('\n');
    return `${what} ${how}${tail ? `:\n${tail}` : '.'}`;
  };

  const tarReader = async (archive: string, member: string): Promise<string | undefined> => {
    const argv = ['tar', '-x', '-O', '-f', archive, ...(archive.endsWith('.gz') ? ['-z'] : [])];
    const out = await run([...argv, '--occurrence=1', member], `reading ${member} from ${archive}`);
    return out.exitCode === 0 && out.stdout() !== '' ? out.stdout() : undefined;
  };

  try {
    logDir = ctx.scratch.dir(`${prefix}-logs`);
    // -------------------------------------------------------------------------------------------- find-backup
    const found = await phase(
      'find-backup',
      'backup-missing',
      async () => {
        try {
          restoreCommand(archiveDir);
        } catch (error) {
          if (error instanceof UnsafePathError) throw new DrillFailure('restore-failed', error.message);
          throw error;
        }
        if (!existsSync(archiveDir) || !statSync(archiveDir).isDirectory()) {
          throw new DrillFailure(
            'backup-missing',
            `The WAL archive ${archiveDir} does not exist or is no directory.`,
          );
        }
        let listing: Awaited<ReturnType<typeof listBaseBackups>>;
        try {
          listing = await listBaseBackups(backupsDir, tarReader);
        } catch (error) {
          if (error instanceof DrillFailure) throw error;
          throw new DrillFailure(
            'backup-missing',
            `The base backup directory ${backupsDir} cannot be read: ${errorText(error)}`,
          );
        }
        const { backup, skipped } = pickNewestBackup(listing.backups);
        if (backup === undefined) {
          const ignored = listing.ignored.length > 0 ? ` Ignored: ${listing.ignored.join('; ')}.` : '';
          throw new DrillFailure(
            'backup-missing',
            `No base backup in ${backupsDir}: expected one sub-directory per pg_basebackup run, holding backup_label and PG_VERSION (plain, -Fp) or base.tar / base.tar.gz (tar, -Ft).${ignored}`,
          );
        }
        result.backup = backup.path;
        if (backup.layout.unsupported !== undefined) {
          throw new DrillFailure(
            'restore-failed',
            `Backup ${backup.path} cannot be restored: ${backup.layout.unsupported}.`,
          );
        }
        if (backup.layout.tablespaceArchives.length > 0) {
          throw new DrillFailure(
            'restore-failed',
            `Backup ${backup.path} has tablespaces (${backup.layout.tablespaceArchives.join(', ')}), which the drill cannot relocate into a scratch place.`,
          );
        }
        return { backup, skipped, count: listing.backups.length };
      },
      ({ backup, skipped, count }) => {
        const by = backup.startedFrom === 'backup_label' ? 'backup_label START TIME' : 'directory mtime';
        const skippedText =
          skipped.length > 0
            ? `; passed over ${skipped.map((b) => b.name).join(', ')} (no backup_manifest yet)`
            : '';
        return `${backup.name} (${backup.layout.format}, started ${iso(backup.startedAt)}): newest of ${count} by ${by}${skippedText}`;
      },
    );
    const backup = found.backup;
    chosen = backup;

    // -------------------------------------------------------------------------------------------- mark-source
    if (target.source !== undefined) {
      const source = target.source;
      mark = await phase(
        'mark-source',
        'verification-failed',
        () => markSource(source),
        (m) => {
          const rows = [...m.tables.values()].reduce((sum, t) => sum + t.rows, 0);
          const lag =
            m.lastArchivedAt === undefined
              ? ''
              : `; before the drill the newest archived segment was ${Math.round((m.pointAt - m.lastArchivedAt) / 1000)} s old`;
          return `restore point ${m.point} at ${iso(m.pointAt)} (${m.pointLsn}) in ${m.database}: ${m.tables.size} tables, ${rows} rows; ${m.segment} archived${lag}`;
        },
      );
    }

    // ------------------------------------------------------------------------------------------------ restore
    result.restoreStartedAt = ctx.now();
    const restored = await phase(
      'restore',
      'restore-failed',
      () => restore(backup),
      (r) => r.detail,
    );

    // ------------------------------------------------------------------------------------------------ recover
    const recovery = await phase(
      'recover',
      'restore-failed',
      () => recover(restored),
      (log) =>
        `promoted after restoring ${log.restored} WAL files from the archive${log.lastRestored ? ` (last ${log.lastRestored})` : ''}${log.redoDoneAt ? `; redo done at ${log.redoDoneAt}` : ''}`,
    );

    // ------------------------------------------------------------------------------------------------- verify
    await phase(
      'verify',
      'verification-failed',
      () => verify(restored, recovery),
      (how) => how,
    );
  } catch (error) {
    const failed =
      error instanceof DrillFailure ? error : new DrillFailure('restore-failed', errorText(error));
    result.ok = false;
    result.failure = failed.failure;
    result.message = ctx.masker.mask(`${target.name}: ${failed.message}`);
  } finally {
    if (server !== undefined) {
      try {
        await server.stop(15_000);
      } catch {
        // the scratch cleanup stops it for good
      }
    }
  }
  for (const entry of result.checks) {
    if (entry.expected !== undefined) entry.expected = ctx.masker.mask(entry.expected);
    if (entry.actual !== undefined) entry.actual = ctx.masker.mask(entry.actual);
  }
  return result;

  // =========================================================================================== the phases

  async function markSource(source: PostgresConnection): Promise<SourceMark> {
    const point = drillId;
    let rows: Array<Record<string, unknown>>;
    try {
      const out = await untilAborted(
        psql(source, MARK_SOURCE_SQL, {
          masker: ctx.masker,
          signal: ctx.signal,
          variables: { drill_id: drillId, point, lock_timeout: options.lockTimeout ?? '60s' },
          timeoutMs: options.sourceTimeoutMs ?? 3_600_000,
          logDir,
          what: 'Marking the source database',
        }),
        ctx.signal,
        'marking the source database',
      );
      rows = parseJsonLines(out);
    } catch (error) {
      if (error instanceof DrillFailure) throw error;
      throw new DrillFailure('verification-failed', errorText(error));
    }
    const info = rows.find((row) => row.kind === 'source');
    const created = rows.find((row) => row.kind === 'point');
    const switched = rows.find((row) => row.kind === 'switch');
    if (!info || !created || !switched) {
      throw new DrillFailure(
        'verification-failed',
        'Marking the source printed no restore point or WAL switch.',
      );
    }
    const segment = String(switched.segment);
    if (info.archiveMode === 'off') {
      throw new DrillFailure(
        'verification-failed',
        `The source does not archive WAL (archive_mode = off), so ${archiveDir} cannot receive ${segment}.`,
      );
    }
    const mark: SourceMark = {
      database: String(info.database),
      superuser: String(info.superuser),
      point,
      pointLsn: String(created.lsn),
      pointAt: Number(created.at),
      segment,
      tables: tableHashes(rows),
      lastArchivedAt: typeof info.lastArchivedAt === 'number' ? info.lastArchivedAt : undefined,
    };
    say(`restore point ${point} at ${mark.pointLsn}; waiting for ${segment} in ${archiveDir}`);
    const waitMs = options.archiveWaitMs ?? 300_000;
    const deadline = Date.now() + waitMs;
    await withHeartbeat(
      `waiting for ${segment} to be archived`,
      async () => {
        while (!existsSync(join(archiveDir, segment))) {
          if (ctx.signal.aborted)
            throw new DrillFailure('timeout', `The drill timed out waiting for ${segment} to be archived.`);
          if (Date.now() > deadline) {
            let status = '';
            try {
              status = await psql(
                source,
                "SELECT format('last archived %s at %s, last failed %s at %s', last_archived_wal, last_archived_time, last_failed_wal, last_failed_time) FROM pg_stat_archiver;",
                { masker: ctx.masker, timeoutMs: 60_000, logDir },
              );
            } catch (error) {
              status = errorText(error);
            }
            throw new DrillFailure(
              'verification-failed',
              `WAL segment ${segment} (with restore point ${point}) did not reach the archive ${archiveDir} within ${Math.round(waitMs / 1000)} s; pg_stat_archiver: ${status.trim()}`,
            );
          }
          await pause(500, ctx.signal);
        }
      },
      { intervalMs: heartbeatMs, log: say },
    );
    return mark;
  }

  interface Restored {
    dataDir: string;
    socketDir: string;
    confDir: string;
    binDir: string;
    /** Archive file names before recovery began. */
    archiveFiles: string[];
    detail: string;
  }

  async function restore(from: BaseBackup): Promise<Restored> {
    if (isRoot()) chmodSync(ctx.scratch.root, 0o711); // lets the postgres user reach its own directories
    const dataDir = ctx.scratch.dir(`${prefix}-data`);
    const socketDir = ctx.scratch.shortDir('spark-drill-sock');
    const confDir = ctx.scratch.dir(`${prefix}-conf`);

    say(`restoring ${from.path} (${from.layout.format}) into ${dataDir}`);
    if (from.layout.format === 'plain') {
      const out = await run(['cp', '-a', '--', `${from.path}/.`, `${dataDir}/`], `copying ${from.path}`);
      if (out.exitCode !== 0)
        throw new DrillFailure('restore-failed', failedCommand(`Copying ${from.path}`, out));
      // pg_basebackup --waldir makes pg_wal a symlink: the copy gets its own, never the backup's directory.
      const walDir = join(dataDir, 'pg_wal');
      if (lstatSync(walDir, { throwIfNoEntry: false })?.isSymbolicLink()) {
        const linked = realpathSync(walDir);
        rmSync(walDir);
        await run(['mkdir', '--', walDir], `creating ${walDir}`);
        const copied = await run(['cp', '-a', '--', `${linked}/.`, `${walDir}/`], `copying ${linked}`);
        if (copied.exitCode !== 0)
          throw new DrillFailure('restore-failed', failedCommand(`Copying ${linked}`, copied));
      }
    } else {
      const archives: Array<[string, string]> = [[from.layout.baseArchive as string, dataDir]];
      if (from.layout.walArchive !== undefined)
        archives.push([from.layout.walArchive, join(dataDir, 'pg_wal')]);
      for (const [name, into] of archives) {
        if (!existsSync(into)) await run(['mkdir', '-p', '--', into], `creating ${into}`);
        const file = join(from.path, name);
        const argv = [
          'tar',
          '-x',
          '-f',
          file,
          ...(name.endsWith('.gz') ? ['-z'] : []),
          '--no-same-owner',
          '-C',
          into,
        ];
        const out = await run(argv, `extracting ${file}`);
        if (out.exitCode !== 0)
          throw new DrillFailure('restore-failed', failedCommand(`Extracting ${file}`, out));
      }
    }

    const versionFile = join(dataDir, 'PG_VERSION');
    if (!existsSync(versionFile))
      throw new DrillFailure('restore-failed', `The restored ${from.path} has no PG_VERSION.`);
    const major = Number(readFileSync(versionFile, 'utf8').trim());
    const binDir = await binDirFor(major);

    const tablespaces = existsSync(join(dataDir, 'pg_tblspc')) ? readdirSync(join(dataDir, 'pg_tblspc')) : [];
    const mapFile = join(dataDir, 'tablespace_map');
    if (tablespaces.length > 0 || (existsSync(mapFile) && readFileSync(mapFile, 'utf8').trim() !== '')) {
      throw new DrillFailure(
        'restore-failed',
        `Backup ${from.path} has tablespaces (${tablespaces.join(', ') || 'tablespace_map'}), which the drill cannot relocate into a scratch place.`,
      );
    }

    // The copy's files against the backup's manifest (sizes and checksums), before the drill adds any.
    if (from.hasManifest) {
      const argv = [
        postgresTool('pg_verifybackup', binDir),
        '-n',
        '-q',
        '-m',
        join(from.path, 'backup_manifest'),
        dataDir,
      ];
      const out = await run(argv, 'pg_verifybackup');
      result.checks.push({
        name: 'backup matches its backup_manifest',
        ok: out.exitCode === 0,
        expected: 'every file with its size and checksum (pg_verifybackup)',
        actual:
          out.exitCode === 0
            ? 'all files match'
            : lastLines(`${out.stdout()}\n${out.stderr()}`, 8).join('\n') || `exit code ${out.exitCode}`,
      });
    }

    // Nothing of the backup's own role may survive: no standby, no old server files.
    for (const name of ['standby.signal', 'recovery.signal', 'postmaster.pid', 'postmaster.opts']) {
      rmSync(join(dataDir, name), { force: true });
    }
    if (!existsSync(join(dataDir, 'postgresql.conf'))) {
      // Debian keeps postgresql.conf in /etc, outside the data directory and so outside the backup.
      writeFileSync(join(dataDir, 'postgresql.conf'), '# written by spark dr-drill: the backup had none\n');
    }
    const autoConf = join(dataDir, 'postgresql.auto.conf');
    const previous = existsSync(autoConf) ? readFileSync(autoConf, 'utf8') : '';
    writeFileSync(
      autoConf,
      `${previous}${previous.endsWith('\n') || previous === '' ? '' : '\n'}${recoveryConf({ archiveDir, targetName: mark?.point })}`,
    );
    writeFileSync(join(dataDir, 'recovery.signal'), '');
    // Only local connections through the private socket; TCP on loopback is refused.
    writeFileSync(join(confDir, 'pg_hba.conf'), 'local all all trust\n');
    writeFileSync(join(confDir, 'pg_ident.conf'), '');
    chmodSync(dataDir, 0o700);
    chownToPostgres(dataDir, { recursive: true });
    chownToPostgres(socketDir);
    chownToPostgres(confDir, { recursive: true });
    if (isRoot()) await checkPostgresUserCanReach(dataDir, socketDir, confDir);

    const archiveFiles = readdirSync(archiveDir);
    const label = from.label ?? parseBackupLabel(readFileSync(join(dataDir, 'backup_label'), 'utf8'));
    from.label = label;
    return {
      dataDir,
      socketDir,
      confDir,
      binDir,
      archiveFiles,
      detail: `${from.path} → ${dataDir} (PostgreSQL ${major}, backup start ${label.startLsn ?? '?'}); ${walSegments(archiveFiles).length} WAL segments in the archive`,
    };

    async function checkPostgresUserCanReach(...dirs: string[]): Promise<void> {
      const test = findExecutable('test') ?? '/usr/bin/test';
      const checks: string[] = ['-r', archiveDir, '-a', '-x', archiveDir];
      for (const dir of dirs) checks.push('-a', '-w', dir, '-a', '-x', dir);
      const out = await run(asPostgresUser([test, ...checks]), 'access check');
      if (out.exitCode !== 0) {
        throw new DrillFailure(
          'restore-failed',
          `The postgres OS user cannot read the WAL archive ${archiveDir} or reach the scratch directories under ${ctx.scratch.root}; every parent directory must be searchable (o+x).`,
        );
      }
    }
  }

  async function binDirFor(major: number): Promise<string> {
    const lib = postgresLibBinDir(major);
    if (lib !== undefined) return lib;
    try {
      const any = postgresBinDir();
      if ((await postgresMajor(any)) === major) return any;
    } catch {
      // reported below
    }
    throw new DrillFailure(
      'restore-failed',
      `The backup is PostgreSQL ${major}, but PostgreSQL ${major}'s server binaries are not installed on this runner.`,
    );
  }

  async function recover(restored: Restored): Promise<RecoveryLog> {
    const { dataDir, socketDir, confDir, binDir } = restored;
    const logFile = join(logDir, 'postgres.log');
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const follower = new LogFollower(logFile);
      follower.read(); // skip earlier attempts
      say(
        `starting the restored copy on 127.0.0.1:${port} (recovery${mark ? ` to ${mark.point}` : ' to the end of the archive'})`,
      );
      const spawned = spawnPostgresServer({
        dataDir,
        port,
        socketDir,
        logFile,
        binDir,
        conf: scratchServerConf(dataDir, confDir),
      });
      server = spawned;
      ctx.scratch.track(spawned.child, `restored PostgreSQL (pid ${spawned.pid}, port ${port})`);
      const log = emptyRecoveryLog();
      const outcome = await withHeartbeat(
        'recovering from the WAL archive',
        () => waitForPromotion(spawned, follower, log, mark?.superuser ?? 'postgres'),
        {
          intervalMs: heartbeatMs,
          log: say,
          status: () =>
            `${log.restored} WAL files restored${log.lastRestored ? `, last ${log.lastRestored}` : ''}`,
        },
      );
      if (outcome === 'promoted') return log;
      const tail = spawned.logTail(20);
      if (outcome === 'bind-failed' && attempt < 3) continue;
      if (log.targetNotReached) {
        const why = targetMissedReason(restored, log);
        result.checks.push({
          name: 'restore point reached',
          ok: false,
          expected: `stopped at ${mark?.point}`,
          actual: `recovery ended before it${log.redoDoneAt ? ` at ${log.redoDoneAt}` : ''}: ${why}`,
        });
        throw new DrillFailure(
          'verification-failed',
          `Recovery ended before reaching restore point ${mark?.point}: ${why}. Last lines of the server log:\n${spawned.logTail(12)}`,
        );
      }
      if (outcome === 'paused') {
        throw new DrillFailure(
          'restore-failed',
          `Recovery paused instead of promoting. Last lines of the server log:\n${tail}`,
        );
      }
      throw new DrillFailure(
        'restore-failed',
        `The restored server exited during recovery${log.fatal ? ` (${log.fatal})` : ''}. Last lines of the server log:\n${tail}`,
      );
    }
  }

  /** Why recovery to the restore point ran out of WAL: the segment after the last one restored, examined. */
  function targetMissedReason(restored: Restored, log: RecoveryLog): string {
    const last = log.lastRestored;
    if (last === undefined) return 'no WAL segment could be restored from the archive';
    let segmentSize = 0;
    try {
      segmentSize = statSync(join(archiveDir, last)).size;
    } catch {
      // removed meanwhile
    }
    if (!(segmentSize > 0) || (segmentSize & (segmentSize - 1)) !== 0) {
      return `the WAL archive lacks a segment or holds a damaged one after ${last}${log.walEnd ? ` (${log.walEnd})` : ''}`;
    }
    return walStopReason({
      stop: last,
      segmentSize,
      archiveFiles: restored.archiveFiles,
      walEnd: log.walEnd,
    });
  }

  async function waitForPromotion(
    spawned: PostgresServerProcess,
    follower: LogFollower,
    log: RecoveryLog,
    user: string,
  ): Promise<'promoted' | 'died' | 'bind-failed' | 'paused'> {
    for (;;) {
      scanRecoveryLog(follower.read(), log);
      if (ctx.signal.aborted) {
        throw new DrillFailure(
          'timeout',
          `The drill timed out during recovery after ${log.restored} WAL files${log.lastRestored ? ` (last ${log.lastRestored})` : ''}.`,
        );
      }
      if (spawned.exited()) {
        await pause(100, ctx.signal);
        scanRecoveryLog(follower.read(), log);
        return /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(
          spawned.logTail(10),
        )
          ? 'bind-failed'
          : 'died';
      }
      if (log.paused) return 'paused';
      if (log.ready) {
        try {
          const state = await psql(
            { host: spawned.socketDir, port: spawned.port, user, database: 'template1' },
            'SELECT pg_is_in_recovery();',
            { binDir: spawned.binDir, logDir, timeoutMs: 60_000, masker: ctx.masker },
          );
          if (state.trim() === 'f') return 'promoted';
        } catch {
          // not yet, or not as this role: the verify phase reports that
          if (log.ready) return 'promoted';
        }
      }
      await pause(250, ctx.signal);
    }
  }

  async function verify(restored: Restored, log: RecoveryLog): Promise<string> {
    const copy = server as PostgresServerProcess;
    const user = mark?.superuser ?? 'postgres';
    const at = (database: string) => ({ host: copy.socketDir, port: copy.port, user, database });
    const sql = (database: string, text: string, variables?: Record<string, string>) =>
      untilAborted(
        psql(at(database), text, {
          binDir: copy.binDir,
          logDir,
          timeoutMs: commandTimeoutMs,
          variables,
          masker: ctx.masker,
          signal: ctx.signal,
        }),
        ctx.signal,
        'querying the restored copy',
      );
    const check = (entry: Check) => {
      result.checks.push(entry);
      say(
        `${entry.ok ? 'ok' : 'FAILED'}: ${entry.name}${entry.ok ? '' : ` (expected ${entry.expected}, got ${entry.actual})`}`,
      );
    };

    let state: Record<string, unknown>;
    try {
      const out = await sql(
        'template1',
        `SELECT json_build_object('inRecovery', pg_is_in_recovery(),
          'lastReplay', extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000,
          'segmentSize', pg_size_bytes(current_setting('wal_segment_size')),
          'databases', (SELECT json_agg(datname ORDER BY datname) FROM pg_database WHERE datallowconn AND NOT datistemplate))::text;`,
      );
      state = parseJsonLines(out)[0] ?? {};
    } catch (error) {
      if (error instanceof DrillFailure) throw error;
      throw new DrillFailure(
        'verification-failed',
        `The restored copy does not answer as role "${user}" (the source's bootstrap superuser when a source is given, else "postgres"): ${errorText(error)}`,
      );
    }
    check({
      name: 'recovery finished',
      ok: state.inRecovery === false,
      expected: 'promoted (pg_is_in_recovery() = false)',
      actual:
        state.inRecovery === false
          ? `promoted${log.redoDoneAt ? `, redo done at ${log.redoDoneAt}` : ''}`
          : 'still in recovery',
    });

    if (mark !== undefined) {
      check({
        name: 'restore point reached',
        ok: log.restorePoint?.name === mark.point,
        expected: `stopped at ${mark.point}`,
        actual: log.restorePoint
          ? `stopped at ${log.restorePoint.name}, time ${log.restorePoint.timeText}`
          : 'no restore point in the server log',
      });
    } else {
      check(archiveEndCheck(restored, Number(state.segmentSize), log));
    }

    const amcheck = await run(
      [
        postgresTool('pg_amcheck', copy.binDir),
        '--all',
        '--install-missing',
        '-h',
        copy.socketDir,
        '-p',
        String(copy.port),
        '-U',
        user,
        '--no-password',
      ],
      'pg_amcheck',
      { env: withoutPgEnv({ PGCONNECT_TIMEOUT: '30' }) },
    );
    const amcheckText = lastLines(`${amcheck.stdout()}\n${amcheck.stderr()}`, 8).join('\n');
    check({
      name: 'pg_amcheck --all',
      ok: amcheck.exitCode === 0 && amcheckText === '',
      expected: 'no corruption in any table or B-tree index',
      actual:
        amcheck.exitCode === 0 && amcheckText === ''
          ? 'no corruption found'
          : amcheckText || `exit code ${amcheck.exitCode}`,
    });

    if (mark !== undefined) {
      let rows: Array<Record<string, unknown>> = [];
      let failure: string | undefined;
      try {
        rows = parseJsonLines(await sql(mark.database, VERIFY_COPY_SQL, { drill_id: drillId }));
      } catch (error) {
        if (error instanceof DrillFailure) throw error;
        failure = errorText(error);
      }
      const marker = rows.find((row) => row.kind === 'marker');
      check({
        name: 'marker row present',
        ok: Number(marker?.count) === 1,
        expected: `spark_dr_drill.marker row ${drillId} in ${mark.database}`,
        actual: failure ?? (Number(marker?.count) === 1 ? 'present' : 'missing'),
      });
      const actual = tableHashes(rows);
      const differing = [...mark.tables].filter(([name, want]) => {
        const got = actual.get(name);
        return got === undefined || got.rows !== want.rows || got.hash !== want.hash;
      });
      const totalRows = [...mark.tables.values()].reduce((sum, t) => sum + t.rows, 0);
      check({
        name: 'tables match the restore point',
        ok: failure === undefined && differing.length === 0,
        expected: `${mark.tables.size} tables, ${totalRows} rows, row counts and hashes as read at ${mark.point}`,
        actual:
          failure ??
          (differing.length === 0
            ? `all ${mark.tables.size} tables match`
            : `${differing.length} of ${mark.tables.size} tables differ`),
      });
      for (const [name, want] of differing.slice(0, 20)) {
        check({
          name: `table ${name}`,
          ok: false,
          expected: describeHash(want),
          actual: describeHash(actual.get(name)),
        });
      }
    } else {
      const databases = Array.isArray(state.databases) ? state.databases.map(String) : [];
      const counts: string[] = [];
      let failure: string | undefined;
      for (const database of databases) {
        try {
          const out = await sql(database, `SELECT count(*) ${USER_TABLES};`);
          counts.push(`${database}: ${out.trim()} tables`);
        } catch (error) {
          if (error instanceof DrillFailure) throw error;
          failure = `${database}: ${errorText(error)}`;
          break;
        }
      }
      check({
        name: 'databases answer queries',
        ok: failure === undefined && databases.length > 0,
        expected: 'every database of the copy answers a query',
        actual: failure ?? (databases.length > 0 ? counts.join(', ') : 'no databases'),
      });
    }

    const point = recoveryPoint(restored, state, log);
    result.recoveryPoint = point.at;
    const failed = result.checks.filter((entry) => !entry.ok);
    if (failed.length > 0) {
      throw new DrillFailure(
        'verification-failed',
        `${failed.length} check(s) failed: ${failed.map((entry) => `${entry.name} (expected ${entry.expected}, got ${entry.actual})`).join('; ')}`,
      );
    }
    result.verifiedAt = ctx.now();
    result.ok = true;
    return `${result.checks.length} checks passed; recovery point ${iso(point.at)} from ${point.how}`;
  }

  function archiveEndCheck(restored: Restored, segmentSize: number, log: RecoveryLog): Check {
    const expected = 'every archived WAL segment of the timeline replayed';
    const history = newestHistory(restored.dataDir, log);
    const last = history?.entries.at(-1);
    const lsn = parseLsn(last?.switchpoint);
    if (!history || !last || lsn === undefined || !(segmentSize > 0)) {
      return {
        name: 'WAL archive replayed to its end',
        ok: false,
        expected,
        actual: 'no timeline history after promotion',
      };
    }
    const stop = walFileName(last.parentTimeline, lsn, segmentSize, true);
    const end = archiveEnd(restored.archiveFiles, stop);
    if (end.notReplayed.length === 0) {
      return {
        name: 'WAL archive replayed to its end',
        ok: true,
        expected,
        actual: `replayed through ${stop} (ended at ${last.switchpoint})${end.newest ? `, newest archived ${end.newest}` : ''}`,
      };
    }
    const why = walStopReason({
      stop,
      stopLsn: last.switchpoint,
      segmentSize,
      archiveFiles: restored.archiveFiles,
      walEnd: log.walEnd,
    });
    return {
      name: 'WAL archive replayed to its end',
      ok: false,
      expected: `${expected} (through ${end.newest})`,
      actual: `recovery stopped in ${stop} at ${last.switchpoint}: ${why}; ${end.notReplayed.length} archived segment(s) after it were not replayed`,
    };
  }

  /** The promoted copy's newest `<timeline>.history` file (in pg_wal), parsed. */
  function newestHistory(dataDir: string, log: RecoveryLog) {
    const walDir = join(dataDir, 'pg_wal');
    let name: string | undefined;
    if (log.newTimeline !== undefined)
      name = `${log.newTimeline.toString(16).toUpperCase().padStart(8, '0')}.history`;
    if (name === undefined || !existsSync(join(walDir, name))) {
      name = readdirSync(walDir)
        .filter((entry) => /^[0-9A-F]{8}\.history$/.test(entry))
        .sort()
        .at(-1);
    }
    if (name === undefined) return undefined;
    return { name, entries: parseTimelineHistory(readFileSync(join(walDir, name), 'utf8')) };
  }

  function recoveryPoint(
    restored: Restored,
    state: Record<string, unknown>,
    log: RecoveryLog,
  ): { at?: number; how: string } {
    if (mark?.lastArchivedAt !== undefined) {
      // The restore point proves the copy is exact, but it was made by the drill: what a disaster at the
      // drill's start would have kept is what the archive held then.
      return {
        at: mark.lastArchivedAt,
        how: 'the newest WAL segment archived before the drill began (pg_stat_archiver.last_archived_time)',
      };
    }
    if (mark !== undefined) {
      if (log.restorePoint?.time !== undefined) {
        return { at: log.restorePoint.time, how: `restore point ${mark.point} as replayed by the copy` };
      }
      return { at: mark.pointAt, how: `the source's clock when restore point ${mark.point} was created` };
    }
    if (typeof state.lastReplay === 'number') {
      return {
        at: state.lastReplay,
        how: 'the newest transaction replayed (pg_last_xact_replay_timestamp())',
      };
    }
    if (log.lastTransaction !== undefined) {
      return { at: log.lastTransaction, how: 'the newest transaction replayed (server log)' };
    }
    const label = chosen?.label;
    const history = label?.startSegment
      ? restored.archiveFiles.find(
          (name) => name.startsWith(`${label.startSegment}.`) && name.endsWith('.backup'),
        )
      : undefined;
    if (history !== undefined) {
      try {
        const stop = parseBackupLabel(readFileSync(join(archiveDir, history), 'utf8')).stopTime;
        if (stop !== undefined)
          return { at: stop, how: `the backup's STOP TIME (${history}); no transaction after it` };
      } catch {
        // fall through
      }
    }
    if (label?.startTime !== undefined)
      return { at: label.startTime, how: "backup_label's START TIME (lower bound)" };
    return { at: undefined, how: 'nothing: no transaction time and no backup time known' };
  }
}
