import { describe, expect, it } from 'vitest';
import { DURATION_FORMAT } from '../duration.js';
import { checkSemantics } from './semantic-checks.js';
import type { EnvironmentFile, HostFile } from './types.js';

const host = (name: string, ip: string, extra: Partial<HostFile> = {}): HostFile => ({
  name,
  role: 'worker',
  ip,
  cpu: 2,
  memory_gb: 4,
  disks: [{ mount: '/', size_gb: 50 }],
  ...extra,
});

/** A small valid environment: one 8-core, 16 GB hypervisor with three VMs. */
function base(): EnvironmentFile {
  return {
    name: 'test',
    hypervisors: [{ name: 'hv', address: '10.0.0.100', cpu: 8, memory_gb: 16, reserved_memory_gb: 2 }],
    network: {
      subnet: '10.0.0.0/24',
      gateway: '10.0.0.1',
      dns: ['10.0.0.1'],
      bridge: 'vmbr0',
      pools: { public: '10.0.0.200-10.0.0.210', internal: '10.0.0.211-10.0.0.215' },
    },
    ingress: {
      public: { exposure: 'public', ingress_class: 'pub', cert_issuer: 'le' },
      internal: { exposure: 'internal', ingress_class: 'int', cert_issuer: 'ca' },
    },
    tls: { issuers: { le: { kind: 'acme' }, ca: { kind: 'ca' } } },
    hosts: [
      host('cp', '10.0.0.101', { role: 'control-plane' }),
      host('w1', '10.0.0.102'),
      host('mon', '10.0.0.110', { role: 'monitoring' }),
    ],
    services: {
      grafana: { port: 3000, exposure: 'internal', role: 'monitoring' },
      kubernetes_api: { port: 6443, exposure: 'internal', role: 'control-plane' },
      ssh: { port: 22, exposure: 'internal' },
    },
    backups: {
      etcd: { schedule: '6h', retention: '30d', method: 'velero' },
      configuration: { schedule: 'on-change', retention: 'unlimited', method: 'git' },
    },
    slo: {
      availability_percent: 99.9,
      response_time: '200ms',
      cpu_percent: 70,
      memory_percent: 80,
      disk_io_percent: 80,
    },
    dr: { rto: '1h', rpo: '15m' },
    deploy: { strategies: { critical: 'blue-green', normal: 'rolling', new_feature: 'canary' } },
    kubernetes: { version: '1.32', api_port: 6443, pod_cidr: '10.244.0.0/16', service_cidr: '10.96.0.0/12' },
  };
}

function hostAt(env: EnvironmentFile, index: number): HostFile {
  const found = env.hosts[index];
  if (!found) throw new Error(`no hosts[${index}]`);
  return found;
}

