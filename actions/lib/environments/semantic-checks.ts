/**
 * The rules a JSON Schema cannot express: addresses (duplicates, subnets, load-balancer pools), capacity
 * (memory and vCPUs per hypervisor), references between parts of the file (hosts to hypervisors, ingress to
 * pools and certificate issuers, services to roles), and duration syntax.
 *
 * Pure: takes an environment that already matches the schema and returns every problem found, in file order
 * as far as possible. Errors block; warnings are reported and allowed.
 */
import { DURATION_FORMAT, parseDurationMs } from '../duration.js';
import {
  type Cidr,
  cidrContains,
  formatCidr,
  formatIpv4,
  formatRange,
  type Ipv4Range,
  parseCidr,
  parseIpv4,
  parseRange,
  rangeContains,
  rangeOverlap,
  rangeWithin,
  usableRange,
} from './ipv4.js';
import { didYouMean } from './schema.js';
import {
  DEFAULT_CPU_OVERCOMMIT,
  DEFAULT_RESERVED_MEMORY_GB,
  type EnvironmentFile,
  type HostFile,
  type HostRole,
  type Problem,
} from './types.js';

export interface SemanticOptions {
  /** The file's name without `.yaml`; `name` must equal it. Not checked when left out. */
  expectedName?: string;
}

export function checkSemantics(env: EnvironmentFile, options: SemanticOptions = {}): Problem[] {
  return [
    ...checkName(env, options.expectedName),
    ...checkNames(env),
    ...checkAddresses(env),
    ...checkPools(env),
    ...checkIngress(env),
    ...checkCapacity(env),
    ...checkDisks(env),
    ...checkRoles(env),
    ...checkServices(env),
    ...checkKubernetes(env),
    ...checkDurations(env),
  ];
}

const error = (path: string, message: string): Problem => ({ path, severity: 'error', message });
const warning = (path: string, message: string): Problem => ({ path, severity: 'warning', message });

function knownList(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.join(', ');
}

function unknownName(what: string, value: string, known: readonly string[], where: string): string {
  const guess = didYouMean(value, known);
  const hint = guess ? `; did you mean '${guess}'?` : ';';
  return `'${value}' is not ${what}${hint} known ${where}: ${knownList(known)}`;
}

// ---------------------------------------------------------------------------------------------------------

function checkName(env: EnvironmentFile, expected: string | undefined): Problem[] {
  if (expected === undefined || env.name === expected) return [];
  return [
    error(
      'name',
      `'${env.name}' does not match the file name; it must be '${expected}', as in environments/${expected}.yaml`,
    ),
  ];
}

function checkNames(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const owners = new Map<string, string>();
  const claim = (name: string, path: string, owner: string, what: string): void => {
    const previous = owners.get(name);
    if (previous === undefined) owners.set(name, owner);
    else
      problems.push(
        error(path, `'${name}' is already the name of ${previous}; ${what} names must be unique`),
      );
  };
  env.hypervisors.forEach((h, i) => {
    claim(h.name, `hypervisors[${i}].name`, `hypervisors[${i}]`, 'hypervisor and host');
  });
  env.hosts.forEach((h, i) => {
    claim(h.name, `hosts[${i}].name`, `hosts[${i}]`, 'host');
  });
  return problems;
}

interface Subnet {
  cidr: Cidr;
  text: string;
  usable: Ipv4Range;
}

function subnetOf(env: EnvironmentFile): Subnet | undefined {
  const cidr = parseCidr(env.network.subnet);
  if (!cidr) return undefined;
  return { cidr, text: formatCidr(cidr), usable: usableRange(cidr) };
}

interface Pool {
  name: string;
  range: Ipv4Range;
}

function poolsOf(env: EnvironmentFile): Pool[] {
  const pools: Pool[] = [];
  for (const [name, text] of Object.entries(env.network.pools)) {
    const range = parseRange(text);
    if (range) pools.push({ name, range });
  }
  return pools;
}

