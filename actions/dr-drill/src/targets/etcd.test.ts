import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeServerTempDir } from '../../../../scripts/lib/system-tools.js';
import { type EtcdServer, startEtcd } from '../../../../test/support/etcd.js';
import { SecretMasker } from '../../../lib/secrets.js';
import { Scratch } from '../scratch.js';
import type { DrillContext, EtcdTarget } from '../types.js';
import { drillEtcd, newestSnapshot, scanSnapshot } from './etcd.js';

let source: EtcdServer;
let work: string;
/** A good snapshot, and what the source served when it was taken. */
let snapshot: string;
let expected: { liveKeys: number; revision: number };
const scratches: Scratch[] = [];
const MARKER = 'drill-marker-value-0123456789abcdef';

function context(overrides: Partial<DrillContext> = {}): DrillContext & { lines: string[] } {
  const lines: string[] = [];
  const scratch = new Scratch(work);
  scratches.push(scratch);
  return {
    drillStart: Date.now(),
    now: () => Date.now(),
    scratch,
    signal: new AbortController().signal,
    log: (line) => lines.push(line),
    masker: new SecretMasker(),
    lines,
    ...overrides,
  };
}

function target(dir: string): EtcdTarget {
  return { kind: 'etcd', name: 'k8s-etcd', snapshots: dir };
}

/** A fresh snapshot directory holding a copy of the good snapshot, `bytes` transformed. */
function snapshotDir(name: string, transform: (bytes: Buffer) => Buffer = (bytes) => bytes): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'etcd-snapshot.db'), transform(readFileSync(snapshot)));
  return dir;
}

