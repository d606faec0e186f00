import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  archiveEnd,
  type BaseBackup,
  detectBackupLayout,
  listBaseBackups,
  nextWalFileName,
  parseBackupLabel,
  parseLsn,
  parsePgTime,
  parseTimelineHistory,
  pickNewestBackup,
  recoveryConf,
  restoreCommand,
  scanRecoveryLog,
  UnsafePathError,
  walFileName,
  walSegments,
  walStopReason,
} from './postgres-backups.js';

const MB16 = 16 * 1024 * 1024;

// As PostgreSQL 15's pg_basebackup writes it.
const LABEL = `START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
CHECKPOINT LOCATION: 0/2000060
BACKUP METHOD: streamed
BACKUP FROM: primary
START TIME: 2024-05-01 12:00:00 UTC
LABEL: pg_basebackup base backup
START TIMELINE: 1
`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spark-pg-backups-'));
  dirs.push(dir);
  return dir;
}

describe('parsePgTime', () => {
  it('reads the zone abbreviations and numeric offsets PostgreSQL prints', () => {
    expect(parsePgTime('2024-05-01 12:00:00 UTC')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parsePgTime('2024-05-01 14:00:00 CEST')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parsePgTime('2024-01-01 13:00:00 CET')).toBe(Date.UTC(2024, 0, 1, 12));
    expect(parsePgTime('2024-05-01 12:00:00.123456+00')).toBe(Date.UTC(2024, 4, 1, 12, 0, 0, 123));
    expect(parsePgTime('2024-05-01 17:30:00+05:30')).toBe(Date.UTC(2024, 4, 1, 12));
    expect(parsePgTime('2024-05-01 08:00:00-04')).toBe(Date.UTC(2024, 4, 1, 12));
  });

  it('gives up on a zone it does not know instead of guessing', () => {
    expect(parsePgTime('2024-05-01 12:00:00 XYZT')).toBeUndefined();
    expect(parsePgTime('2024-05-01 12:00:00')).toBeUndefined();
    expect(parsePgTime('yesterday')).toBeUndefined();
  });
});

