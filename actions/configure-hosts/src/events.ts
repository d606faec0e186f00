/**
 * The results of an Ansible run, read from the JSON lines the `spark_jsonl` callback (ansible/plugins/callback)
 * writes: per-host recap, totals, and the tasks that changed or failed, with a short diff.
 */

export type ResultStatus = 'ok' | 'failed' | 'ignored' | 'skipped' | 'unreachable';

export interface TaskResult {
  status: ResultStatus;
  host: string;
  task: string;
  role?: string;
  action?: string;
  changed: boolean;
  msg?: string;
  stderr?: string;
  diff?: string;
  /** `file:line` of the task. */
  path?: string;
}

export interface HostRecap {
  host: string;
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export interface RunResults {
  hosts: HostRecap[];
  totals: Omit<HostRecap, 'host'>;
  changedTasks: TaskResult[];
  failedTasks: TaskResult[];
  unreachableTasks: TaskResult[];
  /** Whether the play recap arrived (false when Ansible stopped early). */
  complete: boolean;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function emptyRecap(host: string): HostRecap {
  return { host, ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
}

/** Reads the JSON lines (unparseable lines are skipped). */
export function readEvents(text: string): RunResults {
  const results: TaskResult[] = [];
  let stats: Record<string, Record<string, unknown>> | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (event.event === 'stats' && typeof event.hosts === 'object' && event.hosts !== null) {
      stats = event.hosts as Record<string, Record<string, unknown>>;
    } else if (event.event === 'result') {
      const status = str(event.status) as ResultStatus | undefined;
      const host = str(event.host);
      if (!status || !host) continue;
      const fields = {
        role: str(event.role),
        action: str(event.action),
        msg: str(event.msg),
        stderr: str(event.stderr),
        diff: str(event.diff),
        path: str(event.path),
      };
      results.push({
        status,
        host,
        task: str(event.task) ?? '(unnamed task)',
        changed: event.changed === true,
        ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
      });
    }
  }
  const recaps = new Map<string, HostRecap>();
  if (stats) {
    for (const [host, s] of Object.entries(stats)) {
      recaps.set(host, {
        host,
        ok: num(s.ok),
        changed: num(s.changed),
        failed: num(s.failed),
        unreachable: num(s.unreachable),
        skipped: num(s.skipped),
        rescued: num(s.rescued),
        ignored: num(s.ignored),
      });
    }
  } else {
    // No recap (Ansible was stopped): count what arrived.
    for (const r of results) {
      const recap = recaps.get(r.host) ?? emptyRecap(r.host);
      recaps.set(r.host, recap);
      if (r.status === 'failed') recap.failed++;
      else if (r.status === 'unreachable') recap.unreachable++;
      else if (r.status === 'skipped') recap.skipped++;
      else if (r.status === 'ignored') recap.ignored++;
      else recap.ok++;
      if (r.changed) recap.changed++;
    }
  }
  const hosts = [...recaps.values()].sort((a, b) => a.host.localeCompare(b.host));
  const totals = emptyRecap('');
  for (const h of hosts) {
    for (const key of ['ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored'] as const)
      totals[key] += h[key];
  }
  const { host: _, ...totalsOnly } = totals;
  return {
    hosts,
    totals: totalsOnly,
    changedTasks: results.filter((r) => r.changed && (r.status === 'ok' || r.status === 'failed')),
    failedTasks: results.filter((r) => r.status === 'failed'),
    unreachableTasks: results.filter((r) => r.status === 'unreachable'),
    complete: stats !== undefined,
  };
}

export function failedHosts(results: RunResults): string[] {
  return results.hosts.filter((h) => h.failed > 0 || h.unreachable > 0).map((h) => h.host);
}
