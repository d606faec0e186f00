/**
 * How risky a plan is. Destroying or replacing a host the environment marks `protected: true` is high risk:
 * it needs an explicit approval label on the pull request. A resource belongs to a host when the host's name
 * is one of the instance keys in its address (`module.vm["spark-conductor"].…`), which is how the Proxmox
 * root module keys its VMs.
 */
import { isDestructive, type Plan, type ResourceChange } from './plan-json.js';

export type Risk = 'none' | 'low' | 'medium' | 'high';

export interface ProtectedChange {
  address: string;
  kind: string;
  host: string;
}

/** The instance keys in an address: `module.vm["a"].x[0]` → ['a', '0']. */
export function instanceKeys(address: string): string[] {
  const keys: string[] = [];
  for (const match of address.matchAll(/\[("(?:[^"\\]|\\.)*"|\d+)\]/g)) {
    const raw = match[1] as string;
    keys.push(raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return keys;
}

export function protectedChanges(
  changes: readonly ResourceChange[],
  protectedHosts: readonly string[],
): ProtectedChange[] {
  const hosts = new Set(protectedHosts);
  const found: ProtectedChange[] = [];
  for (const change of changes) {
    if (!isDestructive(change)) continue;
    const host = instanceKeys(change.address).find((key) => hosts.has(key));
    if (host !== undefined) found.push({ address: change.address, kind: change.kind, host });
  }
  return found;
}

export function riskOf(
  plan: Pick<Plan, 'changes' | 'hasChanges'>,
  protectedHits: readonly ProtectedChange[],
): Risk {
  if (protectedHits.length > 0) return 'high';
  if (plan.changes.some(isDestructive)) return 'medium';
  return plan.hasChanges ? 'low' : 'none';
}