/** Why `address` cannot be used by a machine in `subnet`, or undefined when it can. */
function outsideSubnet(address: number, subnet: Subnet): string | undefined {
  const text = formatIpv4(address);
  const usable = `usable: ${formatRange(subnet.usable)}`;
  if (!cidrContains(subnet.cidr, address))
    return `${text} is outside network.subnet ${subnet.text} (${usable})`;
  if (rangeContains(subnet.usable, address)) return undefined;
  const which = address === subnet.cidr.network ? 'network' : 'broadcast';
  return `${text} is the ${which} address of network.subnet ${subnet.text}, which no machine may use (${usable})`;
}

function checkAddresses(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const subnet = subnetOf(env);
  if (subnet && subnet.cidr.address !== subnet.cidr.network) {
    problems.push(
      error(
        'network.subnet',
        `${env.network.subnet} has host bits set; the subnet is written ${subnet.text}`,
      ),
    );
  }
  const pools = poolsOf(env);
  const users = new Map<number, string>();

  const check = (text: string, path: string, owner: string): void => {
    const address = parseIpv4(text);
    if (address === undefined) return; // the schema reports it
    if (subnet) {
      const why = outsideSubnet(address, subnet);
      if (why) problems.push(error(path, why));
    }
    for (const pool of pools) {
      if (rangeContains(pool.range, address)) {
        problems.push(
          error(
            path,
            `${text} is inside load-balancer pool '${pool.name}' (${formatRange(pool.range)}), whose addresses ` +
              'go to services; use an address outside every pool',
          ),
        );
      }
    }
    const previous = users.get(address);
    if (previous === undefined) users.set(address, owner);
    else {
      problems.push(
        error(
          path,
          `${text} is already used by ${previous}; each host, hypervisor and the gateway needs an address of its own`,
        ),
      );
    }
  };

  check(env.network.gateway, 'network.gateway', 'network.gateway');
  env.hypervisors.forEach((h, i) => {
    check(h.address, `hypervisors[${i}].address`, `hypervisors[${i}] (${h.name})`);
  });
  env.hosts.forEach((h, i) => {
    check(h.ip, `hosts[${i}].ip`, `hosts[${i}] (${h.name})`);
  });
  return problems;
}

function checkPools(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const subnet = subnetOf(env);
  const seen: Pool[] = [];
  for (const [name, text] of Object.entries(env.network.pools)) {
    const path = `network.pools.${name}`;
    const range = parseRange(text);
    if (!range) {
      const [first = '', last = ''] = text.split('-');
      problems.push(
        error(
          path,
          `first address ${first} comes after last address ${last}; write the range as first-last, such as ${last}-${first}`,
        ),
      );
      continue;
    }
    if (subnet && !rangeWithin(range, subnet.usable)) {
      problems.push(
        error(
          path,
          `${text} is not inside network.subnet ${subnet.text} (usable: ${formatRange(subnet.usable)})`,
        ),
      );
    }
    for (const other of seen) {
      const shared = rangeOverlap(range, other.range);
      if (!shared) continue;
      problems.push(
        error(
          path,
          `${text} overlaps pool '${other.name}' (${formatRange(other.range)}) at ${formatRange(shared)}; ` +
            'pools must not share addresses, or two services can be given the same one',
        ),
      );
    }
    seen.push({ name, range });
  }
  return problems;
}

/**
 * `ingress` and `network.pools` name the same things: each ingress entry belongs to the pool of its name, and
 * each pool has an entry. Certificate issuers must exist in `tls.issuers`.
 */
function checkIngress(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const pools = Object.keys(env.network.pools);
  const issuers = Object.keys(env.tls.issuers);
  for (const [name, ingress] of Object.entries(env.ingress)) {
    const path = `ingress.${name}`;
    if (!pools.includes(name)) {
      problems.push(
        error(
          path,
          `${unknownName('a load-balancer pool', name, pools, 'in network.pools')}; each ingress entry is ` +
            'named after the pool its controller gets its address from',
        ),
      );
    }
    if (!issuers.includes(ingress.cert_issuer)) {
      problems.push(
        error(
          `${path}.cert_issuer`,
          unknownName('a certificate issuer', ingress.cert_issuer, issuers, 'in tls.issuers'),
        ),
      );
    }
  }
  for (const name of pools) {
    if (Object.hasOwn(env.ingress, name)) continue;
    problems.push(
      error(
        `ingress.${name}`,
        `is required but missing: network.pools.${name} needs an ingress entry (exposure, ingress_class, ` +
          'cert_issuer) saying what it serves; add one or remove the pool',
      ),
    );
  }
  return problems;
}

