/**
 * Which targets a drill restores, and against which RTO and RPO: the environment file's `dr:` section, a
 * `config` file of the same shape laid over it, the `targets` selection and the target overrides.
 */
import type { DrFile, DrTargetFile } from '../../lib/environments/index.js';
import { ActionError } from '../../lib/errors.js';
import type { DrillTarget } from './types.js';

export interface DrillPlan {
  rtoMs: number;
  rpoMs: number;
  targets: DrillTarget[];
}

export interface PlanSources {
  /** The environment's `dr:` section, durations already checked. */
  environment: { name: string; dr: DrFile; rtoMs: number; rpoMs: number };
  /** A `config` file's `dr:` section, already schema-checked, with its durations in ms. */
  config?: { path: string; dr: Partial<DrFile>; rtoMs?: number; rpoMs?: number };
  /** Target names or kinds; empty means all. */
  select: string[];
  rtoOverrideMs?: number;
  rpoOverrideMs?: number;
}

export function toDrillTarget(target: DrTargetFile): DrillTarget {
  switch (target.kind) {
    case 'postgres':
      return {
        kind: 'postgres',
        name: target.name,
        baseBackups: target['base-backups'],
        walArchive: target['wal-archive'],
        ...(target.source ? { source: target.source } : {}),
      };
    case 'etcd':
      return { kind: 'etcd', name: target.name, snapshots: target.snapshots };
    case 'velero':
      return {
        kind: 'velero',
        name: target.name,
        schedule: target.schedule,
        namespaces: target.namespaces,
        ...(target['velero-namespace'] ? { veleroNamespace: target['velero-namespace'] } : {}),
      };
  }
}

export function resolvePlan(sources: PlanSources): DrillPlan {
  const where = sources.config
    ? `${sources.config.path} (over environments/${sources.environment.name}.yaml)`
    : `environments/${sources.environment.name}.yaml`;
  const all = (sources.config?.dr.targets ?? sources.environment.dr.targets ?? []).map(toDrillTarget);
  if (all.length === 0) {
    throw new ActionError('bad-input', `No drill targets: dr.targets in ${where} is empty or missing.`);
  }
  const names = new Set<string>();
  for (const target of all) {
    if (names.has(target.name)) {
      throw new ActionError(
        'bad-input',
        `Two drill targets are named '${target.name}' in ${where}; names must be unique.`,
      );
    }
    names.add(target.name);
  }
  const unknown = sources.select.filter((s) => !all.some((t) => t.name === s || t.kind === s));
  if (unknown.length > 0) {
    const kinds = [...new Set(all.map((t) => t.kind))];
    throw new ActionError(
      'bad-input',
      `Input 'targets' names ${unknown.map((u) => `'${u}'`).join(', ')}, which is not a target in ${where}. ` +
        `Allowed: ${[...names].join(', ')} or a kind (${kinds.join(', ')}).`,
    );
  }
  const targets =
    sources.select.length === 0
      ? all
      : all.filter((t) => sources.select.some((s) => s === t.name || s === t.kind));
  return {
    rtoMs: sources.rtoOverrideMs ?? sources.config?.rtoMs ?? sources.environment.rtoMs,
    rpoMs: sources.rpoOverrideMs ?? sources.config?.rpoMs ?? sources.environment.rpoMs,
    targets,
  };
}
