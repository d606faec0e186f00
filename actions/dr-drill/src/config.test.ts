import { describe, expect, it } from 'vitest';
import type { DrFile } from '../../lib/environments/index.js';
import { resolvePlan } from './config.js';

const dr: DrFile = {
  rto: '1h',
  rpo: '15m',
  targets: [
    {
      kind: 'postgres',
      name: 'platform-db',
      'base-backups': '/b/base',
      'wal-archive': '/b/wal',
      source: 'postgresql://d@db/p',
    },
    { kind: 'etcd', name: 'cluster-etcd', snapshots: '/b/etcd' },
    { kind: 'velero', name: 'apps', schedule: 'daily-apps', namespaces: ['shop'] },
  ],
};
const environment = { name: 'production', dr, rtoMs: 3_600_000, rpoMs: 900_000 };

describe('resolvePlan', () => {
  it('takes every target and the environment objectives by default', () => {
    const plan = resolvePlan({ environment, select: [] });
    expect(plan.rtoMs).toBe(3_600_000);
    expect(plan.rpoMs).toBe(900_000);
    expect(plan.targets).toEqual([
      {
        kind: 'postgres',
        name: 'platform-db',
        baseBackups: '/b/base',
        walArchive: '/b/wal',
        source: 'postgresql://d@db/p',
      },
      { kind: 'etcd', name: 'cluster-etcd', snapshots: '/b/etcd' },
      { kind: 'velero', name: 'apps', schedule: 'daily-apps', namespaces: ['shop'] },
    ]);
  });

  it('selects by name or by kind', () => {
    expect(resolvePlan({ environment, select: ['etcd', 'apps'] }).targets.map((t) => t.name)).toEqual([
      'cluster-etcd',
      'apps',
    ]);
  });

  it('lays a config file over the environment, and the inputs over both', () => {
    const config = {
      path: 'drill.yaml',
      dr: { targets: [{ kind: 'etcd' as const, name: 'scratch-etcd', snapshots: '/tmp/etcd' }] },
      rpoMs: 60_000,
    };
    const plan = resolvePlan({ environment, config, select: [], rtoOverrideMs: 120_000 });
    expect(plan.targets.map((t) => t.name)).toEqual(['scratch-etcd']);
    expect(plan.rpoMs).toBe(60_000);
    expect(plan.rtoMs).toBe(120_000);
  });

  it('names an unknown selection and what is allowed', () => {
    expect(() => resolvePlan({ environment, select: ['platform', 'etcd'] })).toThrow(
      "Input 'targets' names 'platform', which is not a target in environments/production.yaml. Allowed: platform-db, cluster-etcd, apps or a kind (postgres, etcd, velero).",
    );
  });

  it('refuses an environment without targets, and duplicate names', () => {
    expect(() =>
      resolvePlan({ environment: { ...environment, dr: { rto: '1h', rpo: '1h' } }, select: [] }),
    ).toThrow('No drill targets: dr.targets in environments/production.yaml is empty or missing.');
    const twice: DrFile = {
      ...dr,
      targets: [dr.targets?.[1], dr.targets?.[1]].filter((t) => t !== undefined),
    };
    expect(() => resolvePlan({ environment: { ...environment, dr: twice }, select: [] })).toThrow(
      "Two drill targets are named 'cluster-etcd'",
    );
  });
});
