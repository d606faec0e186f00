/**
 * The drill's machine-readable report: every target's phases, timings, checks and measured versus target
 * values. Written as JSON to `report-dir` and uploaded by the workflow.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DrillVerdict } from './verdict.js';

export interface DrillReport {
  environment: string;
  status: 'pass' | 'fail';
  failureReason: string | null;
  startedAt: string;
  finishedAt: string;
  objectives: { rtoSeconds: number; rpoSeconds: number };
  worst: { rtoSeconds: number | null; rpoSeconds: number | null };
  runUrl: string | null;
  targets: Array<{
    name: string;
    kind: string;
    status: 'pass' | 'fail';
    failureReason: string | null;
    message: string | null;
    backup: string | null;
    recoveryPoint: string | null;
    rtoSeconds: number | null;
    rpoSeconds: number | null;
    phases: Array<{ name: string; startedAt: string; seconds: number; ok: boolean; detail: string | null }>;
    checks: Array<{ name: string; ok: boolean; expected: string | null; actual: string | null }>;
  }>;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function buildReport(args: {
  environment: string;
  verdict: DrillVerdict;
  startedAt: number;
  finishedAt: number;
  rtoMs: number;
  rpoMs: number;
  runUrl?: string;
}): DrillReport {
  const { verdict } = args;
  return {
    environment: args.environment,
    status: verdict.status,
    failureReason: verdict.failure ?? null,
    startedAt: iso(args.startedAt) as string,
    finishedAt: iso(args.finishedAt) as string,
    objectives: { rtoSeconds: args.rtoMs / 1000, rpoSeconds: args.rpoMs / 1000 },
    worst: { rtoSeconds: verdict.rtoSeconds ?? null, rpoSeconds: verdict.rpoSeconds ?? null },
    runUrl: args.runUrl ?? null,
    targets: verdict.targets.map(({ result, failure, rtoSeconds, rpoSeconds }) => ({
      name: result.name,
      kind: result.kind,
      status: failure ? 'fail' : 'pass',
      failureReason: failure ?? null,
      message: result.message ?? null,
      backup: result.backup ?? null,
      recoveryPoint: iso(result.recoveryPoint),
      rtoSeconds: rtoSeconds ?? null,
      rpoSeconds: rpoSeconds ?? null,
      phases: result.phases.map((p) => ({
        name: p.name,
        startedAt: iso(p.startedAt) as string,
        seconds: Math.round(p.endedAt - p.startedAt) / 1000,
        ok: p.ok,
        detail: p.detail ?? null,
      })),
      checks: result.checks.map((c) => ({
        name: c.name,
        ok: c.ok,
        expected: c.expected ?? null,
        actual: c.actual ?? null,
      })),
    })),
  };
}

/** Writes the report as `dr-drill-<environment>-<start>.json` and returns its path. */
export function writeReport(dir: string, report: DrillReport): string {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const path = join(dir, `dr-drill-${report.environment}-${stamp}.json`);
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