describe('parseBackupLabel', () => {
  it('reads the start location, segment, timeline and time of backup_label', () => {
    expect(parseBackupLabel(LABEL)).toMatchObject({
      startLsn: '0/2000028',
      startSegment: '000000010000000000000002',
      timeline: 1,
      method: 'streamed',
      label: 'pg_basebackup base backup',
      startTimeText: '2024-05-01 12:00:00 UTC',
      startTime: Date.UTC(2024, 4, 1, 12),
    });
  });

  it('reads the stop time of a .backup history file from the archive', () => {
    const history = `${LABEL}STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)\nSTOP TIME: 2024-05-01 12:00:05 UTC\n`;
    expect(parseBackupLabel(history)).toMatchObject({
      stopLsn: '0/2000100',
      stopTime: Date.UTC(2024, 4, 1, 12, 0, 5),
    });
  });

  it('orders LSNs as numbers', () => {
    expect(parseLsn('0/2000028')).toBe(0x2000028n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect((parseLsn('A/10') as bigint) > (parseLsn('9/FFFFFFFF') as bigint)).toBe(true);
    expect(parseLsn('nonsense')).toBeUndefined();
  });
});

describe('detectBackupLayout', () => {
  it('tells plain, tar and tar.gz backups apart', () => {
    expect(detectBackupLayout(['backup_label', 'PG_VERSION', 'base', 'global', 'backup_manifest'])).toEqual({
      format: 'plain',
      tablespaceArchives: [],
    });
    expect(detectBackupLayout(['base.tar', 'pg_wal.tar', 'backup_manifest'])).toEqual({
      format: 'tar',
      baseArchive: 'base.tar',
      walArchive: 'pg_wal.tar',
      tablespaceArchives: [],
    });
    expect(detectBackupLayout(['base.tar.gz', 'pg_wal.tar.gz', '16385.tar.gz'])).toEqual({
      format: 'tar.gz',
      baseArchive: 'base.tar.gz',
      walArchive: 'pg_wal.tar.gz',
      tablespaceArchives: ['16385.tar.gz'],
    });
    expect(detectBackupLayout(['base.tar.gz'])?.walArchive).toBeUndefined();
  });

  it('marks compressions the drill cannot extract, and ignores what is no backup', () => {
    expect(detectBackupLayout(['base.tar.lz4', 'pg_wal.tar.lz4'])?.unsupported).toMatch(/base\.tar\.lz4/);
    expect(detectBackupLayout(['notes.txt'])).toBeUndefined();
    expect(detectBackupLayout(['PG_VERSION'])).toBeUndefined();
  });
});

describe('listBaseBackups and pickNewestBackup', () => {
  it('lists plain and tar backups with their start times, falling back to the directory mtime', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'plain'));
    writeFileSync(join(dir, 'plain', 'backup_label'), LABEL);
    writeFileSync(join(dir, 'plain', 'PG_VERSION'), '15\n');
    mkdirSync(join(dir, 'tarred'));
    writeFileSync(join(dir, 'tarred', 'base.tar.gz'), '');
    writeFileSync(join(dir, 'tarred', 'backup_manifest'), '{}');
    mkdirSync(join(dir, 'unlabelled'));
    writeFileSync(join(dir, 'unlabelled', 'base.tar'), '');
    utimesSync(join(dir, 'unlabelled'), new Date('2023-01-01T00:00:00Z'), new Date('2023-01-01T00:00:00Z'));
    mkdirSync(join(dir, 'junk'));
    writeFileSync(join(dir, 'README'), 'not a backup');

    const asked: string[] = [];
    const listing = await listBaseBackups(dir, async (archive, member) => {
      asked.push(`${archive}:${member}`);
      return archive.endsWith('tarred/base.tar.gz')
        ? LABEL.replace('12:00:00 UTC', '13:00:00 UTC')
        : undefined;
    });

    expect(asked).toEqual([
      `${dir}/tarred/base.tar.gz:backup_label`,
      `${dir}/unlabelled/base.tar:backup_label`,
    ]);
    const byName = Object.fromEntries(listing.backups.map((backup) => [backup.name, backup]));
    expect(Object.keys(byName).sort()).toEqual(['plain', 'tarred', 'unlabelled']);
    expect(byName.plain).toMatchObject({
      startedFrom: 'backup_label',
      startedAt: Date.UTC(2024, 4, 1, 12),
      hasManifest: false,
    });
    expect(byName.tarred).toMatchObject({
      startedFrom: 'backup_label',
      startedAt: Date.UTC(2024, 4, 1, 13),
      hasManifest: true,
    });
    expect(byName.unlabelled).toMatchObject({
      startedFrom: 'mtime',
      startedAt: Date.parse('2023-01-01T00:00:00Z'),
    });
    expect(listing.ignored).toEqual([
      'junk (neither backup_label + PG_VERSION nor base.tar[.gz])',
      'README (not a directory)',
    ]);
  });

  it('throws when the directory cannot be read', async () => {
    await expect(listBaseBackups(join(tempDir(), 'absent'), async () => undefined)).rejects.toThrow(/ENOENT/);
  });

  const backup = (name: string, startedAt: number, extra: Partial<BaseBackup> = {}): BaseBackup => ({
    name,
    path: `/b/${name}`,
    layout: { format: 'plain', tablespaceArchives: [] },
    hasManifest: true,
    startedAt,
    startedFrom: 'backup_label',
    ...extra,
  });

  it('picks the newest start time, then the higher start LSN, then the name', () => {
    expect(pickNewestBackup([backup('a', 1), backup('b', 3), backup('c', 2)]).backup?.name).toBe('b');
    const lsn = (startLsn: string) => ({ label: { startLsn } });
    expect(
      pickNewestBackup([backup('x', 5, lsn('0/9000000')), backup('y', 5, lsn('0/A000000'))]).backup?.name,
    ).toBe('y');
    expect(pickNewestBackup([backup('x', 5), backup('y', 5)]).backup?.name).toBe('y');
    expect(pickNewestBackup([]).backup).toBeUndefined();
  });

  it('passes over a newer backup without backup_manifest (unfinished) when others have one', () => {
    const picked = pickNewestBackup([backup('done', 1), backup('running', 2, { hasManifest: false })]);
    expect(picked.backup?.name).toBe('done');
    expect(picked.skipped.map((b) => b.name)).toEqual(['running']);
    // Without any manifest (pg_basebackup --no-manifest) the newest is taken.
    const none = pickNewestBackup([
      backup('a', 1, { hasManifest: false }),
      backup('b', 2, { hasManifest: false }),
    ]);
    expect(none.backup?.name).toBe('b');
  });
});