/** Each host's hypervisor name: as written, or the only hypervisor when left out. */
export function hypervisorOf(env: EnvironmentFile, host: HostFile): string | undefined {
  if (host.hypervisor !== undefined) return host.hypervisor;
  return env.hypervisors.length === 1 ? env.hypervisors[0]?.name : undefined;
}

function checkCapacity(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const names = env.hypervisors.map((h) => h.name);
  const placed = new Map<string, { host: HostFile; index: number }[]>(names.map((n) => [n, []]));

  env.hosts.forEach((host, index) => {
    const name = hypervisorOf(env, host);
    if (name === undefined) {
      problems.push(
        error(
          `hosts[${index}].hypervisor`,
          `is required when there is more than one hypervisor; one of: ${knownList(names)}`,
        ),
      );
      return;
    }
    const list = placed.get(name);
    if (!list) {
      problems.push(
        error(
          `hosts[${index}].hypervisor`,
          unknownName('a hypervisor of this environment', name, names, 'hypervisors'),
        ),
      );
      return;
    }
    list.push({ host, index });
  });

  env.hypervisors.forEach((hv, i) => {
    const vms = placed.get(hv.name) ?? [];
    const reserved = hv.reserved_memory_gb ?? DEFAULT_RESERVED_MEMORY_GB;
    const available = hv.memory_gb - reserved;
    const memory = vms.reduce((sum, { host }) => sum + host.memory_gb, 0);
    if (memory > available) {
      const list = vms.map(({ host }) => `${host.name} ${host.memory_gb} GB`).join(', ');
      problems.push(
        error(
          `hypervisors[${i}]`,
          `VMs commit ${memory} GB of memory on ${hv.name}, but only ${available} GB is available ` +
            `(${hv.memory_gb} GB RAM minus ${reserved} GB reserved for Proxmox), ${memory - available} GB too much: ` +
            `${list}. Lower hosts' memory_gb, move hosts to another hypervisor, or add RAM`,
        ),
      );
    }

    const ratio = hv.cpu_overcommit ?? DEFAULT_CPU_OVERCOMMIT;
    const limit = Math.floor(hv.cpu * ratio);
    const vcpus = vms.reduce((sum, { host }) => sum + host.cpu, 0);
    if (vcpus > limit) {
      const list = vms.map(({ host }) => `${host.name} ${host.cpu}`).join(', ');
      const perCore = Math.round((vcpus / hv.cpu) * 100) / 100;
      problems.push(
        warning(
          `hypervisors[${i}]`,
          `VMs have ${vcpus} vCPUs on ${hv.name}'s ${hv.cpu} cores (${perCore} per core), more than ` +
            `cpu_overcommit ${ratio} allows (${limit} vCPUs): ${list}. Lower hosts' cpu or raise cpu_overcommit`,
        ),
      );
    }
    for (const { host, index } of vms) {
      if (host.cpu > hv.cpu) {
        problems.push(
          error(
            `hosts[${index}].cpu`,
            `${host.cpu} vCPUs is more than ${hv.name}'s ${hv.cpu} cores; a VM cannot have more vCPUs than its hypervisor has cores`,
          ),
        );
      }
    }
  });
  return problems;
}

function checkDisks(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  env.hosts.forEach((host, i) => {
    const mounts = new Map<string, number>();
    host.disks.forEach((disk, d) => {
      const previous = mounts.get(disk.mount);
      if (previous !== undefined) {
        problems.push(
          error(
            `hosts[${i}].disks[${d}].mount`,
            `${disk.mount} is already the mount of disks[${previous}]; each disk needs its own`,
          ),
        );
      } else mounts.set(disk.mount, d);
    });
    const system = mounts.get('/');
    if (system === undefined) {
      problems.push(
        error(`hosts[${i}].disks`, 'has no disk mounted at /; the first disk must be the system disk at /'),
      );
    } else if (system !== 0) {
      problems.push(
        error(
          `hosts[${i}].disks[${system}].mount`,
          'the system disk at / must be the first disk, which the VM boots from',
        ),
      );
    }
  });
  return problems;
}

