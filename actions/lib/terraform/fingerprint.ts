/**
 * The plan's fingerprint: a sha256 over the normalised, redacted resource and output changes. Two plans of
 * the same change give the same fingerprint, whatever Terraform's text, timestamps or ordering; any
 * difference in what would be created, changed, replaced, destroyed, imported, moved or forgotten, or in a
 * visible value, changes it. Each resource change also gets a short digest of its own, so a mismatch can name
 * the addresses that differ.
 */
import { createHash } from 'node:crypto';
import type { OutputChange, Plan, ResourceChange } from './plan-json.js';

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function normalisedResource(change: ResourceChange) {
  return {
    address: change.address,
    previous_address: change.previousAddress,
    actions: change.actions,
    import_id: change.importing ? (change.importId ?? '') : undefined,
    replace_paths: change.replacePaths.length ? change.replacePaths : undefined,
    before: change.before,
    after: change.after,
  };
}

function normalisedOutput(change: OutputChange) {
  return { name: change.name, actions: change.actions, before: change.before, after: change.after };
}

const byAddress = (a: { address: string }, b: { address: string }) =>
  a.address < b.address ? -1 : a.address > b.address ? 1 : 0;

/** A short digest of one resource change (12 hex characters). */
export function changeDigest(change: ResourceChange): string {
  return sha256(canonicalJson(normalisedResource(change))).slice(0, 12);
}

export function planFingerprint(plan: Pick<Plan, 'changes' | 'outputs'>): string {
  const resources = [...plan.changes].sort(byAddress).map(normalisedResource);
  const outputs = [...plan.outputs].sort((a, b) => (a.name < b.name ? -1 : 1)).map(normalisedOutput);
  return sha256(canonicalJson({ version: 1, resources, outputs }));
}

/** One line per change, `<digest> <actions> <address>`: what a reviewed plan records to compare against. */
export function changeLines(plan: Pick<Plan, 'changes' | 'outputs'>): string[] {
  const entries = plan.changes.map((c) => ({
    digest: changeDigest(c),
    actions: c.actions,
    address: c.address,
  }));
  for (const output of plan.outputs) {
    const digest = sha256(canonicalJson(normalisedOutput(output))).slice(0, 12);
    entries.push({ digest, actions: output.actions, address: `output.${output.name}` });
  }
  return entries.sort(byAddress).map((e) => `${e.digest} ${e.actions.join(',')} ${e.address}`);
}

export interface PlanDifference {
  /** In the new plan only. */
  added: Array<{ address: string; actions: string }>;
  /** In the reviewed plan only. */
  removed: Array<{ address: string; actions: string }>;
  /** In both, with other actions. */
  actionsChanged: Array<{ address: string; reviewed: string; now: string }>;
  /** In both, same actions, other values. */
  valuesChanged: string[];
}

function parseLine(line: string) {
  const [digest = '', actions = '', ...rest] = line.split(' ');
  return { digest, actions, address: rest.join(' ') };
}

/** What differs between the change lines of a reviewed plan and of a new one. */
export function comparePlans(reviewed: readonly string[], now: readonly string[]): PlanDifference {
  const before = new Map(reviewed.map(parseLine).map((l) => [l.address, l]));
  const after = new Map(now.map(parseLine).map((l) => [l.address, l]));
  const difference: PlanDifference = { added: [], removed: [], actionsChanged: [], valuesChanged: [] };
  for (const [address, line] of after) {
    const old = before.get(address);
    if (!old) difference.added.push({ address, actions: line.actions });
    else if (old.actions !== line.actions)
      difference.actionsChanged.push({ address, reviewed: old.actions, now: line.actions });
    else if (old.digest !== line.digest) difference.valuesChanged.push(address);
  }
  for (const [address, line] of before) {
    if (!after.has(address)) difference.removed.push({ address, actions: line.actions });
  }
  return difference;
}