describe('recovery settings', () => {
  it('copies from the archive with a restore_command that needs no quoting', () => {
    expect(restoreCommand('/srv/wal-archive/main')).toBe('cp /srv/wal-archive/main/%f %p');
    expect(restoreCommand('/srv/archive/')).toBe('cp /srv/archive/%f %p');
  });

  it.each([
    'relative/archive',
    '/srv/with space',
    "/srv/it's",
    '/srv/$(reboot)',
    '/srv/a;b',
    '/srv/100%',
    '/srv/a"b',
    '/srv/new\nline',
  ])('refuses the archive path %j', (path) => {
    expect(() => restoreCommand(path)).toThrow(UnsafePathError);
    expect(() => restoreCommand(path)).toThrow(
      /cannot be used in restore_command.*letters, digits and _ \. \/ -/,
    );
  });

  it('recovers to the named restore point, clearing other targets first', () => {
    const conf = recoveryConf({ archiveDir: '/srv/archive', targetName: "spark-drill-1'x" });
    const lines = conf.split('\n').filter((line) => line.includes('='));
    expect(lines).toEqual([
      "restore_command = 'cp /srv/archive/%f %p'",
      "recovery_target = ''",
      "recovery_target_lsn = ''",
      "recovery_target_time = ''",
      "recovery_target_xid = ''",
      "recovery_target_name = 'spark-drill-1''x'",
      "recovery_target_timeline = 'latest'",
      "recovery_target_action = 'promote'",
      "recovery_min_apply_delay = '0'",
    ]);
  });

  it('recovers to the end of the archive without a restore point', () => {
    expect(recoveryConf({ archiveDir: '/srv/archive' })).toContain("recovery_target_name = ''");
  });
});

describe('WAL segments and timelines', () => {
  it('names the WAL file of an LSN as pg_walfile_name(_offset) do', () => {
    expect(walFileName(1, 0x3000148n, MB16)).toBe('000000010000000000000003');
    expect(walFileName(1, 0x4000000n, MB16)).toBe('000000010000000000000004');
    expect(walFileName(1, 0x4000000n, MB16, true)).toBe('000000010000000000000003');
    expect(walFileName(2, (1n << 32n) + 0x5000000n, MB16)).toBe('000000020000000100000005');
    expect(walFileName(1, 0x50000000n, 1024 * 1024 * 1024)).toBe('000000010000000000000001'); // 1 GB segments
  });

  it('counts on to the next WAL file, across the log id', () => {
    expect(nextWalFileName('000000010000000000000004', MB16)).toBe('000000010000000000000005');
    expect(nextWalFileName('0000000100000000000000FF', MB16)).toBe('000000010000000100000000');
    expect(nextWalFileName('00000001000000000000003F', 64 * 1024 * 1024)).toBe('000000010000000100000000');
  });

  it('reads timeline history files', () => {
    expect(
      parseTimelineHistory(
        '1\t0/3000148\tno recovery target specified\n\n2\t0/5000000\tat restore point "x"\n',
      ),
    ).toEqual([
      { parentTimeline: 1, switchpoint: '0/3000148', reason: 'no recovery target specified' },
      { parentTimeline: 2, switchpoint: '0/5000000', reason: 'at restore point "x"' },
    ]);
  });

  const archive = [
    '000000010000000000000002',
    '000000010000000000000002.00000028.backup',
    '000000010000000000000003',
    '000000010000000000000005',
    '000000010000000000000006',
    '000000020000000000000007',
    '00000002.history',
    '000000010000000000000004.partial',
  ];

  it('lists segments only, and what the archive holds after the stop on the same timeline', () => {
    expect(walSegments(archive)).toHaveLength(5);
    expect(archiveEnd(archive, '000000010000000000000006')).toEqual({
      newest: '000000010000000000000006',
      notReplayed: [],
    });
    expect(archiveEnd(archive, '000000010000000000000003')).toEqual({
      newest: '000000010000000000000006',
      notReplayed: ['000000010000000000000005', '000000010000000000000006'],
    });
  });

  it('says why replay stopped: a missing segment, a damaged one, or unreadable WAL', () => {
    const base = { segmentSize: MB16, archiveFiles: archive };
    expect(walStopReason({ ...base, stop: '000000010000000000000003' })).toBe(
      '000000010000000000000004 is missing from the archive',
    );
    expect(
      walStopReason({
        ...base,
        stop: '000000010000000000000005',
        walEnd: 'invalid magic number 4D26 in log segment 000000010000000000000005, offset 8388608',
      }),
    ).toBe(
      '000000010000000000000005 is damaged (invalid magic number 4D26 in log segment 000000010000000000000005, offset 8388608)',
    );
    expect(walStopReason({ ...base, stop: '000000010000000000000005', stopLsn: '0/6000000' })).toBe(
      '000000010000000000000006 is in the archive but could not be replayed',
    );
    expect(
      walStopReason({
        ...base,
        stop: '000000010000000000000005',
        stopLsn: '0/57FFF18',
        walEnd: 'incorrect resource manager data checksum in record at 0/57FFF18',
      }),
    ).toBe(
      'the WAL could not be read past 0/57FFF18, in 000000010000000000000005 or 000000010000000000000006 (incorrect resource manager data checksum in record at 0/57FFF18)',
    );
  });
});

