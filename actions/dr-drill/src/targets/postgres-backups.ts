/**
 * The PostgreSQL target's helpers that need no server: which base backups a directory holds and which is the
 * newest, the recovery settings for a scratch copy, WAL segment and timeline arithmetic, and what the
 * restored server's log says about its recovery (PostgreSQL 13–17 message texts, lc_messages=C).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { confLine, isShellSafePath } from '../../../lib/postgres-server.js';

// ---------------------------------------------------------------------------------------------------------
// Times as PostgreSQL prints them

/** UTC offsets (minutes) of the zone abbreviations a server may print in backup_label's START TIME. */
const ZONE_OFFSETS: Readonly<Record<string, number>> = {
  UTC: 0,
  UCT: 0,
  GMT: 0,
  Z: 0,
  WET: 0,
  WEST: 60,
  BST: 60,
  CET: 60,
  CEST: 120,
  MET: 60,
  MEST: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  JST: 540,
};

/**
 * Epoch ms of a time as PostgreSQL prints it: `2024-05-01 12:00:00 UTC` (backup_label, strftime with a zone
 * abbreviation) or `2024-05-01 12:00:00.123456+02` / `+05:30` (timestamptz output). Undefined when the zone is
 * missing or unknown, rather than guessing.
 */
export function parsePgTime(text: string): number | undefined {
  const match = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(\.\d+)?\s*([+-]\d\d(?::?\d\d)?|[A-Za-z]+)$/.exec(
    text.trim(),
  );
  if (!match) return undefined;
  const [, date, time, fraction = '', zone = ''] = match;
  let offset: number | undefined;
  const numeric = /^([+-])(\d\d):?(\d\d)?$/.exec(zone);
  if (numeric) {
    offset = (numeric[1] === '-' ? -1 : 1) * (Number(numeric[2]) * 60 + Number(numeric[3] ?? 0));
  } else {
    offset = ZONE_OFFSETS[zone.toUpperCase()];
  }
  if (offset === undefined) return undefined;
  const ms = fraction === '' ? 0 : Math.floor(Number(`0${fraction}`) * 1000);
  const utc = Date.parse(`${date}T${time}Z`);
  if (Number.isNaN(utc)) return undefined;
  return utc + ms - offset * 60_000;
}

// ---------------------------------------------------------------------------------------------------------
// backup_label and the archive's backup history files

export interface BackupLabel {
  /** `START WAL LOCATION`, e.g. `0/2000028`. */
  startLsn?: string;
  /** The WAL file named in `START WAL LOCATION: ... (file 000000010000000000000002)`. */
  startSegment?: string;
  timeline?: number;
  method?: string;
  label?: string;
  startTimeText?: string;
  /** Epoch ms of START TIME, when its zone is known. */
  startTime?: number;
  /** Only in the archive's `<segment>.<offset>.backup` history file. */
  stopLsn?: string;
  stopTimeText?: string;
  stopTime?: number;
}

/** Parses backup_label (or a `.backup` history file from the WAL archive, which has the same lines and more). */
export function parseBackupLabel(text: string): BackupLabel {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ');
    if (colon > 0) fields.set(line.slice(0, colon).trim().toUpperCase(), line.slice(colon + 2).trim());
  }
  const label: BackupLabel = {};
  const start = /^([0-9A-F]+\/[0-9A-F]+)(?: \(file ([0-9A-F]{24})\))?/i.exec(
    fields.get('START WAL LOCATION') ?? '',
  );
  if (start) {
    label.startLsn = start[1];
    label.startSegment = start[2];
  }
  const stop = /^([0-9A-F]+\/[0-9A-F]+)/i.exec(fields.get('STOP WAL LOCATION') ?? '');
  if (stop) label.stopLsn = stop[1];
  const timeline = fields.get('START TIMELINE');
  if (timeline !== undefined && /^\d+$/.test(timeline)) label.timeline = Number(timeline);
  else if (label.startSegment) label.timeline = Number.parseInt(label.startSegment.slice(0, 8), 16);
  label.method = fields.get('BACKUP METHOD');
  label.label = fields.get('LABEL');
  label.startTimeText = fields.get('START TIME');
  if (label.startTimeText !== undefined) label.startTime = parsePgTime(label.startTimeText);
  label.stopTimeText = fields.get('STOP TIME');
  if (label.stopTimeText !== undefined) label.stopTime = parsePgTime(label.stopTimeText);
  return label;
}

