import { describe, expect, it } from 'vitest';
import { checkDrSchema } from './schema.js';

const lines = (data: unknown) => checkDrSchema(data).map((p) => `${p.path}: ${p.message}`);

describe('the dr section on its own (dr-drill config files)', () => {
  it('accepts every kind of target', () => {
    expect(
      lines({
        dr: {
          rto: '1h',
          rpo: '15m',
          targets: [
            { kind: 'postgres', name: 'platform-db', 'base-backups': '/b/base', 'wal-archive': '/b/wal' },
            { kind: 'etcd', name: 'cluster-etcd', snapshots: '/b/etcd' },
            { kind: 'velero', name: 'apps', schedule: 'daily-apps', namespaces: ['shop'] },
          ],
        },
      }),
    ).toEqual([]);
  });

  it('names the key, the kind and what is allowed', () => {
    expect(
      lines({
        dr: {
          rto: '1h',
          rpo: '15m',
          targets: [
            {
              kind: 'postgres',
              name: 'platform-db',
              'base-backup': '/srv/x',
              'wal-archive': 'relative/path',
            },
            { kind: 'mysql', name: 'x' },
            { kind: 'etcd', name: 'e', snapshots: '/srv/etcd; rm -rf /' },
            { kind: 'velero', name: 'apps', schedule: 'daily', namespaces: [] },
          ],
        },
        extra: 1,
      }),
    ).toEqual([
      "extra: unknown key 'extra'. Allowed keys: dr",
      'dr.targets[0].base-backups: is required but missing',
      "dr.targets[0].base-backup: unknown key 'base-backup'; did you mean 'base-backups'? Allowed keys: kind, name, base-backups, wal-archive, source",
      "dr.targets[0].wal-archive: must be an absolute path without spaces, quotes or shell characters, such as /srv/backup/pg/base, got 'relative/path'",
      "dr.targets[1].kind: 'mysql' is not allowed; allowed: postgres, etcd, velero",
      "dr.targets[2].snapshots: must be an absolute path without spaces, quotes or shell characters, such as /srv/backup/pg/base, got '/srv/etcd; rm -rf /'",
      expect.stringMatching(/^dr\.targets\[3\]\.namespaces: /),
    ]);
  });
});
