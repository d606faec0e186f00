/**
 * The shapes a drill passes around: what each target is (from the environment file's `dr.targets`), and what
 * each target's drill found out.
 */
import type { SecretMasker } from '../../lib/secrets.js';
import type { Scratch } from './scratch.js';

export interface PostgresTarget {
  kind: 'postgres';
  name: string;
  /** One sub-directory per pg_basebackup run: plain (-Fp) or tar (-Ft, optionally -z). */
  baseBackups: string;
  /** Files written by archive_command. */
  walArchive: string;
  /** Optional live database (libpq URI), for a marker row, a restore point and the comparison values. */
  source?: string;
}

export interface EtcdTarget {
  kind: 'etcd';
  name: string;
  /** Files written by `etcdctl snapshot save`. */
  snapshots: string;
}

export interface VeleroTarget {
  kind: 'velero';
  name: string;
  schedule: string;
  namespaces: string[];
  /** Namespace Velero runs in. Default `velero`. */
  veleroNamespace?: string;
}

export type DrillTarget = PostgresTarget | EtcdTarget | VeleroTarget;
export type TargetKind = DrillTarget['kind'];

export type TargetFailure = 'backup-missing' | 'restore-failed' | 'verification-failed' | 'timeout';

export interface Phase {
  /** `find-backup`, `restore`, `start`, `verify`, `cleanup`, ... */
  name: string;
  /** Epoch milliseconds. */
  startedAt: number;
  endedAt: number;
  ok: boolean;
  detail?: string;
}

export interface Check {
  name: string;
  ok: boolean;
  expected?: string;
  actual?: string;
}

export interface TargetResult {
  name: string;
  kind: TargetKind;
  ok: boolean;
  failure?: TargetFailure;
  /** What went wrong, for a person. */
  message?: string;
  /** The backup the drill restored (path or Velero backup name). */
  backup?: string;
  /** Epoch ms of the newest data the restore recovered (newest transaction, snapshot time, backup time). */
  recoveryPoint?: number;
  /** Epoch ms: restore started / verification passed. RTO = verifiedAt - restoreStartedAt. */
  restoreStartedAt?: number;
  verifiedAt?: number;
  phases: Phase[];
  checks: Check[];
}

/** What a target drill gets from the orchestrator. */
export interface DrillContext {
  /** Epoch ms when the drill began: RPO = drillStart - recoveryPoint. */
  drillStart: number;
  now: () => number;
  /** Scratch directories and processes, removed and stopped by the orchestrator whatever happens. */
  scratch: Scratch;
  /** Aborted when the overall timeout is reached. */
  signal: AbortSignal;
  log: (line: string) => void;
  masker: SecretMasker;
}