describe('scanRecoveryLog', () => {
  // Lines of a PostgreSQL 15 server recovering to a restore point (log_line_prefix '%m [%p] ').
  const reached = `2024-05-01 12:00:01.100 UTC [200] FATAL:  the database system is starting up
2024-05-01 12:00:01.000 UTC [100] LOG:  starting point-in-time recovery to "spark-drill-1"
2024-05-01 12:00:01.010 UTC [100] LOG:  restored log file "000000010000000000000002" from archive
cp: cannot stat '/srv/archive/00000002.history': No such file or directory
2024-05-01 12:00:01.020 UTC [100] LOG:  restored log file "000000010000000000000003" from archive
2024-05-01 12:00:01.030 UTC [100] LOG:  recovery stopping at restore point "spark-drill-1", time 2024-05-01 11:59:58.123456+00
2024-05-01 12:00:01.031 UTC [100] LOG:  redo done at 0/3044F30 system usage: CPU: user: 0.00 s
2024-05-01 12:00:01.031 UTC [100] LOG:  last completed transaction was at log time 2024-05-01 11:59:57.5+00
2024-05-01 12:00:01.040 UTC [100] LOG:  selected new timeline ID: 2
2024-05-01 12:00:01.050 UTC [100] LOG:  archive recovery complete
2024-05-01 12:00:01.060 UTC [99] LOG:  database system is ready to accept connections
`;

  it('follows recovery to a restore point and promotion', () => {
    expect(scanRecoveryLog(reached)).toEqual({
      restored: 2,
      lastRestored: '000000010000000000000003',
      restorePoint: {
        name: 'spark-drill-1',
        timeText: '2024-05-01 11:59:58.123456+00',
        time: Date.UTC(2024, 4, 1, 11, 59, 58, 123),
      },
      targetNotReached: false,
      lastTransactionText: '2024-05-01 11:59:57.5+00',
      lastTransaction: Date.UTC(2024, 4, 1, 11, 59, 57, 500),
      redoDoneAt: '0/3044F30',
      newTimeline: 2,
      ready: true,
      paused: false,
    });
  });

  it('notices the FATAL of a target that was not reached, and why WAL ended, across several reads', () => {
    const log = scanRecoveryLog(
      '2024-05-01 12:00:01.989 UTC [100] LOG:  restored log file "000000010000000000000005" from archive\n',
    );
    scanRecoveryLog(
      `2024-05-01 12:00:02.035 UTC [100] LOG:  invalid magic number 4D26 in log segment 000000010000000000000005, offset 8388608
2024-05-01 12:00:02.035 UTC [100] FATAL:  recovery ended before configured recovery target was reached
2024-05-01 12:00:02.038 UTC [99] LOG:  startup process (PID 100) exited with exit code 1
`,
      log,
    );
    expect(log).toMatchObject({
      restored: 1,
      lastRestored: '000000010000000000000005',
      targetNotReached: true,
      ready: false,
      fatal: 'recovery ended before configured recovery target was reached',
      walEnd: 'invalid magic number 4D26 in log segment 000000010000000000000005, offset 8388608',
    });
  });

  it('ignores clients turned away while starting, and sees a pause', () => {
    const log = scanRecoveryLog(`x FATAL:  the database system is not yet accepting connections
x FATAL:  role "root" does not exist
x LOG:  recovery has paused
`);
    expect(log.fatal).toBeUndefined();
    expect(log.paused).toBe(true);
  });
});