/** `0/3000148` as a number, for ordering; undefined when not an LSN. */
export function parseLsn(text: string | undefined): bigint | undefined {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(text?.trim() ?? '');
  if (!match) return undefined;
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

// ---------------------------------------------------------------------------------------------------------
// Base backups on disk

export type BackupFormat = 'plain' | 'tar' | 'tar.gz';

export interface BackupLayout {
  format: BackupFormat;
  /** base.tar / base.tar.gz (tar formats). */
  baseArchive?: string;
  /** pg_wal.tar / pg_wal.tar.gz, when the backup carries its own WAL (-X fetch/stream, tar formats). */
  walArchive?: string;
  /** Archives of other tablespaces (`<oid>.tar[.gz]`), which the drill cannot relocate. */
  tablespaceArchives: string[];
  /** Why this backup cannot be restored by the drill (e.g. lz4 or zstd compression). */
  unsupported?: string;
}

/** How a directory's file names show what pg_basebackup wrote there; undefined when it is no base backup. */
export function detectBackupLayout(entries: readonly string[]): BackupLayout | undefined {
  const names = new Set(entries);
  const tablespaceArchives = entries.filter((name) => /^\d+\.tar(\.gz)?$/.test(name)).sort();
  for (const [base, format] of [
    ['base.tar.gz', 'tar.gz'],
    ['base.tar', 'tar'],
  ] as const) {
    if (!names.has(base)) continue;
    const wal = ['pg_wal.tar.gz', 'pg_wal.tar'].find((name) => names.has(name));
    return { format, baseArchive: base, walArchive: wal, tablespaceArchives };
  }
  const other = entries.find((name) => /^base\.tar\.\w+$/.test(name));
  if (other !== undefined) {
    return {
      format: 'tar',
      baseArchive: other,
      tablespaceArchives,
      unsupported: `${other}: only uncompressed and gzip (-z) tar backups can be restored by the drill`,
    };
  }
  if (names.has('backup_label') && names.has('PG_VERSION'))
    return { format: 'plain', tablespaceArchives: [] };
  return undefined;
}

export interface BaseBackup {
  /** The sub-directory's name. */
  name: string;
  path: string;
  layout: BackupLayout;
  /** backup_manifest is written last by pg_basebackup: a backup without it may still be in progress. */
  hasManifest: boolean;
  label?: BackupLabel;
  /** Epoch ms the backup started: backup_label's START TIME, else the directory's modification time. */
  startedAt: number;
  startedFrom: 'backup_label' | 'mtime';
}

/** Reads one member of a (possibly gzipped) tar file, or undefined when it is not there. */
export type TarMemberReader = (archive: string, member: string) => Promise<string | undefined>;

export interface BackupListing {
  backups: BaseBackup[];
  /** Entries of the directory that are not base backups, with the reason. */
  ignored: string[];
}

/** Every base backup under `dir` (one sub-directory per pg_basebackup run). Throws when `dir` cannot be read. */
export async function listBaseBackups(dir: string, readTarMember: TarMemberReader): Promise<BackupListing> {
  const backups: BaseBackup[] = [];
  const ignored: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (!entry.isDirectory()) {
      ignored.push(`${entry.name} (not a directory)`);
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(path);
    } catch (error) {
      ignored.push(
        `${entry.name} (cannot be read: ${error instanceof Error ? error.message : String(error)})`,
      );
      continue;
    }
    const layout = detectBackupLayout(names);
    if (layout === undefined) {
      ignored.push(`${entry.name} (neither backup_label + PG_VERSION nor base.tar[.gz])`);
      continue;
    }
    let labelText: string | undefined;
    if (layout.format === 'plain') labelText = readFileSync(join(path, 'backup_label'), 'utf8');
    else if (layout.baseArchive !== undefined && layout.unsupported === undefined) {
      labelText = await readTarMember(join(path, layout.baseArchive), 'backup_label');
    }
    const label = labelText === undefined ? undefined : parseBackupLabel(labelText);
    const fromLabel = label?.startTime;
    backups.push({
      name: entry.name,
      path,
      layout,
      hasManifest: names.includes('backup_manifest'),
      label,
      startedAt: fromLabel ?? statSync(path).mtimeMs,
      startedFrom: fromLabel === undefined ? 'mtime' : 'backup_label',
    });
  }
  return { backups, ignored };
}

