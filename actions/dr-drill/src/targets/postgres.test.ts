// The PostgreSQL drill against a real server: real pg_basebackup (plain and tar.gz), real WAL archiving, a
// real restore on a scratch server. Damaged and missing WAL must fail the drill, never pass it.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTool } from '../../../../scripts/lib/system-tools.js';
import { type PostgresServer, startPostgres } from '../../../../test/support/postgres.js';
import { splitConnectionPassword } from '../../../lib/postgres-server.js';
import { SecretMasker } from '../../../lib/secrets.js';
import { Scratch } from '../scratch.js';
import type { DrillContext, TargetResult } from '../types.js';
import { drillPostgres } from './postgres.js';

/** A Scratch that remembers the processes handed to it, so the tests can check that they are gone. */
class RecordingScratch extends Scratch {
  readonly pids: number[] = [];

  override track(child: ChildProcess, what: string, graceMs?: number): void {
    if (child.pid !== undefined) this.pids.push(child.pid);
    super.track(child, what, graceMs);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
let scratch: RecordingScratch | undefined;

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Processes whose command line mentions `dir` (the drill's postmaster runs with `-D <scratch>/...`). */
async function processesMentioning(dir: string): Promise<string[]> {
  const { stdout } = await runTool('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((line) => line.includes(dir) && !line.includes('ps -eo'));
}

afterEach(async () => {
  const current = scratch;
  scratch = undefined;
  try {
    if (current !== undefined) {
      expect(await current.cleanup()).toEqual([]);
      expect(existsSync(current.root)).toBe(false);
      for (const pid of current.pids)
        expect(processIsGone(pid), `drill process ${pid} still runs`).toBe(true);
      expect(await processesMentioning(current.root)).toEqual([]);
    }
  } finally {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  }
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o711); // the postgres OS user writes the archive below it
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Harness {
  ctx: DrillContext;
  logged: string[];
  scratch: RecordingScratch;
}

function harness(options: { signal?: AbortSignal; onLog?: (line: string) => void } = {}): Harness {
  const current = new RecordingScratch();
  scratch = current;
  const logged: string[] = [];
  return {
    scratch: current,
    logged,
    ctx: {
      drillStart: Date.now(),
      now: () => Date.now(),
      scratch: current,
      signal: options.signal ?? new AbortController().signal,
      log: (line) => {
        logged.push(line);
        options.onLog?.(line);
      },
      masker: new SecretMasker(),
    },
  };
}

async function waitFor(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Closes the current WAL segment and waits until the archive has it. */
async function switchAndArchive(pg: PostgresServer, archive: string): Promise<string> {
  const segment = (await pg.psql('SELECT pg_walfile_name(pg_switch_wal());')).trim();
  await waitFor(`${segment} in the archive`, () => existsSync(join(archive, segment)));
  return segment;
}

const segmentsIn = (archive: string) =>
  readdirSync(archive)
    .filter((name) => /^[0-9A-F]{24}$/.test(name))
    .sort();

interface Source {
  pg: PostgresServer;
  archive: string;
  backups: string;
}

/** A live server with WAL archiving, some data, one base backup, and more data written after it. */
async function sourceWithBackup(format: 'plain' | 'tar.gz'): Promise<Source> {
  const base = tempDir('spark-pg-drill-');
  const archive = join(base, 'archive');
  const backups = join(base, 'backups');
  mkdirSync(backups);
  const pg = await startPostgres({ walArchiveDir: archive });
  cleanups.push(() => pg.stop());
  await pg.psql(`
    CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12, 2), opened date);
    INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.5, date '2020-01-01' + g FROM generate_series(1, 500) g;
    CREATE SCHEMA "Odd schema";
    CREATE TABLE "Odd schema"."events ""quoted""" (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), body jsonb);
    INSERT INTO "Odd schema"."events ""quoted""" (body) SELECT jsonb_build_object('n', g) FROM generate_series(1, 200) g;
    CREATE UNLOGGED TABLE scratchpad (v int);
    INSERT INTO scratchpad VALUES (1), (2);
  `);
  const args = ['-d', pg.connectionString, '-D', join(backups, 'base-1'), '-c', 'fast', '-X', 'stream'];
  await runTool(
    join(pg.binDir, 'pg_basebackup'),
    [...args, ...(format === 'plain' ? ['-Fp'] : ['-Ft', '-z'])],
    {
      timeoutMs: 120_000,
    },
  );
  await pg.psql(`
    INSERT INTO accounts SELECT g, 'late ' || g, g, date '2024-01-01' FROM generate_series(501, 800) g;
    UPDATE accounts SET balance = balance + 1 WHERE id % 7 = 0;
    DELETE FROM accounts WHERE id % 50 = 0;
  `);
  return { pg, archive, backups };
}

/** Everything under `dir` as text (for secret scans). */
function allText(dir: string): string {
  const parts: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) parts.push(readFileSync(child, 'latin1'));
    }
  };
  walk(dir);
  return parts.join('\n');
}

function expectPhases(result: TargetResult, names: string[]) {
  expect(result.phases.map((phase) => phase.name)).toEqual(names);
  for (const phase of result.phases) expect(phase.endedAt).toBeGreaterThanOrEqual(phase.startedAt);
}

describe('drillPostgres', () => {
  it('restores a plain backup to a restore point made on the live source, tables and marker matching', async () => {
    const { pg, archive, backups } = await sourceWithBackup('plain');
    // A writer keeps committing into a table the drill hashes: the locked snapshot must still match the point.
    const writer = pg
      .psql(`SET application_name = 'spark-test-writer';
        DO $$ BEGIN FOR i IN 1..3000 LOOP
          INSERT INTO accounts VALUES (10000 + i, 'writer', i, now()); COMMIT; PERFORM pg_sleep(0.01);
        END LOOP; END $$;`)
      .catch(() => undefined);
    cleanups.push(async () => {
      await pg
        .psql(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'spark-test-writer';",
        )
        .catch(() => undefined);
      await writer;
    });
    for (let i = 0; i < 100; i++) {
      if (Number((await pg.psql("SELECT count(*) FROM accounts WHERE owner = 'writer';")).trim()) > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const secret = `Planted-${randomBytes(6).toString('hex')}`;
    const source = pg.connectionString.replace('postgres@', `postgres:${secret}@`);
    const { ctx, logged, scratch: places } = harness();

    const result = await drillPostgres(
      { kind: 'postgres', name: 'app', baseBackups: backups, walArchive: archive, source },
      ctx,
    );

    expect(result.message).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.failure).toBeUndefined();
    expect(result.backup).toBe(join(backups, 'base-1'));
    expectPhases(result, ['find-backup', 'mark-source', 'restore', 'recover', 'verify']);
    expect(result.phases.every((phase) => phase.ok)).toBe(true);
    expect(result.phases[0]?.detail).toMatch(/base-1 \(plain, .*by backup_label START TIME/);
    const checks = Object.fromEntries(result.checks.map((check) => [check.name, check]));
    expect(Object.keys(checks).sort()).toEqual([
      'backup matches its backup_manifest',
      'marker row present',
      'pg_amcheck --all',
      'recovery finished',
      'restore point reached',
      'tables match the restore point',
    ]);
    expect(result.checks.every((check) => check.ok)).toBe(true);
    // accounts, the quoted events table and the marker table; the unlogged scratchpad is left out
    expect(checks['tables match the restore point']?.expected).toMatch(/^3 tables, \d+ rows/);
    expect(checks['tables match the restore point']?.actual).toBe('all 3 tables match');

    // The restore point proves the copy exact; the recovery point is what the archive held when the drill began:
    // before the drill's marker row, and not older than this test's own archiving.
    const marker = Number(
      (
        await pg.psql(
          `SELECT extract(epoch FROM drilled_at) * 1000 FROM spark_dr_drill.marker ORDER BY id DESC LIMIT 1;`,
        )
      ).trim(),
    );
    const archivedAt = Number(
      (await pg.psql('SELECT extract(epoch FROM last_archived_time) * 1000 FROM pg_stat_archiver;')).trim(),
    );
    expect(result.recoveryPoint).toBeLessThanOrEqual(Math.ceil(marker));
    expect(result.recoveryPoint).toBeLessThanOrEqual(archivedAt);
    expect(result.recoveryPoint).toBeGreaterThan(Date.now() - 300_000);
    expect(result.restoreStartedAt).toBeGreaterThanOrEqual(result.recoveryPoint as number);
    expect(result.verifiedAt).toBeGreaterThanOrEqual(result.restoreStartedAt as number);

    // The copy never archived into the production archive (its promotion would add 00000002.history).
    expect(readdirSync(archive).filter((name) => !name.startsWith('00000001'))).toEqual([]);
    // The server is stopped when the drill returns, before any cleanup.
    for (const pid of places.pids) expect(processIsGone(pid)).toBe(true);
    // The password never reaches the result, the log or any file the drill wrote.
    for (const text of [JSON.stringify(result), logged.join('\n'), allText(places.root)]) {
      expect(text).not.toContain(secret);
    }
  }, 120_000);

  it('restores a tar.gz backup to the end of the archive; the recovery point is the newest commit', async () => {
    const { pg, archive, backups } = await sourceWithBackup('tar.gz');
    const lastCommit = Number(
      (
        await pg.psql(`BEGIN; INSERT INTO accounts VALUES (9999, 'last', 0, now());
          SELECT extract(epoch FROM clock_timestamp()) * 1000; COMMIT;`)
      ).trim(),
    );
    await switchAndArchive(pg, archive);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // the gap the drill must measure
    const { ctx, logged } = harness();

    const result = await drillPostgres(
      { kind: 'postgres', name: 'app', baseBackups: backups, walArchive: archive },
      ctx,
      { heartbeatMs: 20 }, // a status line while waiting (every 30 s by default)
    );

    expect(result.message).toBeUndefined();
    expect(result.ok).toBe(true);
    expectPhases(result, ['find-backup', 'restore', 'recover', 'verify']);
    expect(
      logged.some((line) =>
        /^postgres app: … still recovering from the WAL archive \(.*WAL files restored/.test(line),
      ),
    ).toBe(true);
    expect(result.phases[0]?.detail).toMatch(/base-1 \(tar\.gz, .*by backup_label START TIME/);
    const names = result.checks.map((check) => check.name).sort();
    expect(names).toEqual([
      'WAL archive replayed to its end',
      'backup matches its backup_manifest',
      'databases answer queries',
      'pg_amcheck --all',
      'recovery finished',
    ]);
    expect(result.checks.find((check) => check.name === 'databases answer queries')?.actual).toMatch(
      /postgres: 2 tables/, // accounts and the quoted events table; no marker without a source
    );
    // The newest transaction replayed is the last commit (clock_timestamp just before COMMIT)...
    expect(Math.abs((result.recoveryPoint as number) - lastCommit)).toBeLessThan(1_000);
    // ...so RPO is the real gap between that commit and the drill's start.
    const rpo = ctx.drillStart - (result.recoveryPoint as number);
    expect(Math.abs(rpo - (ctx.drillStart - lastCommit))).toBeLessThan(1_000);
    expect(rpo).toBeGreaterThanOrEqual(1_000);
    expect(result.phases.find((phase) => phase.name === 'verify')?.detail).toMatch(
      /pg_last_xact_replay_timestamp/,
    );
  }, 120_000);

  /**
   * Damage or remove one archived segment written after the backup: a full one in the middle of ~4 segments
   * of rows written after it, so recovery needs it to get anywhere near the end.
   */
  async function damagedArchive(how: 'corrupt' | 'missing'): Promise<Source & { victim: string }> {
    const source = await sourceWithBackup('plain');
    await switchAndArchive(source.pg, source.archive);
    const before = new Set(segmentsIn(source.archive));
    await source.pg.psql(`CREATE TABLE filler (id int, pad text);
      INSERT INTO filler SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 250000) g;
      INSERT INTO accounts VALUES (5000, 'after the filler', 1, now());`);
    await switchAndArchive(source.pg, source.archive);
    const written = segmentsIn(source.archive).filter((name) => !before.has(name));
    expect(written.length).toBeGreaterThanOrEqual(3);
    const victim = written[Math.floor((written.length - 1) / 2)] as string;
    const file = join(source.archive, victim);
    if (how === 'missing') {
      unlinkSync(file);
    } else {
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      writeSync(fd, randomBytes(64 * 1024), 0, 64 * 1024, Math.floor(size / 2));
      closeSync(fd);
      expect(statSync(file).size).toBe(size);
    }
    return { ...source, victim };
  }

  it.each([
    ['corrupt', 'a restore point'],
    ['missing', 'a restore point'],
    ['corrupt', 'the end of the archive'],
    ['missing', 'the end of the archive'],
  ] as const)(
    'fails when an archived WAL segment is %s (recovering to %s)',
    async (how, to) => {
      const { pg, archive, backups, victim } = await damagedArchive(how);
      const { ctx, scratch: places } = harness();
      const source = to === 'a restore point' ? pg.connectionString : undefined;

      const result = await drillPostgres(
        { kind: 'postgres', name: 'app', baseBackups: backups, walArchive: archive, source },
        ctx,
      );

      expect(result.ok).toBe(false);
      expect(result.failure).toBe('verification-failed');
      expect(result.verifiedAt).toBeUndefined();
      if (source !== undefined) {
        expect(result.message).toMatch(/Recovery ended before reaching restore point spark-drill-/);
        expect(result.message).toContain(
          how === 'missing' ? `${victim} is missing from the archive` : `${victim} is damaged`,
        );
        expect(result.checks.find((check) => check.name === 'restore point reached')?.ok).toBe(false);
        expect(result.phases.at(-1)).toMatchObject({ name: 'recover', ok: false });
      } else {
        const end = result.checks.find((check) => check.name === 'WAL archive replayed to its end');
        expect(end?.ok).toBe(false);
        expect(end?.actual).toContain(victim);
        expect(end?.actual).toMatch(
          how === 'missing' ? /is missing from the archive/ : /is damaged \(invalid magic number/,
        );
        expect(result.phases.at(-1)).toMatchObject({ name: 'verify', ok: false });
      }
      for (const pid of places.pids) expect(processIsGone(pid)).toBe(true);
    },
    180_000,
  );

  it('fails with backup-missing for an empty or absent backup directory', async () => {
    const base = tempDir('spark-pg-drill-');
    const archive = join(base, 'archive');
    mkdirSync(archive);
    mkdirSync(join(base, 'backups'));
    mkdirSync(join(base, 'backups', 'not-a-backup'));
    for (const backups of [join(base, 'backups'), join(base, 'nowhere')]) {
      const { ctx, scratch: places } = harness();
      const result = await drillPostgres(
        { kind: 'postgres', name: 'app', baseBackups: backups, walArchive: archive },
        ctx,
      );
      expect(result.ok).toBe(false);
      expect(result.failure).toBe('backup-missing');
      expect(result.message).toContain(backups);
      expectPhases(result, ['find-backup']);
      expect(result.phases[0]?.ok).toBe(false);
      expect(places.pids).toEqual([]);
      expect(await places.cleanup()).toEqual([]);
    }
  });

  it('refuses a WAL archive path that restore_command cannot carry safely', async () => {
    const { ctx } = harness();
    const result = await drillPostgres(
      { kind: 'postgres', name: 'app', baseBackups: '/nonexistent', walArchive: '/tmp/with space/$(reboot)' },
      ctx,
    );
    expect(result).toMatchObject({ ok: false, failure: 'restore-failed' });
    expect(result.message).toMatch(/cannot be used in restore_command/);
  });

  it('stops the restored server and reports a timeout when the drill is aborted during recovery', async () => {
    const { archive, backups } = await sourceWithBackup('plain');
    const abort = new AbortController();
    const { ctx, scratch: places } = harness({
      signal: abort.signal,
      onLog: (line) => {
        if (line.includes('starting the restored copy')) abort.abort();
      },
    });
    const result = await drillPostgres(
      { kind: 'postgres', name: 'app', baseBackups: backups, walArchive: archive },
      ctx,
    );
    expect(result).toMatchObject({ ok: false, failure: 'timeout' });
    expect(result.phases.at(-1)).toMatchObject({ name: 'recover', ok: false });
    expect(places.pids.length).toBe(1);
    for (const pid of places.pids) expect(processIsGone(pid)).toBe(true);
  }, 120_000);
});

describe('the source connection string', () => {
  it('loses its password before it reaches psql argv; the password goes to PGPASSWORD', () => {
    expect(
      splitConnectionPassword('postgresql://drill:s%40cret@db.example:5432/app?sslmode=require'),
    ).toEqual({
      connection: 'postgresql://drill@db.example:5432/app?sslmode=require',
      password: 's@cret',
    });
    expect(
      splitConnectionPassword('postgres://drill@h1:5432,h2:5432/app?password=pw1234&sslmode=disable'),
    ).toEqual({
      connection: 'postgres://drill@h1:5432,h2:5432/app?sslmode=disable',
      password: 'pw1234',
    });
    expect(splitConnectionPassword("host=db user=drill password='it\\'s secret' dbname=app")).toEqual({
      connection: 'host=db user=drill  dbname=app',
      password: "it's secret",
    });
    expect(splitConnectionPassword('postgresql:///app?host=/run/postgresql')).toEqual({
      connection: 'postgresql:///app?host=/run/postgresql',
      password: undefined,
    });
    expect(splitConnectionPassword('host=db dbname=app')).toEqual({ connection: 'host=db dbname=app' });
  });
});