describe('checkSemantics', () => {
  it('finds nothing wrong with a consistent environment', () => {
    expect(checkSemantics(base(), { expectedName: 'test' })).toEqual([]);
  });

  it('wants name to match the file name', () => {
    expect(checkSemantics(base(), { expectedName: 'staging' })).toEqual([
      {
        path: 'name',
        severity: 'error',
        message: "'test' does not match the file name; it must be 'staging', as in environments/staging.yaml",
      },
    ]);
  });

  it('finds a duplicate IP', () => {
    const env = base();
    hostAt(env, 2).ip = '10.0.0.102';
    expect(checkSemantics(env)).toEqual([
      {
        path: 'hosts[2].ip',
        severity: 'error',
        message:
          '10.0.0.102 is already used by hosts[1] (w1); each host, hypervisor and the gateway needs an address of its own',
      },
    ]);
  });

  it('finds a host on the hypervisor or gateway address', () => {
    const env = base();
    hostAt(env, 1).ip = '10.0.0.100';
    hostAt(env, 2).ip = '10.0.0.1';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'hosts[1].ip: 10.0.0.100 is already used by hypervisors[0] (hv); each host, hypervisor and the gateway needs an address of its own',
      'hosts[2].ip: 10.0.0.1 is already used by network.gateway; each host, hypervisor and the gateway needs an address of its own',
    ]);
  });

  it('finds duplicate host names', () => {
    const env = base();
    hostAt(env, 2).name = 'w1';
    expect(checkSemantics(env)).toEqual([
      {
        path: 'hosts[2].name',
        severity: 'error',
        message: "'w1' is already the name of hosts[1]; host names must be unique",
      },
    ]);
  });

  it('finds a host named like a hypervisor', () => {
    const env = base();
    hostAt(env, 1).name = 'hv';
    hostAt(env, 1).hypervisor = 'hv';
    expect(checkSemantics(env).map((p) => p.message)).toEqual([
      "'hv' is already the name of hypervisors[0]; host names must be unique",
    ]);
  });

  it('finds a host IP inside a load-balancer pool', () => {
    const env = base();
    hostAt(env, 1).ip = '10.0.0.205';
    expect(checkSemantics(env)).toEqual([
      {
        path: 'hosts[1].ip',
        severity: 'error',
        message:
          "10.0.0.205 is inside load-balancer pool 'public' (10.0.0.200-10.0.0.210), whose addresses go to services; " +
          'use an address outside every pool',
      },
    ]);
  });

  it('finds overlapping pools', () => {
    const env = base();
    env.network.pools.internal = '10.0.0.201-10.0.0.205';
    expect(checkSemantics(env)).toEqual([
      {
        path: 'network.pools.internal',
        severity: 'error',
        message:
          "10.0.0.201-10.0.0.205 overlaps pool 'public' (10.0.0.200-10.0.0.210) at 10.0.0.201-10.0.0.205; " +
          'pools must not share addresses, or two services can be given the same one',
      },
    ]);
  });

  it('finds a pool written last-first', () => {
    const env = base();
    env.network.pools.internal = '10.0.0.215-10.0.0.211';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'network.pools.internal: first address 10.0.0.215 comes after last address 10.0.0.211; ' +
        'write the range as first-last, such as 10.0.0.211-10.0.0.215',
    ]);
  });

  it('finds a host outside the subnet', () => {
    const env = base();
    hostAt(env, 1).ip = '10.0.1.102';
    expect(checkSemantics(env)).toEqual([
      {
        path: 'hosts[1].ip',
        severity: 'error',
        message: '10.0.1.102 is outside network.subnet 10.0.0.0/24 (usable: 10.0.0.1-10.0.0.254)',
      },
    ]);
  });

  it('finds a hypervisor and a gateway outside the subnet, and hosts on network or broadcast addresses', () => {
    const env = base();
    env.network.gateway = '10.0.9.1';
    const hv = env.hypervisors[0];
    if (hv) hv.address = '192.168.1.100';
    hostAt(env, 1).ip = '10.0.0.0';
    hostAt(env, 2).ip = '10.0.0.255';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'network.gateway: 10.0.9.1 is outside network.subnet 10.0.0.0/24 (usable: 10.0.0.1-10.0.0.254)',
      'hypervisors[0].address: 192.168.1.100 is outside network.subnet 10.0.0.0/24 (usable: 10.0.0.1-10.0.0.254)',
      'hosts[1].ip: 10.0.0.0 is the network address of network.subnet 10.0.0.0/24, which no machine may use (usable: 10.0.0.1-10.0.0.254)',
      'hosts[2].ip: 10.0.0.255 is the broadcast address of network.subnet 10.0.0.0/24, which no machine may use (usable: 10.0.0.1-10.0.0.254)',
    ]);
  });

  it('finds a subnet written with host bits', () => {
    const env = base();
    env.network.subnet = '10.0.0.7/24';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'network.subnet: 10.0.0.7/24 has host bits set; the subnet is written 10.0.0.0/24',
    ]);
  });

  it('finds a pool outside the subnet', () => {
    const env = base();
    env.network.pools.public = '10.0.0.250-10.0.1.10';
    expect(checkSemantics(env)).toEqual([
      {
        path: 'network.pools.public',
        severity: 'error',
        message:
          '10.0.0.250-10.0.1.10 is not inside network.subnet 10.0.0.0/24 (usable: 10.0.0.1-10.0.0.254)',
      },
    ]);
  });

  it('finds an ingress naming an unknown certificate issuer', () => {
    const env = base();
    const pub = env.ingress.public;
    if (pub) pub.cert_issuer = 'lee';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "ingress.public.cert_issuer: 'lee' is not a certificate issuer; did you mean 'le'? known in tls.issuers: le, ca",
    ]);
  });

  it('finds an ingress entry for a pool that does not exist', () => {
    const env = base();
    env.ingress.intenral = { exposure: 'internal', ingress_class: 'int2', cert_issuer: 'ca' };
    expect(checkSemantics(env)).toEqual([
      {
        path: 'ingress.intenral',
        severity: 'error',
        message:
          "'intenral' is not a load-balancer pool; did you mean 'internal'? known in network.pools: public, internal; " +
          'each ingress entry is named after the pool its controller gets its address from',
      },
    ]);
  });

  it('finds a pool without an ingress entry', () => {
    const env = base();
    env.network.pools.vpn = '10.0.0.216-10.0.0.220';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'ingress.vpn: is required but missing: network.pools.vpn needs an ingress entry (exposure, ingress_class, ' +
        'cert_issuer) saying what it serves; add one or remove the pool',
    ]);
  });

  it('reports both sides when an ingress entry is named differently from its pool', () => {
    const env = base();
    env.ingress = {
      public: { exposure: 'public', ingress_class: 'pub', cert_issuer: 'le' },
      intern: { exposure: 'internal', ingress_class: 'int', cert_issuer: 'ca' },
    };
    expect(checkSemantics(env).map((p) => p.path)).toEqual(['ingress.intern', 'ingress.internal']);
  });

  it('finds memory committed beyond the RAM minus the reserve, naming total, available and hosts', () => {
    const env = base();
    hostAt(env, 1).memory_gb = 8; // 4 + 8 + 4 = 16 > 16 - 2
    expect(checkSemantics(env)).toEqual([
      {
        path: 'hypervisors[0]',
        severity: 'error',
        message:
          'VMs commit 16 GB of memory on hv, but only 14 GB is available (16 GB RAM minus 2 GB reserved for Proxmox), ' +
          "2 GB too much: cp 4 GB, w1 8 GB, mon 4 GB. Lower hosts' memory_gb, move hosts to another hypervisor, or add RAM",
      },
    ]);
  });

  it('reserves 2 GB for Proxmox when reserved_memory_gb is not set', () => {
    const env = base();
    const hv = env.hypervisors[0];
    if (hv) delete hv.reserved_memory_gb;
    hostAt(env, 1).memory_gb = 6; // 14 GB = 16 - 2
    expect(checkSemantics(env)).toEqual([]);
    hostAt(env, 1).memory_gb = 7;
    expect(checkSemantics(env).map((p) => p.path)).toEqual(['hypervisors[0]']);
  });

  it('warns about vCPUs beyond the overcommit ratio, 4 by default', () => {
    const env = base();
    hostAt(env, 1).cpu = 8; // 2 + 8 + 2 = 12 vCPUs, 8 cores
    expect(checkSemantics(env)).toEqual([]);
    const hv = env.hypervisors[0];
    if (hv) hv.cpu_overcommit = 1.25; // at most 10
    expect(checkSemantics(env)).toEqual([
      {
        path: 'hypervisors[0]',
        severity: 'warning',
        message:
          "VMs have 12 vCPUs on hv's 8 cores (1.5 per core), more than cpu_overcommit 1.25 allows (10 vCPUs): " +
          "cp 2, w1 8, mon 2. Lower hosts' cpu or raise cpu_overcommit",
      },
    ]);
  });

  it('refuses a VM with more vCPUs than its hypervisor has cores', () => {
    const env = base();
    hostAt(env, 1).cpu = 9;
    expect(checkSemantics(env).map((p) => `${p.severity} ${p.path}: ${p.message}`)).toEqual([
      "error hosts[1].cpu: 9 vCPUs is more than hv's 8 cores; a VM cannot have more vCPUs than its hypervisor has cores",
    ]);
  });

  it('finds a host on an unknown hypervisor', () => {
    const env = base();
    hostAt(env, 1).hypervisor = 'hv2';
    expect(checkSemantics(env)).toEqual([
      {
        path: 'hosts[1].hypervisor',
        severity: 'error',
        message: "'hv2' is not a hypervisor of this environment; did you mean 'hv'? known hypervisors: hv",
      },
    ]);
  });

  it('wants hosts to name their hypervisor when there is more than one', () => {
    const env = base();
    env.hypervisors.push({ name: 'hv2', address: '10.0.0.99', cpu: 8, memory_gb: 16 });
    hostAt(env, 0).hypervisor = 'hv';
    hostAt(env, 1).hypervisor = 'hv2';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'hosts[2].hypervisor: is required when there is more than one hypervisor; one of: hv, hv2',
    ]);
  });

  it.each([
    [
      'dr.rto',
      (env: EnvironmentFile) => Object.assign(env.dr, { rto: '1 hour' }),
      "'1 hour' is not a duration",
    ],
    ['dr.rpo', (env: EnvironmentFile) => Object.assign(env.dr, { rpo: '15' }), "'15' is not a duration"],
    [
      'slo.response_time',
      (env: EnvironmentFile) => Object.assign(env.slo, { response_time: '200 ms' }),
      "'200 ms' is not a duration",
    ],
  ])('finds a bad duration at %s', (path, breakIt, start) => {
    const env = base();
    breakIt(env);
    expect(checkSemantics(env)).toEqual([
      { path, severity: 'error', message: `${start}; write ${DURATION_FORMAT}` },
    ]);
  });

  it('finds bad backup schedules and retentions, with a hint for calendar words', () => {
    const env = base();
    env.backups.etcd = { schedule: 'daily', retention: 'forever', method: 'velero' };
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      `backups.etcd.schedule: 'daily' is not a duration or on-change; write ${DURATION_FORMAT} or on-change (for daily, write 1d)`,
      `backups.etcd.retention: 'forever' is not a duration or unlimited; write ${DURATION_FORMAT} or unlimited`,
    ]);
  });

  it('finds disks without a system disk, with it in the wrong place, or mounted twice', () => {
    const env = base();
    hostAt(env, 0).disks = [{ mount: '/data', size_gb: 10 }];
    hostAt(env, 1).disks = [
      { mount: '/var/lib/docker', size_gb: 10 },
      { mount: '/', size_gb: 10 },
      { mount: '/var/lib/docker', size_gb: 10 },
    ];
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'hosts[0].disks: has no disk mounted at /; the first disk must be the system disk at /',
      'hosts[1].disks[2].mount: /var/lib/docker is already the mount of disks[0]; each disk needs its own',
      'hosts[1].disks[1].mount: the system disk at / must be the first disk, which the VM boots from',
    ]);
  });

  it('wants a control-plane host', () => {
    const env = base();
    hostAt(env, 0).role = 'worker';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'hosts: no host has role control-plane; the Kubernetes cluster needs one',
      "services.kubernetes_api.role: no host has role 'control-plane'; add such a host or remove the service",
    ]);
  });

  it('finds services on a role nobody has, clashing ports, and an API port that disagrees', () => {
    const env = base();
    env.services.kibana = { port: 5601, exposure: 'internal', role: 'logging' };
    env.services.node_exporter = { port: 3000, exposure: 'internal' };
    env.services.dns = { port: 22, exposure: 'internal', protocol: 'udp' };
    env.kubernetes.api_port = 6444;
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      "services.kibana.role: no host has role 'logging'; add such a host or remove the service",
      'services.node_exporter.port: 3000/tcp is already the port of services.grafana on mon; two services cannot listen on one port of the same host',
      "services.kubernetes_api.port: 6443 differs from kubernetes.api_port 6444; both name the API server's port",
    ]);
  });

  it('finds cluster CIDRs that collide with the network or each other', () => {
    const env = base();
    env.kubernetes.pod_cidr = '10.0.0.0/16';
    env.kubernetes.service_cidr = '10.0.128.0/17';
    expect(checkSemantics(env).map((p) => `${p.path}: ${p.message}`)).toEqual([
      'kubernetes.pod_cidr: 10.0.0.0/16 overlaps network.subnet 10.0.0.0/24; cluster-internal addresses must not collide with other networks',
      'kubernetes.service_cidr: 10.0.128.0/17 overlaps kubernetes.pod_cidr 10.0.0.0/16; cluster-internal addresses must not collide with other networks',
    ]);
  });
});