export interface NewestBackup {
  backup?: BaseBackup;
  /** Newer backups passed over because they have no backup_manifest while others do (likely unfinished). */
  skipped: BaseBackup[];
}

/**
 * The newest backup by start time (then start LSN, then name). When some backups have a backup_manifest,
 * those without one are passed over: pg_basebackup writes the manifest last, so they may be unfinished.
 */
export function pickNewestBackup(backups: readonly BaseBackup[]): NewestBackup {
  const anyManifest = backups.some((backup) => backup.hasManifest);
  const lsn = (backup: BaseBackup) => parseLsn(backup.label?.startLsn) ?? -1n;
  const sorted = [...backups].sort(
    (a, b) =>
      b.startedAt - a.startedAt ||
      (lsn(b) > lsn(a) ? 1 : lsn(b) < lsn(a) ? -1 : 0) ||
      b.name.localeCompare(a.name),
  );
  const skipped: BaseBackup[] = [];
  for (const backup of sorted) {
    if (anyManifest && !backup.hasManifest) {
      skipped.push(backup);
      continue;
    }
    return { backup, skipped };
  }
  return { backup: undefined, skipped };
}

// ---------------------------------------------------------------------------------------------------------
// Recovery settings

/** Thrown when the WAL archive's path cannot be put into restore_command safely. */
export class UnsafePathError extends Error {}

/**
 * restore_command copying from `archiveDir`. The server runs it through /bin/sh, so the path must need no
 * quoting at all: absolute and only `[A-Za-z0-9_./-]`; anything else is refused with an error naming it.
 */
export function restoreCommand(archiveDir: string): string {
  if (!isShellSafePath(archiveDir)) {
    throw new UnsafePathError(
      `The WAL archive path ${JSON.stringify(archiveDir)} cannot be used in restore_command: it must be absolute and contain only letters, digits and _ . / - (no spaces, quotes, $ or %).`,
    );
  }
  return `cp ${archiveDir.replace(/\/+$/, '')}/%f %p`;
}

export interface RecoveryConfOptions {
  archiveDir: string;
  /** Stop at this named restore point; without it, recover to the end of the archive. */
  targetName?: string;
}

/**
 * Settings appended to the copy's postgresql.auto.conf (the last occurrence of a setting wins). Any recovery
 * target the backup's own configuration carries is cleared first: PostgreSQL refuses two targets, and it
 * checks that as each setting is applied, so the clearing lines must come before ours.
 */
