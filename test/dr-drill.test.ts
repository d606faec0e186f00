// dr-drill end to end: the bundled action, run as the runner runs it, restores real PostgreSQL base backups with
// their WAL archive and a real etcd snapshot, reports, and keeps one issue in step with the GitHub stand-in.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTool } from '../scripts/lib/system-tools.js';
import { repoRoot, runActionBundle } from './support/action-runner.js';
import { type EtcdServer, startEtcd } from './support/etcd.js';
import { type GitHubApi, startGitHubApi } from './support/github-api.js';
import { type PostgresServer, startPostgres } from './support/postgres.js';

let pg: PostgresServer;
let etcd: EtcdServer;
let api: GitHubApi;
let base = '';
let workspace = '';
const secretPassword = 'pw-drill-Secret-7731';

async function waitFor(probe: () => boolean, what: string) {
  const deadline = Date.now() + 60_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'spark-drill-e2e-'));
  chmodSync(base, 0o711);
  const archive = join(base, 'wal');
  mkdirSync(join(base, 'base'));
  mkdirSync(join(base, 'etcd'));
  pg = await startPostgres({ walArchiveDir: archive });
  await pg.psql(`
    CREATE ROLE drill LOGIN SUPERUSER PASSWORD '${secretPassword}';
    CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric(10,2));
    INSERT INTO orders SELECT g, 'c' || g, g * 2.5 FROM generate_series(1, 1000) g;
  `);
  await runTool(
    join(pg.binDir, 'pg_basebackup'),
    ['-d', pg.connectionString, '-D', join(base, 'base', '20261101T010000'), '-Fp', '-c', 'fast'],
    {
      timeoutMs: 120_000,
    },
  );
  await pg.psql('INSERT INTO orders SELECT g, $$late$$, 1 FROM generate_series(1001, 1200) g;');
  const segment = (await pg.psql('SELECT pg_walfile_name(pg_switch_wal());')).trim();
  await waitFor(() => existsSync(join(archive, segment)), 'the WAL archive');

  etcd = await startEtcd();
  for (let i = 0; i < 25; i++) await etcd.etcdctl(['put', `/registry/configmaps/shop/c${i}`, `v${i}`]);
  await etcd.etcdctl(['snapshot', 'save', join(base, 'etcd', 'snapshot-1.db')]);

  api = await startGitHubApi({ repos: { 'spark/platform': {} } });

  workspace = mkdtempSync(join(tmpdir(), 'spark-drill-ws-'));
  mkdirSync(join(workspace, 'environments'));
  const dev = readFileSync(join(repoRoot, 'environments/dev.yaml'), 'utf8');
  const source = `postgresql://drill:${secretPassword}@127.0.0.1:${pg.port}/postgres?sslmode=disable`;
  const dr = `dr:
  rto: 10m
  rpo: 1h
  targets:
    - kind: postgres
      name: platform-db
      base-backups: ${join(base, 'base')}
      wal-archive: ${archive}
      source: ${source}
    - kind: etcd
      name: cluster-etcd
      snapshots: ${join(base, 'etcd')}
`;
  writeFileSync(
    join(workspace, 'environments/drilltest.yaml'),
    `${dev.replace(/^dr:\n(?:[ #].*\n|\n)*/m, '').replace(/^name: dev$/m, 'name: drilltest')}\n${dr}`,
  );
}, 180_000);

afterAll(async () => {
  await pg?.stop();
  await etcd?.stop();
  await api?.close();
  rmSync(base, { recursive: true, force: true });
  rmSync(workspace, { recursive: true, force: true });
});

const drill = (inputs: Record<string, string> = {}, env: Record<string, string> = {}) =>
  runActionBundle('dr-drill', {
    env,
    workspace,
    eventName: 'schedule',
    apiUrl: api.url,
    repository: 'spark/platform',
    inputs: { environment: 'drilltest', 'github-token': 'ghs_e2eToken0001', ...inputs },
    timeoutMs: 300_000,
  });

const drillProcesses = async (root: string) =>
  (await runTool('ps', ['-eo', 'args='])).stdout
    .split('\n')
    .filter((l) => l.includes(root) && !l.startsWith('ps '));

