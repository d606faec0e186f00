/**
 * A state lock held by someone else: recognising Terraform's lock diagnostic and finding out who holds it.
 * Most backends store lock info (ID, who, operation, since when) and Terraform prints it. The `pg` backend
 * locks with a PostgreSQL advisory lock and stores nothing, and its message shows the lock Terraform tried to
 * take, not the holder's; so for `pg` the holder is the session that holds an advisory lock in the state
 * database, read from pg_locks and pg_stat_activity.
 */
import { dirname } from 'node:path';
import { findExecutable } from '../exec.js';
import { psql } from '../postgres-server.js';
import type { SecretMasker } from '../secrets.js';
import type { Diagnostic } from './ui-json.js';

export function lockDiagnostic(diagnostics: readonly Diagnostic[]): Diagnostic | undefined {
  return diagnostics.find((d) => d.severity === 'error' && /state lock/i.test(d.summary));
}

const LOCK_FIELDS = ['ID', 'Path', 'Operation', 'Who', 'Version', 'Created', 'Info'] as const;

/** The `Lock Info:` block of Terraform's lock error, as field → value. */
export function parseLockInfo(detail: string): Record<string, string> {
  const info: Record<string, string> = {};
  const block = detail.split(/Lock Info:/)[1];
  if (!block) return info;
  for (const line of block.split('\n')) {
    const match = /^\s*([A-Za-z]+):\s*(.*)$/.exec(line);
    if (match && (LOCK_FIELDS as readonly string[]).includes(match[1] as string) && match[2]) {
      info[match[1] as string] = match[2].trim();
    }
  }
  return info;
}

export interface PgLockHolder {
  pid: number;
  user: string;
  client: string;
  application: string;
  connectedAt: string;
  state: string;
}

const HOLDERS_SQL = `
SELECT coalesce(json_agg(json_build_object(
  'pid', a.pid, 'user', coalesce(a.usename, ''), 'client', coalesce(host(a.client_addr), 'local socket'),
  'application', coalesce(a.application_name, ''),
  'connectedAt', to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  'state', coalesce(a.state, '')) ORDER BY a.backend_start), '[]')
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database());`;

/** Sessions holding advisory locks in the state database of a `pg` backend. */
export async function pgLockHolders(connection: string, masker: SecretMasker): Promise<PgLockHolder[]> {
  const psqlPath = findExecutable('psql');
  const output = await psql(connection, HOLDERS_SQL, {
    masker,
    timeoutMs: 30_000,
    what: 'Looking up the state lock holder with psql',
    ...(psqlPath ? { binDir: dirname(psqlPath) } : {}),
  });
  return JSON.parse(output.trim() || '[]') as PgLockHolder[];
}

export function describePgHolder(holder: PgLockHolder): string {
  const app = holder.application ? `, application '${holder.application}'` : '';
  return (
    `PostgreSQL session ${holder.pid} of user '${holder.user}' from ${holder.client}${app}, connected since ` +
    `${holder.connectedAt} (${holder.state || 'state unknown'})`
  );
}

/** Lines that say who holds the lock, for the error message and the summary. */
export async function describeLockHolder(options: {
  backendType: string | undefined;
  diagnostic: Diagnostic;
  pgConnection: string | undefined;
  masker: SecretMasker;
}): Promise<string[]> {
  if (options.backendType === 'pg') {
    if (!options.pgConnection)
      return ['The lock holder is unknown: no pg connection string to look it up with.'];
    try {
      const holders = await pgLockHolders(options.pgConnection, options.masker);
      if (holders.length === 0) return ['No session holds the lock any more; run the job again.'];
      return [
        ...holders.map((h) => `Held by ${describePgHolder(h)}.`),
        `If that run is dead, end its session: SELECT pg_terminate_backend(${holders[0]?.pid});`,
      ];
    } catch (error) {
      const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
      return [`The lock holder could not be looked up: ${why}`];
    }
  }
  const info = parseLockInfo(options.diagnostic.detail);
  if (Object.keys(info).length === 0) return ['Terraform did not say who holds the lock.'];
  const parts = LOCK_FIELDS.filter((f) => info[f]).map((f) => `${f}: ${info[f]}`);
  return [
    `Held by ${parts.join(', ')}.`,
    `If that run is dead, release it with: terraform force-unlock ${info.ID ?? '<ID>'}`,
  ];
}
