/**
 * The Ansible inventory made from hosts (name → { ip, role, groups }: the root module's `hosts` output, or an
 * environment file's hosts): every
 * host under `all.hosts` with `ansible_host`, and one group per role and per extra group. Group names are
 * made valid for Ansible (letters, digits and underscores: `control-plane` → `control_plane`).
 */
import { stringify } from 'yaml';
import { ActionError } from './errors.js';

export interface InventoryHost {
  ip: string;
  role: string;
  groups: string[];
}

export function ansibleGroupName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

/** Reads the `hosts` output's value; throws when it does not have the documented shape. */
export function parseHostsOutput(value: unknown): Record<string, InventoryHost> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ActionError(
      'bad-output',
      "The root module's `hosts` output is not a map of host name to { ip, role, groups }.",
    );
  }
  const hosts: Record<string, InventoryHost> = {};
  for (const [name, raw] of Object.entries(value)) {
    const host = raw as Partial<InventoryHost> | null;
    if (!host || typeof host.ip !== 'string' || typeof host.role !== 'string') {
      throw new ActionError(
        'bad-output',
        `The \`hosts\` output's entry '${name}' has no string ip and role.`,
      );
    }
    const groups = Array.isArray(host.groups)
      ? host.groups.filter((g): g is string => typeof g === 'string')
      : [];
    hosts[name] = { ip: host.ip, role: host.role, groups };
  }
  return hosts;
}

/** `source` says where the hosts came from, for the file's header. */
export function inventoryYaml(
  hosts: Record<string, InventoryHost>,
  environment: string,
  source = `the Terraform output \`hosts\` of ${environment}`,
): string {
  const names = Object.keys(hosts).sort();
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const host = hosts[name] as InventoryHost;
    for (const group of new Set([host.role, ...host.groups].map(ansibleGroupName))) {
      groups.set(group, [...(groups.get(group) ?? []), name]);
    }
  }
  const inventory = {
    all: {
      vars: { spark_environment: environment },
      hosts: Object.fromEntries(
        names.map((name) => [name, { ansible_host: (hosts[name] as InventoryHost).ip }]),
      ),
      children: Object.fromEntries(
        [...groups.keys()]
          .sort()
          .map((group) => [
            group,
            { hosts: Object.fromEntries((groups.get(group) ?? []).map((name) => [name, null])) },
          ]),
      ),
    },
  };
  return `# Generated from ${source}.\n${stringify(inventory, { nullStr: '' })}`;
}
