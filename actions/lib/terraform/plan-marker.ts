/**
 * What plan-infra's PR comment records in its hidden marker, and what apply-infra reads back: the
 * fingerprint of the reviewed plan, the commit it was made for, and (when they fit) one line per change, so
 * a mismatch can name the addresses that differ.
 */
import type { Counts } from './plan-json.js';
import type { Risk } from './risk.js';

/** The action name in the plan comment's marker `<!-- spark:plan-infra:<environment>:<dir> {...} -->`. */
export const PLAN_COMMENT_ACTION = 'plan-infra';

export interface PlanMarker {
  v: 1;
  fingerprint: string;
  headSha?: string;
  environment: string;
  workingDirectory: string;
  counts: Counts;
  risk: Risk;
  /** `<digest> <actions> <address>` per change, when they fit; else `changesOmitted` says how many. */
  changes?: string[];
  changesOmitted?: number;
}

/** Keeps the marker small enough to leave most of the comment for the plan. */
export const MARKER_CHANGES_BUDGET = 16_000;

export function planMarker(
  fields: Omit<PlanMarker, 'v' | 'changes' | 'changesOmitted'>,
  changeLines: string[],
): PlanMarker {
  const data: PlanMarker = { v: 1, ...fields };
  return JSON.stringify(changeLines).length <= MARKER_CHANGES_BUDGET
    ? { ...data, changes: changeLines }
    : { ...data, changesOmitted: changeLines.length };
}

/** Whether marker data read from a comment is a usable plan marker. */
export function isPlanMarker(data: unknown): data is PlanMarker {
  if (data === null || typeof data !== 'object') return false;
  const marker = data as Partial<PlanMarker>;
  return (
    marker.v === 1 &&
    typeof marker.fingerprint === 'string' &&
    /^[0-9a-f]{64}$/.test(marker.fingerprint) &&
    (marker.changes === undefined ||
      (Array.isArray(marker.changes) && marker.changes.every((l) => typeof l === 'string')))
  );
}