describe('dr-drill, bundled', () => {
  it('restores both targets, measures RTO and RPO, reports, and leaves nothing running', async () => {
    const result = await drill();
    expect(result.outputs['failure-reason'], result.summary).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.outputs.status).toBe('pass');
    expect(result.outputs['rto-seconds']).toMatch(/^\d+(\.\d+)?$/);
    expect(result.outputs['rpo-seconds']).toMatch(/^\d+(\.\d+)?$/);
    expect(Number(result.outputs['rto-seconds'])).toBeGreaterThan(0);
    // The archive held everything up to the last switch this test made, seconds before the drill.
    expect(Number(result.outputs['rpo-seconds'])).toBeGreaterThan(0);
    expect(Number(result.outputs['rpo-seconds'])).toBeLessThan(300);
    const report = JSON.parse(readFileSync(result.outputs['report-path'] ?? '', 'utf8'));
    expect(report.targets.map((t: { name: string; status: string }) => `${t.name}:${t.status}`)).toEqual([
      'platform-db:pass',
      'cluster-etcd:pass',
    ]);
    expect(report.objectives).toEqual({ rtoSeconds: 600, rpoSeconds: 3600 });
    expect(result.summary).toContain('### ✅ DR drill passed: drilltest');
    expect(result.summary).toContain('```mermaid\ngantt');
    expect(result.masks).toContain(secretPassword);
    expect(result.everythingWritten()).not.toContain(secretPassword);
    expect(result.everythingWritten()).not.toContain('ghs_e2eToken0001');
    const pgChecks = report.targets[0].checks.map((c: { name: string; ok: boolean }) => `${c.name}:${c.ok}`);
    expect(pgChecks).toContain('tables match the restore point:true');
    expect(readdirSync(result.runnerTemp).filter((d) => d.startsWith('spark-drill-'))).toEqual([]);
    expect(await drillProcesses(result.runnerTemp)).toEqual([]);
    // No failure issue on a pass with none open.
    expect(api.requests.filter((r) => r.method === 'POST')).toEqual([]);
  }, 300_000);

  it('restores PostgreSQL under a RUNNER_TEMP deeper than a Unix socket path may be', async () => {
    // A runner's temp dir can be deep (a self-hosted runner's _work/_temp); the scratch server's socket
    // (at most 107 bytes) must not live under it.
    const deep = join(base, 'runner', 'x'.repeat(60), 'y'.repeat(40));
    mkdirSync(deep, { recursive: true });
    chmodSync(join(base, 'runner'), 0o711);
    const result = await drill({ targets: 'postgres' }, { RUNNER_TEMP: deep });
    expect(result.outputs['failure-reason'], result.summary).toBe('');
    expect(result.outputs.status).toBe('pass');
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith('spark-drill-sock-'))).toEqual([]);
  }, 300_000);

  it('fails on a missing backup, opens one issue, comments on the next failure, and closes it on a pass', async () => {
    const first = await drill({ targets: 'etcd', config: join(base, 'no-such-dir.yaml') });
    expect(first.outputs['failure-reason']).toBe('bad-input');
    expect(first.annotations[0]?.message).toContain("Input 'config' names");

    const emptyConfig = join(base, 'empty-etcd.yaml');
    mkdirSync(join(base, 'etcd-empty'));
    writeFileSync(
      emptyConfig,
      `dr:\n  rto: 10m\n  rpo: 1h\n  targets:\n    - { kind: etcd, name: cluster-etcd, snapshots: ${join(base, 'etcd-empty')} }\n`,
    );
    const failed = await drill({ config: emptyConfig });
    expect(failed.exitCode).toBe(1);
    expect(failed.outputs.status).toBe('fail');
    expect(failed.outputs['failure-reason']).toBe('backup-missing');
    expect(failed.outputs['issue-url']).toMatch(/\/issues\/\d+$/);
    const again = await drill({ config: emptyConfig });
    expect(again.outputs['issue-url']).toBe(failed.outputs['issue-url']);

    // A pass closes the issue only when it drilled every target it was configured with.
    const partial = await drill({ targets: 'etcd' });
    expect(partial.outputs.status).toBe('pass');
    expect(api.state.repo('spark/platform').issues.filter((i) => i.state === 'open')).toHaveLength(1);
    const etcdOnly = join(base, 'etcd-only.yaml');
    writeFileSync(
      etcdOnly,
      `dr:\n  rto: 10m\n  rpo: 1h\n  targets:\n    - { kind: etcd, name: cluster-etcd, snapshots: ${join(base, 'etcd')} }\n`,
    );
    const passed = await drill({ config: etcdOnly });
    expect(passed.outputs.status).toBe('pass');
    expect(passed.outputs['issue-url']).toBe(failed.outputs['issue-url']);
    const issues = api.state.repo('spark/platform').issues.filter((i) => i.labels.includes('dr-drill'));
    expect(issues.map((i) => i.state)).toEqual(['closed']);
    expect(api.state.comments('spark/platform', issues[0]?.number ?? 0)).toHaveLength(2);
  }, 300_000);

  it('fails with rpo-exceeded when the target is tighter than the real gap', async () => {
    for (const target of ['cluster-etcd', 'platform-db']) {
      const result = await drill({ targets: target, 'rpo-target': '1ms', 'issue-on-failure': 'false' });
      expect(result.outputs.status).toBe('fail');
      expect(result.outputs['failure-reason']).toBe('rpo-exceeded');
      expect(readdirSync(result.runnerTemp).filter((d) => d.startsWith('spark-drill-'))).toEqual([]);
      expect(await drillProcesses(result.runnerTemp)).toEqual([]);
    }
  }, 300_000);

  it('never passes when a WAL segment the restore needs is gone', async () => {
    const archive = join(base, 'wal');
    const segments = readdirSync(archive)
      .filter((f) => /^[0-9A-F]{24}$/.test(f))
      .sort();
    const victim = segments.at(-2) as string;
    const saved = readFileSync(join(archive, victim));
    unlinkSync(join(archive, victim));
    try {
      const result = await drill({ targets: 'platform-db', 'issue-on-failure': 'false' });
      expect(result.outputs.status).toBe('fail');
      expect(['verification-failed', 'restore-failed', 'rpo-exceeded']).toContain(
        result.outputs['failure-reason'],
      );
      expect(await drillProcesses(result.runnerTemp)).toEqual([]);
    } finally {
      writeFileSync(join(archive, victim), saved);
    }
  }, 300_000);
});