export function recoveryConf(options: RecoveryConfOptions): string {
  const lines = [
    '',
    '# spark dr-drill: archive recovery of this scratch copy',
    confLine('restore_command', restoreCommand(options.archiveDir)),
    confLine('recovery_target', ''),
    confLine('recovery_target_lsn', ''),
    confLine('recovery_target_time', ''),
    confLine('recovery_target_xid', ''),
    confLine('recovery_target_name', options.targetName ?? ''),
    confLine('recovery_target_timeline', 'latest'),
    confLine('recovery_target_action', 'promote'),
    confLine('recovery_min_apply_delay', 0),
    '',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// WAL segments and timelines

const SEGMENT = /^[0-9A-F]{24}$/;

export interface TimelineSwitch {
  parentTimeline: number;
  /** Where the new timeline begins: the end of the last record replayed on the parent. */
  switchpoint: string;
  reason: string;
}

/** The entries of a `<timeline>.history` file, oldest first. */
export function parseTimelineHistory(text: string): TimelineSwitch[] {
  const entries: TimelineSwitch[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+([0-9A-F]+\/[0-9A-F]+)\s*(.*)$/i.exec(line);
    if (match)
      entries.push({
        parentTimeline: Number(match[1]),
        switchpoint: match[2] as string,
        reason: match[3] ?? '',
      });
  }
  return entries;
}

const hex8 = (value: bigint | number) => value.toString(16).toUpperCase().padStart(8, '0');

/**
 * The WAL file name holding byte `lsn` of `timeline` (as pg_walfile_name_offset), or with `endOf` the one
 * holding the byte just before it (as pg_walfile_name: a record ending exactly at a boundary is in the
 * earlier file).
 */
export function walFileName(timeline: number, lsn: bigint, segmentSize: number, endOf = false): string {
  const size = BigInt(segmentSize);
  const segment = endOf && lsn > 0n ? (lsn - 1n) / size : lsn / size;
  const perId = 0x100000000n / size;
  return `${hex8(timeline)}${hex8(segment / perId)}${hex8(segment % perId)}`;
}

/** The WAL file after `name` (same timeline), for segments of `segmentSize` bytes. */
export function nextWalFileName(name: string, segmentSize: number): string {
  const size = BigInt(segmentSize);
  const perId = 0x100000000n / size;
  const segment = BigInt(`0x${name.slice(8, 16)}`) * perId + BigInt(`0x${name.slice(16, 24)}`) + 1n;
  return `${name.slice(0, 8)}${hex8(segment / perId)}${hex8(segment % perId)}`;
}

/**
 * Why WAL replay stopped in `stop` while the archive goes on: the next segment is missing, or a segment is
 * damaged (PostgreSQL names the file when a page header is bad), or the WAL cannot be read past `stopLsn`.
 */
export function walStopReason(args: {
  stop: string;
  stopLsn?: string;
  segmentSize: number;
  archiveFiles: readonly string[];
  walEnd?: string;
}): string {
  const next = nextWalFileName(args.stop, args.segmentSize);
  const reason = args.walEnd ? ` (${args.walEnd})` : '';
  if (!args.archiveFiles.includes(next)) return `${next} is missing from the archive`;
  const named = /in log segment ([0-9A-F]{24})/.exec(args.walEnd ?? '')?.[1];
  if (named !== undefined) return `${named} is damaged${reason}`;
  const lsn = parseLsn(args.stopLsn);
  if (lsn !== undefined && lsn % BigInt(args.segmentSize) === 0n) {
    return `${next} is in the archive but could not be replayed${reason}`;
  }
  return `the WAL could not be read past ${args.stopLsn ?? `the end of ${args.stop}`}, in ${args.stop} or ${next}${reason}`;
}

export interface ArchiveEnd {
  /** Newest segment of the stop segment's timeline in the archive. */
  newest?: string;
  /** Archived segments of that timeline after the one recovery stopped in. */
  notReplayed: string[];
}

/**
 * Compares where recovery stopped (`stopSegment`: the WAL file holding the last record replayed) with the
 * archive's file names: recovery to the end of the archive must have replayed every segment of its timeline.
 */
export function archiveEnd(files: readonly string[], stopSegment: string): ArchiveEnd {
  const timeline = stopSegment.slice(0, 8);
  const segments = files.filter((name) => SEGMENT.test(name) && name.startsWith(timeline)).sort();
  return { newest: segments.at(-1), notReplayed: segments.filter((name) => name > stopSegment) };
}

/** The archive's WAL segment file names (24 hex digits), sorted. */
export function walSegments(files: readonly string[]): string[] {
  return files.filter((name) => SEGMENT.test(name)).sort();
}

// ---------------------------------------------------------------------------------------------------------
// The restored server's log

export interface RecoveryLog {
  /** `restored log file "..." from archive` lines so far, and the newest one. */
  restored: number;
  lastRestored?: string;
  /** `recovery stopping at restore point "<name>", time <time>`. */
  restorePoint?: { name: string; timeText: string; time?: number };
  /** PostgreSQL 13+: FATAL `recovery ended before configured recovery target was reached`. */
  targetNotReached: boolean;
  /** `last completed transaction was at log time <time>`. */
  lastTransactionText?: string;
  lastTransaction?: number;
  /** `redo done at <lsn>`. */
  redoDoneAt?: string;
  /** `selected new timeline ID: <n>` at promotion. */
  newTimeline?: number;
  /** `database system is ready to accept connections`. */
  ready: boolean;
  /** Recovery paused instead of promoting (it would wait forever). */
  paused: boolean;
  /** The first FATAL or PANIC message. */
  fatal?: string;
  /** Why WAL reading stopped, when it did on a damaged or missing record (LOG level, the last one). */
  walEnd?: string;
}

export function emptyRecoveryLog(): RecoveryLog {
  return { restored: 0, targetNotReached: false, ready: false, paused: false };
}

const WAL_END =
  /(invalid record length|incorrect resource manager data checksum|invalid magic number|invalid resource manager ID|record with incorrect prev-link|unexpected pageaddr|contrecord is requested|invalid contrecord length|missing contrecord|record length \d+ at .* too long|out-of-sequence timeline ID|invalid info bits|could not read from log segment|invalid xl_info|record with invalid length)/;

/** What each recovery message the drill cares about means for the log's facts. */
const MESSAGES: ReadonlyArray<[RegExp, (into: RecoveryLog, match: RegExpExecArray) => void]> = [
  [
    /^restored log file "([0-9A-F]{24})" from archive/,
    (into, match) => {
      into.restored++;
      into.lastRestored = match[1];
    },
  ],
  [
    /^recovery stopping at restore point "(.*)", time (.+)$/,
    (into, match) => {
      const timeText = (match[2] as string).trim();
      into.restorePoint = { name: match[1] as string, timeText, time: parsePgTime(timeText) };
    },
  ],
  [/^recovery ended before configured recovery target was reached/, (into) => (into.targetNotReached = true)],
  [
    /^last completed transaction was at log time (.+)$/,
    (into, match) => {
      into.lastTransactionText = (match[1] as string).trim();
      into.lastTransaction = parsePgTime(into.lastTransactionText);
    },
  ],
  [/^redo done at ([0-9A-F]+\/[0-9A-F]+)/, (into, match) => (into.redoDoneAt = match[1])],
  [/^selected new timeline ID: (\d+)/, (into, match) => (into.newTimeline = Number(match[1]))],
  [/^database system is ready to accept connections/, (into) => (into.ready = true)],
  [/recovery has paused|pausing at the end of recovery/, (into) => (into.paused = true)],
  [WAL_END, (into, match) => (into.walEnd = match.input)],
];

/** Clients turned away while the server starts, or asking for what is not there, are no failure of the server. */
const CLIENT_FATAL =
  /^(the database system is (starting up|not yet accepting|shutting down)|role ".*" does not exist|database ".*" does not exist)/;

/** Folds more log lines into `into` (the log is read as it grows). */
export function scanRecoveryLog(text: string, into: RecoveryLog = emptyRecoveryLog()): RecoveryLog {
  for (const line of text.split('\n')) {
    const message = /\b(LOG|FATAL|PANIC|WARNING|ERROR):\s+(.*)$/.exec(line);
    if (!message) continue;
    const [, level, body = ''] = message;
    for (const [pattern, apply] of MESSAGES) {
      const match = pattern.exec(body);
      if (match) {
        apply(into, match);
        break;
      }
    }
    if ((level === 'FATAL' || level === 'PANIC') && into.fatal === undefined && !CLIENT_FATAL.test(body)) {
      into.fatal = body;
    }
  }
  return into;
}
