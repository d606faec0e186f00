/**
 * The embedded services of the local environment, run on this machine by `npm run rehearse` and kept running
 * with `--keep`: PostgreSQL for Terraform's state, a sample platform database with WAL archiving and base
 * backups into the backup area, and a single-member etcd with a snapshot there. They run as daemons (pg_ctl,
 * a detached etcd) so they outlive the rehearsal when kept; start* reuses a running one, stop* is harmless
 * when nothing runs. Fixed ports below 32768, so the tests' ephemeral ports never take them.
 */
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { etcdctlEnv, isEtcdHealthy, singleMemberArgs } from '../../actions/lib/etcd-member.js';
import { isPortOpen } from '../../actions/lib/free-port.js';
import {
  asPostgresUser,
  chownToPostgres,
  confLine,
  postgresServerEnv,
  psql,
  walArchiveCommand,
} from '../../actions/lib/postgres-server.js';
import { LOCAL_BACKUP_DIR, LOCAL_SERVICES_DIR } from './local-paths.js';
import { postgresBinDir, processAlive, requireTool, runTool, waitFor } from './system-tools.js';

export interface LocalPostgres {
  name: 'state-db' | 'platform-db';
  port: number;
  database: string;
}

export const STATE_DB: LocalPostgres = { name: 'state-db', port: 15432, database: 'terraform_state' };
export const PLATFORM_DB: LocalPostgres = { name: 'platform-db', port: 15433, database: 'platform' };
export const ETCD = { name: 'etcd', clientPort: 12379, peerPort: 12380 } as const;

const PG_BACKUP_BASE = join(LOCAL_BACKUP_DIR, 'pg', 'base');
export const PG_BACKUP_WAL = join(LOCAL_BACKUP_DIR, 'pg', 'wal');
const ETCD_BACKUP = join(LOCAL_BACKUP_DIR, 'etcd');

/** A libpq URI for the superuser over TCP (trust on loopback), to `database` (default the server's own). */
export const connectionString = (db: LocalPostgres, database = db.database) =>
  `postgresql://postgres@127.0.0.1:${db.port}/${database}?sslmode=disable`;

export const etcdClientUrl = `http://127.0.0.1:${ETCD.clientPort}`;

const serviceDir = (name: string) => join(LOCAL_SERVICES_DIR, name);

async function refuseForeignPort(port: number, service: string) {
  if (await isPortOpen(port, '127.0.0.1')) {
    throw new Error(
      `port ${port}, which the local ${service} uses, is taken by another program (see \`ss -ltnp 'sport = :${port}'\`); stop it and run again`,
    );
  }
}

// ------------------------------------------------------------------------------------------------ PostgreSQL

