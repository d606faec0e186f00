/**
 * The RTO of a PostgreSQL drill on a database of BENCH_DB_MB (default 1024) megabytes, as a ratio to a plain
 * `cp -a` of the same base backup measured in the same run: how much the restore, recovery and verification
 * cost on top of copying the bytes.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Scratch } from '../actions/dr-drill/src/scratch.js';
import { drillPostgres } from '../actions/dr-drill/src/targets/postgres.js';
import { chownToPostgres } from '../actions/lib/postgres-server.js';
import { SecretMasker } from '../actions/lib/secrets.js';
import { runTool } from '../scripts/lib/system-tools.js';
import { startPostgres } from '../test/support/postgres.js';

const megabytes = Number(process.env.BENCH_DB_MB ?? 1024);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;

export async function benchDrill(): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'spark-bench-drill-'));
  const archive = join(base, 'wal');
  const backups = join(base, 'base');
  mkdirSync(backups);
  chownToPostgres(base);
  const pg = await startPostgres({ walArchiveDir: archive });
  try {
    // About 250 bytes a row on disk.
    const rows = Math.round((megabytes * 1024 * 1024) / 250);
    console.log(`dr-drill: building a ${megabytes} MB database (${rows} rows) …`);
    await pg.psql(
      `CREATE TABLE payload AS SELECT g AS id, md5(g::text) || repeat('x', 160) AS body FROM generate_series(1, ${rows}) g;`,
    );
    const size = (await pg.psql("SELECT pg_size_pretty(pg_database_size('postgres'));")).trim();
    await runTool(
      join(pg.binDir, 'pg_basebackup'),
      ['-d', pg.connectionString, '-D', join(backups, 'b1'), '-Fp', '-c', 'fast'],
      {
        timeoutMs: 3_600_000,
      },
    );
    const rto: number[] = [];
    const copy: number[] = [];
    const drillOnce = async () => {
      const scratch = new Scratch(base);
      const now = () => Date.now();
      const result = await drillPostgres(
        { kind: 'postgres', name: 'bench-db', baseBackups: backups, walArchive: archive },
        {
          drillStart: now(),
          now,
          scratch,
          signal: new AbortController().signal,
          log: () => {},
          masker: new SecretMasker(),
        },
      );
      await scratch.cleanup();
      if (!result.ok || result.verifiedAt === undefined || result.restoreStartedAt === undefined) {
        throw new Error(`the drill failed: ${result.failure}: ${result.message}`);
      }
      rto.push(result.verifiedAt - result.restoreStartedAt);
    };
    const copyOnce = async (i: number) => {
      const target = join(base, `copy-${i}`);
      const started = process.hrtime.bigint();
      await runTool('cp', ['-a', join(backups, 'b1'), target], { timeoutMs: 3_600_000 });
      copy.push(Number(process.hrtime.bigint() - started) / 1e6);
      rmSync(target, { recursive: true, force: true });
    };
    // Alternate which one goes first, so neither always finds the page cache warmed by the other.
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        await copyOnce(i);
        await drillOnce();
      } else {
        await drillOnce();
        await copyOnce(i);
      }
    }
    const ratio = median(rto) / median(copy);
    console.log(
      `dr-drill: RTO of a drill on a ${size} database\n  ${median(rto).toFixed(0)} ms vs ${median(copy).toFixed(0)} ms (cp -a of the same base backup) → ratio ${ratio.toFixed(2)}`,
    );
  } finally {
    await pg.stop();
    rmSync(base, { recursive: true, force: true });
  }
}
