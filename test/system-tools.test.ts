// The real system tools (scripts/setup-system.sh) are present, and the server helpers start, work and clean up.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MissingToolError,
  postgresBinDir,
  requireTool,
  runTool,
  toolVersion,
} from '../scripts/lib/system-tools.js';
import { startEtcd } from './support/etcd.js';
import { freePort, isPortOpen } from './support/free-port.js';
import { startPostgres } from './support/postgres.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('system tools', () => {
  const tools: Array<[name: string, version: RegExp]> = [
    ['terraform', /^Terraform v\d+\.\d+/],
    ['ansible-playbook', /^ansible-playbook \[core \d+\.\d+/],
    ['psql', /^psql \(PostgreSQL\) \d+/],
    ['initdb', /^initdb \(PostgreSQL\) \d+/],
    ['etcd', /^etcd Version: \d+\.\d+/],
    ['etcdctl', /^etcdctl version: \d+\.\d+/],
    ['prometheus', /^prometheus, version \d+\.\d+/],
    ['promtool', /^promtool, version \d+\.\d+/],
    ['docker-registry', /docker-registry .*\d+\.\d+/],
    ['buildah', /^buildah version \d+\.\d+/],
    ['skopeo', /^skopeo version \d+\.\d+/],
    ['debootstrap', /^debootstrap \d+\.\d+/],
  ];

  it.each(tools)('%s is installed and prints its version', (name, version) => {
    const path = requireTool(name);
    expect(path.startsWith('/')).toBe(true);
    expect(toolVersion(name)).toMatch(version);
  });

  it('finds the PostgreSQL server binaries in the newest /usr/lib/postgresql/<major>/bin', () => {
    const binDir = postgresBinDir();
    expect(binDir).toMatch(/^\/usr\/lib\/postgresql\/\d+\/bin$/);
    for (const name of ['initdb', 'postgres', 'pg_ctl', 'pg_basebackup', 'pg_amcheck']) {
      expect(requireTool(name)).toBe(join(binDir, name));
    }
    // psql resolves to the same major, not Debian's pg_wrapper
    expect(requireTool('psql')).toBe(join(binDir, 'psql'));
  });

  it('runs the version check when asked to', () => {
    expect(requireTool('promtool', { versionArgs: ['--version'] })).toMatch(/\/promtool$/);
    expect(() => requireTool('promtool', { versionArgs: ['--no-such-flag'] })).toThrow(
      /promtool.*bash scripts\/setup-system\.sh/s,
    );
  });

  it('fails, naming the tool and the setup script, when a tool is missing', () => {
    expect(() => requireTool('definitely-not-installed-xyz')).toThrow(MissingToolError);
    expect(() => requireTool('definitely-not-installed-xyz')).toThrow(
      /"definitely-not-installed-xyz" is missing.*`bash scripts\/setup-system\.sh`/s,
    );
  });
});

describe('free ports', () => {
  it('hands out a loopback port nobody listens on', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await isPortOpen(port)).toBe(false);
  });
});

describe('PostgreSQL', () => {
  it('archives WAL into walArchiveDir', async () => {
    const archive = tempDir('spark-wal-');
    const pg = await startPostgres({ walArchiveDir: archive });
    cleanups.push(() => pg.stop());

    expect(pg.connectionString).toBe(`postgresql://postgres@127.0.0.1:${pg.port}/postgres?sslmode=disable`);
    expect((await pg.psql('SHOW archive_mode;')).trim()).toBe('on');
    await pg.psql(
      "CREATE TABLE drill (id int PRIMARY KEY, note text); INSERT INTO drill VALUES (1, 'hello');",
    );
    expect((await pg.psql('SELECT note FROM drill WHERE id = 1;')).trim()).toBe('hello');
    const segment = (await pg.psql('SELECT pg_walfile_name(pg_switch_wal());')).trim();
    expect(segment).toMatch(/^[0-9A-F]{24}$/);

    const archived = await waitFor('the WAL segment to be archived', () =>
      readdirSync(archive).includes(segment) ? segment : undefined,
    );
    expect(statSync(join(archive, archived)).size).toBe(16 * 1024 * 1024);
    expect(Number((await pg.psql('SELECT archived_count FROM pg_stat_archiver;')).trim())).toBeGreaterThan(0);
  });
});

describe('etcd', () => {
  it('stores a key and takes a snapshot that reports its status', async () => {
    const etcd = await startEtcd();
    cleanups.push(() => etcd.stop());

    await etcd.etcdctl(['put', '/spark/drill', 'hello']);
    expect(await etcd.etcdctl(['get', '/spark/drill', '--print-value-only'])).toBe('hello\n');

    const snapshot = join(tempDir('spark-etcd-snap-'), 'etcd.db');
    await etcd.etcdctl(['snapshot', 'save', snapshot]);
    expect(statSync(snapshot).size).toBeGreaterThan(0);

    // etcd 3.5+ moved offline snapshot commands to etcdutl; Debian 12's 3.4 still has them in etcdctl.
    let statusJson: string;
    try {
      const etcdutl = requireTool('etcdutl');
      statusJson = (await runTool(etcdutl, ['snapshot', 'status', snapshot, '--write-out', 'json'])).stdout;
    } catch (error) {
      if (!(error instanceof MissingToolError)) throw error;
      statusJson = await etcd.etcdctl(['snapshot', 'status', snapshot, '--write-out', 'json']);
    }
    const status = JSON.parse(statusJson) as {
      hash: number;
      revision: number;
      totalKey: number;
      totalSize: number;
    };
    expect(status.revision).toBeGreaterThanOrEqual(2);
    expect(status.totalKey).toBeGreaterThanOrEqual(1);
    expect(status.totalSize).toBeGreaterThan(0);
  });
});

describe('cleanup', () => {
  it('leaves no server, port or directory behind after stop()', async () => {
    const pg = await startPostgres();
    const etcd = await startEtcd();
    const etcdPort = Number(new URL(etcd.clientUrl).port);
    const etcdPeerPort = Number(new URL(etcd.peerUrl).port);
    expect(await isPortOpen(pg.port)).toBe(true);
    expect(await isPortOpen(etcdPort)).toBe(true);

    await pg.stop();
    await etcd.stop();
    await pg.stop(); // idempotent
    await etcd.stop();

    expect(await isPortOpen(pg.port)).toBe(false);
    expect(await isPortOpen(etcdPort)).toBe(false);
    expect(await isPortOpen(etcdPeerPort)).toBe(false);
    expect(existsSync(pg.dataDir)).toBe(false);
    expect(existsSync(pg.socketDir)).toBe(false);
    expect(existsSync(etcd.dataDir)).toBe(false);
    expect(processIsGone(pg.pid)).toBe(true);
    expect(processIsGone(etcd.pid)).toBe(true);
  });
});