function checkRoles(env: EnvironmentFile): Problem[] {
  if (env.hosts.some((h) => h.role === 'control-plane')) return [];
  return [error('hosts', 'no host has role control-plane; the Kubernetes cluster needs one')];
}

function checkServices(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const hostsWith = (role: HostRole | undefined): string[] =>
    env.hosts.filter((h) => role === undefined || h.role === role).map((h) => h.name);
  const taken: { name: string; port: number; protocol: string; hosts: string[] }[] = [];

  for (const [name, service] of Object.entries(env.services)) {
    const path = `services.${name}`;
    const hosts = hostsWith(service.role);
    if (service.role !== undefined && hosts.length === 0) {
      problems.push(
        error(`${path}.role`, `no host has role '${service.role}'; add such a host or remove the service`),
      );
    }
    const protocol = service.protocol ?? 'tcp';
    for (const other of taken) {
      const shared = other.hosts.filter((h) => hosts.includes(h));
      if (other.port !== service.port || other.protocol !== protocol || shared.length === 0) continue;
      problems.push(
        error(
          `${path}.port`,
          `${service.port}/${protocol} is already the port of services.${other.name} on ${shared.join(', ')}; ` +
            'two services cannot listen on one port of the same host',
        ),
      );
    }
    taken.push({ name, port: service.port, protocol, hosts });
  }

  const api = env.services.kubernetes_api;
  if (api && api.port !== env.kubernetes.api_port) {
    problems.push(
      error(
        'services.kubernetes_api.port',
        `${api.port} differs from kubernetes.api_port ${env.kubernetes.api_port}; both name the API server's port`,
      ),
    );
  }
  return problems;
}

function checkKubernetes(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const blocks: { path: string; cidr: Cidr }[] = [];
  const subnet = parseCidr(env.network.subnet);
  if (subnet) blocks.push({ path: 'network.subnet', cidr: subnet });
  for (const key of ['pod_cidr', 'service_cidr'] as const) {
    const path = `kubernetes.${key}`;
    const cidr = parseCidr(env.kubernetes[key]);
    if (!cidr) continue;
    if (cidr.address !== cidr.network) {
      problems.push(
        error(path, `${env.kubernetes[key]} has host bits set; the block is written ${formatCidr(cidr)}`),
      );
    }
    for (const other of blocks) {
      const shared = rangeOverlap(
        { first: cidr.network, last: cidr.broadcast },
        { first: other.cidr.network, last: other.cidr.broadcast },
      );
      if (!shared) continue;
      problems.push(
        error(
          path,
          `${formatCidr(cidr)} overlaps ${other.path} ${formatCidr(other.cidr)}; ` +
            'cluster-internal addresses must not collide with other networks',
        ),
      );
    }
    blocks.push({ path, cidr });
  }
  return problems;
}

const CALENDAR_WORDS: Record<string, string> = { hourly: '1h', daily: '1d', weekly: '7d', monthly: '30d' };

function checkDurations(env: EnvironmentFile): Problem[] {
  const problems: Problem[] = [];
  const check = (path: string, value: string, keyword?: string): void => {
    if (keyword !== undefined && value === keyword) return;
    if (parseDurationMs(value) !== undefined) return;
    const alternative = keyword === undefined ? '' : ` or ${keyword}`;
    const known = CALENDAR_WORDS[value.trim().toLowerCase()];
    const hint = known ? ` (for ${value.trim()}, write ${known})` : '';
    problems.push(
      error(
        path,
        `'${value}' is not a duration${alternative}; write ${DURATION_FORMAT}${alternative}${hint}`,
      ),
    );
  };
  check('dr.rto', env.dr.rto);
  check('dr.rpo', env.dr.rpo);
  check('slo.response_time', env.slo.response_time);
  for (const [name, backup] of Object.entries(env.backups)) {
    check(`backups.${name}.schedule`, backup.schedule, 'on-change');
    check(`backups.${name}.retention`, backup.retention, 'unlimited');
  }
  return problems;
}