/** Process ids whose command line mentions `text` (our restored etcd runs with its data dir in argv). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

beforeAll(async () => {
  work = makeServerTempDir('spark-etcd-drill-');
  source = await startEtcd();
  for (let i = 0; i < 40; i++) await source.etcdctl(['put', `/registry/pods/default/pod-${i}`, `v${i}`]);
  for (let i = 0; i < 10; i++)
    await source.etcdctl(['put', `/registry/pods/default/pod-${i}`, `v${i}-again`]);
  for (let i = 30; i < 40; i++) await source.etcdctl(['del', `/registry/pods/default/pod-${i}`]);
  await source.etcdctl(['put', '/registry/configmaps/kube-system/marker', MARKER]);
  const served = JSON.parse(
    await source.etcdctl(['get', '', '--prefix', '--keys-only', '--limit', '1', '-w', 'json']),
  );
  expected = { liveKeys: served.count, revision: served.header.revision };
  snapshot = join(work, 'good.db');
  await source.etcdctl(['snapshot', 'save', snapshot]);
}, 120_000);

afterEach(async () => {
  for (const scratch of scratches.splice(0)) await scratch.cleanup();
});

afterAll(async () => {
  await source?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('scanSnapshot', () => {
  it('counts live keys apart from totalKey, which counts every revision and etcd’s own buckets', () => {
    const scan = scanSnapshot(snapshot);
    expect(scan.liveKeys).toBe(31);
    expect(expected.liveKeys).toBe(31);
    expect(scan.revision).toBe(expected.revision);
    // 40 + 10 puts, 10 tombstones, 1 marker: every revision is a key in the `key` bucket.
    expect(scan.buckets.key).toBe(61);
    expect(scan.totalKey).toBeGreaterThan(61);
  });
});

describe('scanSnapshot on a larger, compacted store', () => {
  it('agrees with snapshot status and the server through branch pages, overflow pages and compaction', async () => {
    const server = await startEtcd();
    try {
      const b64 = (text: string) => Buffer.from(text).toString('base64');
      const call = async (path: string, body: unknown) => {
        const response = await fetch(`${server.clientUrl}/v3/${path}`, {
          method: 'POST',
          body: JSON.stringify(body),
        });
        expect(response.ok).toBe(true);
        return (await response.json()) as { header: { revision: string } };
      };
      for (let i = 0; i < 1500; i++) await call('kv/put', { key: b64(`/k/${i}`), value: b64(`value-${i}`) });
      await call('kv/put', { key: b64('/big'), value: b64('x'.repeat(20_000)) });
      for (let i = 0; i < 300; i++) await call('kv/deleterange', { key: b64(`/k/${i}`) });
      const { header } = await call('kv/put', { key: b64('/k/0'), value: b64('back') });
      await call('kv/compaction', { revision: String(Number(header.revision) - 100), physical: true });
      for (let i = 300; i < 400; i++) await call('kv/put', { key: b64(`/k/${i}`), value: b64('changed') });

      const file = join(work, 'large.db');
      await server.etcdctl(['snapshot', 'save', file]);
      const status = JSON.parse(await server.etcdctl(['snapshot', 'status', file, '-w', 'json']));
      const served = JSON.parse(
        await server.etcdctl(['get', '', '--prefix', '--keys-only', '--limit', '1', '-w', 'json']),
      );
      const scan = scanSnapshot(file);
      expect(scan.totalKey).toBe(status.totalKey);
      expect(scan.revision).toBe(status.revision);
      expect(scan.liveKeys).toBe(served.count);
      expect(scan.liveKeys).toBe(1500 - 300 + 1 + 1);
    } finally {
      await server.stop();
    }
  });
});

describe('newestSnapshot', () => {
  it('picks the newest finished file by mtime and ignores partial files', () => {
    const dir = join(work, 'pick');
    mkdirSync(dir);
    for (const [name, age] of [
      ['a.db', 300],
      ['b.db', 100],
      ['c.db', 200],
      ['d.db.part', 0],
    ] as const) {
      writeFileSync(join(dir, name), 'x');
      const at = new Date(Date.now() - age * 1000);
      utimesSync(join(dir, name), at, at);
    }
    expect(newestSnapshot(dir).path).toBe(join(dir, 'b.db'));
  });
});

describe('drillEtcd', () => {
  it('restores the newest snapshot into a scratch etcd and checks key count and revision', async () => {
    const dir = snapshotDir('clean');
    // An older snapshot that must not be chosen, and a partial one that is newer.
    writeFileSync(join(dir, 'old.db'), 'stale');
    utimesSync(join(dir, 'old.db'), new Date(1_000_000), new Date(1_000_000));
    writeFileSync(join(dir, 'next.db.part'), 'partial');
    const ctx = context();
    const result = await drillEtcd(target(dir), ctx);

    expect(result.message).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.backup).toBe(join(dir, 'etcd-snapshot.db'));
    expect(result.phases.map((phase) => [phase.name, phase.ok])).toEqual([
      ['find-backup', true],
      ['status', true],
      ['restore', true],
      ['start', true],
      ['verify', true],
    ]);
    expect(result.checks).toEqual([
      expect.objectContaining({ name: 'snapshot-scan', ok: true }),
      expect.objectContaining({ name: 'key-count', ok: true, actual: String(expected.liveKeys) }),
      expect.objectContaining({ name: 'revision', ok: true, actual: String(expected.revision) }),
    ]);
    const recoveryPoint = result.recoveryPoint ?? 0;
    const restoreStartedAt = result.restoreStartedAt ?? 0;
    expect(recoveryPoint).toBeGreaterThan(0);
    expect(recoveryPoint).toBeLessThanOrEqual(restoreStartedAt);
    expect(restoreStartedAt).toBeLessThanOrEqual(result.verifiedAt ?? 0);

    const root = ctx.scratch.root;
    expect(processesMentioning(root).length).toBeGreaterThan(0);
    expect(await ctx.scratch.cleanup()).toEqual([]);
    expect(processesMentioning(root)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });

  const passStatusFailRestore: Array<[string, (bytes: Buffer) => Buffer]> = [
    [
      'a value overwritten in place (bit rot in data)',
      (bytes) => {
        const at = bytes.indexOf(MARKER);
        expect(at).toBeGreaterThan(0);
        return Buffer.from(bytes).fill('X', at, at + MARKER.length);
      },
    ],
    [
      'the first meta page overwritten (bolt falls back to the second)',
      (bytes) => Buffer.from(bytes).fill(0, 16, 80),
    ],
  ];
  it.each(passStatusFailRestore)(
    'fails restore-failed for %s: status passes, the sha256 does not',
    async (name, transform) => {
      const result = await drillEtcd(target(snapshotDir(name.replace(/\W+/g, '-'), transform)), context());
      expect(result.ok).toBe(false);
      expect(result.failure).toBe('restore-failed');
      expect(result.phases.map((phase) => [phase.name, phase.ok])).toEqual([
        ['find-backup', true],
        ['status', true],
        ['restore', false],
      ]);
      expect(result.message).toMatch(/expected sha256/);
      expect(result.restoreStartedAt).toBeDefined();
      expect(result.verifiedAt).toBeUndefined();
    },
  );

  // Whether `snapshot status` walks the damaged page (and crashes) depends on the page layout of each run; either
  // way the drill must fail the restore, at status or at the hash check of `snapshot restore`.
  it('fails restore-failed when a leaf page’s element headers are overwritten', async () => {
    const dir = snapshotDir('leaf-headers', (bytes) => {
      const copy = Buffer.from(bytes);
      // The first leaf page with many elements is the `key` bucket's.
      let page = 2;
      while (!(copy.readUInt16LE(page * 4096 + 8) === 0x02 && copy.readUInt16LE(page * 4096 + 10) > 20))
        page++;
      copy.fill(0xff, page * 4096 + 20, page * 4096 + 84);
      return copy;
    });
    const result = await drillEtcd(target(dir), context());
    expect(result.failure).toBe('restore-failed');
    const failed = result.phases.at(-1);
    expect(failed?.ok).toBe(false);
    expect(['status', 'restore']).toContain(failed?.name);
    expect(result.message).toMatch(failed?.name === 'status' ? /panic:/ : /expected sha256/);
    expect(result.verifiedAt).toBeUndefined();
  });

  it('fails restore-failed at status for a truncated snapshot', async () => {
    const dir = snapshotDir('truncated', (bytes) => bytes.subarray(0, 10_000));
    const result = await drillEtcd(target(dir), context());
    expect(result.failure).toBe('restore-failed');
    expect(result.phases.at(-1)).toMatchObject({ name: 'status', ok: false });
  });

  it('fails restore-failed at status when both meta pages are overwritten', async () => {
    const dir = snapshotDir('meta', (bytes) => {
      const copy = Buffer.from(bytes);
      copy.fill(0, 16, 80);
      copy.fill(0, 4096 + 16, 4096 + 80);
      return copy;
    });
    const result = await drillEtcd(target(dir), context());
    expect(result.failure).toBe('restore-failed');
    expect(result.phases.at(-1)).toMatchObject({ name: 'status', ok: false });
    expect(result.message).toMatch(/invalid database/);
  });

  it('fails restore-failed when the appended hash is missing', async () => {
    const dir = snapshotDir('no-hash');
    const file = join(dir, 'etcd-snapshot.db');
    truncateSync(file, readFileSync(file).length - 32);
    const result = await drillEtcd(target(dir), context());
    expect(result.failure).toBe('restore-failed');
    expect(result.message).toMatch(/missing hash/);
  });

  it('answers backup-missing, naming the directory, for an empty or missing directory', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'only.db.part'), 'partial');
    for (const dir of [empty, join(work, 'does-not-exist')]) {
      const result = await drillEtcd(target(dir), context());
      expect(result.ok).toBe(false);
      expect(result.failure).toBe('backup-missing');
      expect(result.message).toContain(dir);
      expect(result.phases).toEqual([expect.objectContaining({ name: 'find-backup', ok: false })]);
    }
  });

  it('answers timeout when the drill is aborted while etcd starts, and cleanup stops that etcd', async () => {
    const dir = snapshotDir('aborted');
    const controller = new AbortController();
    const ctx = context({
      signal: controller.signal,
      log: (line) => {
        if (line.includes('start …')) controller.abort();
      },
    });
    const result = await drillEtcd(target(dir), ctx);
    expect(result.failure).toBe('timeout');
    expect(result.phases.at(-1)).toMatchObject({ name: 'start', ok: false });
    const root = ctx.scratch.root;
    expect(await ctx.scratch.cleanup()).toEqual([]);
    expect(processesMentioning(root)).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });
});

it('leaves no scratch directory behind in the work dir', () => {
  expect(readdirSync(work).filter((entry) => entry.startsWith('spark-drill-'))).toEqual([]);
});
