/**
 * Turns what each target's drill measured into the verdict: RTO and RPO per target against the objectives,
 * the worst of each, and one failure reason for the whole drill.
 */
import type { TargetFailure, TargetResult } from './types.js';

export type DrillFailure = TargetFailure | 'rto-exceeded' | 'rpo-exceeded';

/** Most severe first: a drill that could not restore says so before it talks about time. */
export const FAILURE_ORDER: readonly DrillFailure[] = [
  'timeout',
  'backup-missing',
  'restore-failed',
  'verification-failed',
  'rpo-exceeded',
  'rto-exceeded',
];

export interface TargetVerdict {
  result: TargetResult;
  rtoSeconds?: number;
  rpoSeconds?: number;
  failure?: DrillFailure;
}

export interface DrillVerdict {
  status: 'pass' | 'fail';
  failure?: DrillFailure;
  /** Worst over targets; undefined when no target got that far. */
  rtoSeconds?: number;
  rpoSeconds?: number;
  targets: TargetVerdict[];
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export function judgeTarget(
  result: TargetResult,
  drillStart: number,
  rtoMs: number,
  rpoMs: number,
): TargetVerdict {
  const rto =
    result.verifiedAt !== undefined && result.restoreStartedAt !== undefined
      ? Math.max(0, result.verifiedAt - result.restoreStartedAt)
      : undefined;
  const rpo = result.recoveryPoint !== undefined ? Math.max(0, drillStart - result.recoveryPoint) : undefined;
  let failure: DrillFailure | undefined = result.ok ? undefined : (result.failure ?? 'restore-failed');
  if (!failure && rpo !== undefined && rpo > rpoMs) failure = 'rpo-exceeded';
  if (!failure && rto !== undefined && rto > rtoMs) failure = 'rto-exceeded';
  if (!failure && (rto === undefined || rpo === undefined)) failure = 'verification-failed';
  return {
    result,
    ...(rto === undefined ? {} : { rtoSeconds: seconds(rto) }),
    ...(rpo === undefined ? {} : { rpoSeconds: seconds(rpo) }),
    ...(failure ? { failure } : {}),
  };
}

export function judgeDrill(
  results: TargetResult[],
  drillStart: number,
  rtoMs: number,
  rpoMs: number,
): DrillVerdict {
  const targets = results.map((r) => judgeTarget(r, drillStart, rtoMs, rpoMs));
  const failures = targets.flatMap((t) => (t.failure ? [t.failure] : []));
  const failure = FAILURE_ORDER.find((f) => failures.includes(f));
  const worst = (values: Array<number | undefined>) => {
    const known = values.filter((v): v is number => v !== undefined);
    return known.length ? Math.max(...known) : undefined;
  };
  const rtoSeconds = worst(targets.map((t) => t.rtoSeconds));
  const rpoSeconds = worst(targets.map((t) => t.rpoSeconds));
  return {
    status: failure || targets.length === 0 ? 'fail' : 'pass',
    ...(failure ? { failure } : {}),
    ...(rtoSeconds === undefined ? {} : { rtoSeconds }),
    ...(rpoSeconds === undefined ? {} : { rpoSeconds }),
    targets,
  };
}
