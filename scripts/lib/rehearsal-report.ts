/**
 * The closing report of `npm run rehearse`: what was created, what changed on the hosts, the drill's RTO and
 * RPO against the targets, where the files are, and what is real here versus left to the real platform.
 * Pure: rehearse.ts gathers the facts, this renders them (and the JSON the end-to-end test reads).
 */

export interface StepFact {
  /** e.g. plan-infra, configure-hosts (check). */
  name: string;
  ok: boolean;
  durationMs: number;
  /** One line: the step's key outputs, or why it failed. */
  detail: string;
}

export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
}

export interface RehearsalFacts {
  startedAt: string;
  durationMs: number;
  /** The rehearsal/<timestamp> folder, relative to the repository. */
  dir: string;
  steps: StepFact[];
  plan?: { add: number; change: number; replace: number; destroy: number };
  hosts: { name: string; ip: string; role: string }[];
  check?: HostRecap;
  configure?: HostRecap;
  drill?: { status: string; rtoSeconds: number; rpoSeconds: number; rtoTarget: string; rpoTarget: string };
  /** Set when a step failed or the rehearsal stopped early. */
  failure?: string;
}

/** The parts of the platform this machine runs for real, and what only the real platform has. */
export const REAL_HERE = [
  'Terraform with state in PostgreSQL (pg backend), making and destroying the hosts of environments/local.yaml',
  'Ansible over SSH into Debian hosts with systemd, each in its own namespaces on a bridge of this machine',
  'PostgreSQL with WAL archiving and base backups, etcd with a snapshot, and the drill restoring both',
] as const;

export const LEFT_TO_PLATFORM = [
  'Proxmox: terraform/proxmox makes real VMs; here terraform/local boots namespace hosts instead',
  'the GitHub API: no PR comments, labels or drill issues; the job summaries are written to files instead',
  'Kubernetes and Argo CD: the cluster, observability, builder and VPN layers of site.yml, deploy-bluegreen and canary-analyze need them',
] as const;

export function rehearsalPassed(facts: RehearsalFacts): boolean {
  return (
    facts.failure === undefined &&
    facts.steps.length > 0 &&
    facts.steps.every((s) => s.ok) &&
    facts.configure?.failed === 0 &&
    facts.configure.unreachable === 0 &&
    facts.drill?.status === 'pass'
  );
}

export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

const recapLine = (r: HostRecap) =>
  `ok=${r.ok} changed=${r.changed} failed=${r.failed} unreachable=${r.unreachable}`;

export function renderReport(facts: RehearsalFacts): string {
  const passed = rehearsalPassed(facts);
  const lines = [
    `Rehearsal of the local environment: ${passed ? 'PASSED' : 'FAILED'} in ${formatDuration(facts.durationMs)}`,
    '',
  ];
  for (const step of facts.steps) {
    lines.push(
      `  ${step.ok ? 'ok  ' : 'FAIL'}  ${step.name.padEnd(24)} ${formatDuration(step.durationMs).padStart(10)}  ${step.detail}`,
    );
  }
  if (facts.failure !== undefined) lines.push('', `Stopped: ${facts.failure}`);
  lines.push('');
  if (facts.plan) {
    const p = facts.plan;
    lines.push(
      `Created:   ${p.add} to add, ${p.change} to change, ${p.replace} to replace, ${p.destroy} to destroy (Terraform)`,
    );
  }
  for (const host of facts.hosts) lines.push(`           ${host.name} at ${host.ip} (${host.role})`);
  if (facts.check) lines.push(`Hosts:     check mode ${recapLine(facts.check)}`);
  if (facts.configure) lines.push(`           for real   ${recapLine(facts.configure)}`);
  if (facts.drill) {
    const d = facts.drill;
    lines.push(
      `Drill:     ${d.status}: RTO ${formatDuration(d.rtoSeconds * 1000)} (target ${d.rtoTarget}), RPO ${formatDuration(d.rpoSeconds * 1000)} (target ${d.rpoTarget})`,
    );
  }
  lines.push(
    `Files:     ${facts.dir}/ (each step's summary.md, outputs.json and log.txt; report.txt and report.json)`,
    '',
    'Real on this machine:',
    ...REAL_HERE.map((line) => `  - ${line}`),
    'Left to the real platform:',
    ...LEFT_TO_PLATFORM.map((line) => `  - ${line}`),
  );
  return `${lines.join('\n')}\n`;
}
