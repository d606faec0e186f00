/**
 * The environment model: `environments/<name>.yaml`, the one source of truth for an environment.
 *
 * `EnvironmentFile` is the file as written (checked by `environments/schema.json`, optional keys optional).
 * `Environment` is what `loadEnvironment` returns: the same shape with defaults filled in and every duration
 * also given in seconds (`dr.rto` -> `dr.rto_seconds`), so callers never parse durations or apply defaults.
 */

export const HOST_ROLES = [
  'control-plane',
  'worker',
  'monitoring',
  'logging',
  'ci-runner',
  'registry',
] as const;
export type HostRole = (typeof HOST_ROLES)[number];

export type Exposure = 'public' | 'internal';
export type DeployStrategy = 'blue-green' | 'rolling' | 'canary';
export type AppClass = 'critical' | 'normal' | 'new_feature';

/** One thing wrong with an environment file. `path` is dotted/indexed: `hosts[3].memory_gb`. */
export interface Problem {
  path: string;
  severity: 'error' | 'warning';
  message: string;
}

/** Used when a hypervisor does not set `reserved_memory_gb`: RAM kept free for Proxmox VE itself. */
export const DEFAULT_RESERVED_MEMORY_GB = 2;
/** Used when a hypervisor does not set `cpu_overcommit`: vCPUs allowed per physical core. */
export const DEFAULT_CPU_OVERCOMMIT = 4;

// ---------------------------------------------------------------------------------------------------------
// As written in the file
// ---------------------------------------------------------------------------------------------------------

export interface HypervisorFile {
  name: string;
  /** Proxmox node name, as the API knows it. Default: `name`. */
  node?: string;
  address: string;
  /** Physical cores. */
  cpu: number;
  memory_gb: number;
  reserved_memory_gb?: number;
  cpu_overcommit?: number;
  /** Bridge for VM NICs; defaults to `network.bridge`. */
  bridge?: string;
  /** Proxmox datastore for VM disks, e.g. `local-lvm`. */
  storage?: string;
  pve_version?: string;
  description?: string;
}

/**
 * What the load-balancer pool of the same name (`network.pools.<name>`) serves: `ingress.<name>`. Every pool
 * has one, and every entry names a pool.
 */
export interface IngressFile {
  exposure: Exposure;
  /** The IngressClass whose controller gets its address from the pool, e.g. `nginx-public`. */
  ingress_class: string;
  /** A key of `tls.issuers`: the issuer of the certificates for the hosts behind this ingress. */
  cert_issuer: string;
  description?: string;
}

export interface NetworkFile {
  subnet: string;
  gateway: string;
  dns: string[];
  bridge: string;
  vlan?: number;
  vpn?: 'wireguard' | 'openvpn';
  /** Load-balancer pools by name, each `first-last`, e.g. `public: 192.168.1.200-192.168.1.210`. */
  pools: Record<string, string>;
}

export interface IssuerFile {
  kind: 'acme' | 'ca';
  acme_server?: string;
  ca_name?: string;
  description?: string;
}

export interface DiskFile {
  mount: string;
  size_gb: number;
  description?: string;
}

export interface HostFile {
  name: string;
  role: HostRole;
  ip: string;
  cpu: number;
  memory_gb: number;
  disks: DiskFile[];
  hypervisor?: string;
  groups?: string[];
  tags?: string[];
  protected?: boolean;
  description?: string;
}

export interface ServiceFile {
  port: number;
  exposure: Exposure;
  protocol?: 'tcp' | 'udp';
  /** The hosts with this role serve it; omitted: every host. */
  role?: HostRole;
  description?: string;
}

export interface BackupFile {
  /** A duration (`6h`, `1d`) or `on-change`. */
  schedule: string;
  /** A duration (`7d`) or `unlimited`. */
  retention: string;
  method: string;
  description?: string;
}

export interface SloFile {
  availability_percent: number;
  response_time: string;
  cpu_percent: number;
  memory_percent: number;
  disk_io_percent: number;
}

export type DrTargetFile =
  | { kind: 'postgres'; name: string; 'base-backups': string; 'wal-archive': string; source?: string }
  | { kind: 'etcd'; name: string; snapshots: string }
  | { kind: 'velero'; name: string; schedule: string; namespaces: string[]; 'velero-namespace'?: string };

export interface DrFile {
  rto: string;
  rpo: string;
  drill_frequency?: 'weekly' | 'monthly' | 'quarterly';
  /** What the drill restores; keys as the backup tools name them. */
  targets?: DrTargetFile[];
}

export interface DeployFile {
  strategies: Record<AppClass, DeployStrategy>;
}

export interface KubernetesFile {
  version: string;
  api_port: number;
  pod_cidr: string;
  service_cidr: string;
  cni?: 'calico' | 'cilium' | 'flannel';
}

export interface EnvironmentFile {
  name: string;
  description?: string;
  hypervisors: HypervisorFile[];
  network: NetworkFile;
  /** By pool name: one entry per `network.pools` entry. */
  ingress: Record<string, IngressFile>;
  tls: { issuers: Record<string, IssuerFile> };
  hosts: HostFile[];
  services: Record<string, ServiceFile>;
  backups: Record<string, BackupFile>;
  slo: SloFile;
  dr: DrFile;
  deploy: DeployFile;
  kubernetes: KubernetesFile;
}

// ---------------------------------------------------------------------------------------------------------
// As loaded: defaults applied, durations also in seconds
// ---------------------------------------------------------------------------------------------------------

export interface Hypervisor extends HypervisorFile {
  /** Always set: `name` when the file leaves it out. */
  node: string;
  reserved_memory_gb: number;
  cpu_overcommit: number;
  bridge: string;
}

export interface Host extends HostFile {
  /** Always set: a host without one runs on the environment's only hypervisor. */
  hypervisor: string;
  groups: string[];
  tags: string[];
  protected: boolean;
}

export interface Backup extends BackupFile {
  /** null for `on-change`. */
  schedule_seconds: number | null;
  /** null for `unlimited`. */
  retention_seconds: number | null;
}

export interface Slo extends SloFile {
  response_time_seconds: number;
}

export interface Dr extends DrFile {
  rto_seconds: number;
  rpo_seconds: number;
}

export interface Environment
  extends Omit<EnvironmentFile, 'hypervisors' | 'hosts' | 'backups' | 'slo' | 'dr'> {
  hypervisors: Hypervisor[];
  hosts: Host[];
  backups: Record<string, Backup>;
  slo: Slo;
  dr: Dr;
}