function postmasterPid(db: LocalPostgres): number {
  const file = join(serviceDir(db.name), 'data', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : 0;
}

export function isPostgresRunning(db: LocalPostgres): boolean {
  return processAlive(postmasterPid(db));
}

async function asPostgres(argv: string[], timeoutMs = 120_000) {
  const [file, ...args] = asPostgresUser(argv);
  return runTool(file as string, args, { env: postgresServerEnv(), timeoutMs });
}

/**
 * Starts the server `db` (initdb first when it has no data yet) and creates its database. With `walArchive`,
 * every finished WAL segment is copied there. Returns false when it was already running.
 */
export async function startLocalPostgres(
  db: LocalPostgres,
  options: { walArchive?: string } = {},
): Promise<boolean> {
  if (isPostgresRunning(db)) return false;
  await refuseForeignPort(db.port, db.name);
  const bin = postgresBinDir();
  const dir = serviceDir(db.name);
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chownToPostgres(dir);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    await asPostgres([
      join(bin, 'initdb'),
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    const conf = [
      confLine('listen_addresses', '127.0.0.1'),
      confLine('port', db.port),
      confLine('unix_socket_directories', dir),
      confLine('wal_level', 'replica'),
    ];
    if (options.walArchive !== undefined) {
      mkdirSync(options.walArchive, { recursive: true, mode: 0o755 });
      chownToPostgres(options.walArchive);
      conf.push(
        confLine('archive_mode', 'on'),
        confLine('archive_command', walArchiveCommand(options.walArchive)),
        // A segment at least every minute, so the archive (and the RPO) never lags far behind.
        confLine('archive_timeout', '60s'),
      );
    }
    appendFileSync(join(data, 'postgresql.conf'), `\n# spark-infra local environment\n${conf.join('\n')}\n`);
  }
  await asPostgres([
    join(bin, 'pg_ctl'),
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-w',
    '-t',
    '60',
    'start',
  ]);
  const exists = await psql(
    connectionString(db, 'postgres'),
    `SELECT 1 FROM pg_database WHERE datname = '${db.database}'`,
  );
  if (exists.trim() !== '1') await psql(connectionString(db, 'postgres'), `CREATE DATABASE ${db.database}`);
  return true;
}

/** Stops the server (fast shutdown) if it runs; `remove` also deletes its data. */
export async function stopLocalPostgres(
  db: LocalPostgres,
  options: { remove?: boolean } = {},
): Promise<void> {
  const dir = serviceDir(db.name);
  if (isPostgresRunning(db)) {
    await asPostgres([
      join(postgresBinDir(), 'pg_ctl'),
      '-D',
      join(dir, 'data'),
      '-m',
      'fast',
      '-w',
      '-t',
      '60',
      'stop',
    ]);
  }
  if (options.remove) rmSync(dir, { recursive: true, force: true });
}

/** The sample platform data: tenants and their invoices, so the drill has rows to hash and compare. */
export async function seedPlatformDatabase(): Promise<void> {
  await psql(
    connectionString(PLATFORM_DB),
    `CREATE TABLE IF NOT EXISTS tenants (id int PRIMARY KEY, name text NOT NULL, plan text NOT NULL);
     CREATE TABLE IF NOT EXISTS invoices (id bigserial PRIMARY KEY, tenant_id int REFERENCES tenants, total numeric(10,2), issued_at timestamptz DEFAULT now());
     INSERT INTO tenants SELECT g, 'tenant-' || g, (ARRAY['basic','pro','enterprise'])[1 + g % 3] FROM generate_series(1, 50) g ON CONFLICT DO NOTHING;
     INSERT INTO invoices (tenant_id, total) SELECT 1 + g % 50, (g % 997) * 1.25 FROM generate_series(1, 5000) g;`,
  );
}

/** A base backup of the platform database into <backup>/pg/base/<UTC time>, as the backup role's timer takes it. */
export async function takeBaseBackup(): Promise<string> {
  mkdirSync(PG_BACKUP_BASE, { recursive: true, mode: 0o755 });
  chownToPostgres(PG_BACKUP_BASE);
  const target = join(PG_BACKUP_BASE, new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, ''));
  await asPostgres(
    [
      join(postgresBinDir(), 'pg_basebackup'),
      '-d',
      connectionString(PLATFORM_DB, 'postgres'),
      '-D',
      target,
      '-Fp',
      '-c',
      'fast',
    ],
    600_000,
  );
  return target;
}

/** Writes rows and switches WAL: after the base backup, the drill must replay the archive to see them. */
export async function writeAndSwitchWal(): Promise<void> {
  await psql(
    connectionString(PLATFORM_DB),
    `INSERT INTO invoices (tenant_id, total) SELECT 1 + g % 50, 9.99 FROM generate_series(1, 500) g;
     SELECT pg_switch_wal();`,
  );
}

// ------------------------------------------------------------------------------------------------------ etcd

const etcdPidFile = () => join(serviceDir(ETCD.name), 'etcd.pid');

export function isEtcdRunning(): boolean {
  return existsSync(etcdPidFile()) && processAlive(Number(readFileSync(etcdPidFile(), 'utf8')));
}

export async function etcdctl(args: readonly string[]): Promise<string> {
  const { stdout } = await runTool(requireTool('etcdctl'), ['--endpoints', etcdClientUrl, ...args], {
    env: etcdctlEnv(),
    timeoutMs: 60_000,
  });
  return stdout;
}

/** Starts the single-member etcd, detached. Returns false when it was already running. */
export async function startLocalEtcd(): Promise<boolean> {
  if (isEtcdRunning()) return false;
  await refuseForeignPort(ETCD.clientPort, 'etcd');
  await refuseForeignPort(ETCD.peerPort, 'etcd');
  const dir = serviceDir(ETCD.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = join(dir, 'etcd.log');
  const out = openSync(log, 'a');
  try {
    const child = spawn(
      requireTool('etcd'),
      singleMemberArgs({
        name: 'spark-local',
        dataDir: join(dir, 'data'),
        clientUrl: etcdClientUrl,
        peerUrl: `http://127.0.0.1:${ETCD.peerPort}`,
      }),
      { detached: true, stdio: ['ignore', out, out] },
    );
    writeFileSync(etcdPidFile(), String(child.pid));
    child.unref();
  } finally {
    closeSync(out);
  }
  await waitFor('etcd to report healthy', () => isEtcdHealthy(etcdClientUrl), 60_000, log);
  return true;
}

export async function stopLocalEtcd(options: { remove?: boolean } = {}): Promise<void> {
  if (isEtcdRunning()) {
    const pid = Number(readFileSync(etcdPidFile(), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await waitFor(
      'etcd to stop',
      () => !processAlive(pid),
      30_000,
      join(serviceDir(ETCD.name), 'etcd.log'),
    ).catch(() => process.kill(pid, 'SIGKILL'));
  }
  if (options.remove) rmSync(serviceDir(ETCD.name), { recursive: true, force: true });
}

/** Cluster-like keys, then a snapshot into <backup>/etcd, as the backup role's timer takes it. */
export async function snapshotEtcd(): Promise<string> {
  for (let i = 0; i < 20; i++) {
    await etcdctl(['put', `/registry/configmaps/platform/settings-${i}`, `value-${i}`]);
  }
  mkdirSync(ETCD_BACKUP, { recursive: true, mode: 0o755 });
  const file = join(
    ETCD_BACKUP,
    `snapshot-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}.db`,
  );
  await etcdctl(['snapshot', 'save', file]);
  return file;
}

/** Removes the backup area (the rehearsal's backups are as disposable as its services). */
export function removeBackups(): void {
  rmSync(LOCAL_BACKUP_DIR, { recursive: true, force: true });
}

/** Which local services run now, by name. */
export function runningServices(): string[] {
  return [
    ...[STATE_DB, PLATFORM_DB].filter(isPostgresRunning).map((db) => db.name),
    ...(isEtcdRunning() ? [ETCD.name] : []),
  ];
}
