// The Terraform tree with the real terraform binary: every file is formatted, and the spark-hosts module (pure,
// no provider, so it runs offline) turns each environment file into the hosts, network and hypervisor that the
// Proxmox root builds from. The Proxmox root itself needs the bpg/proxmox provider download, so it is only
// format-checked here.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { requireTool, runTool } from '../scripts/lib/system-tools.js';
import { repoRoot } from './support/action-runner.js';
import { tempDir } from './support/temp-dir.js';

const TERRAFORM_DIR = join(repoRoot, 'terraform');
const SPARK_HOSTS = join(TERRAFORM_DIR, 'modules', 'spark-hosts');
const ENVIRONMENTS = ['production', 'staging', 'dev', 'local'] as const;
const TIMEOUT_MS = 120_000;

let terraform = '';
let env: NodeJS.ProcessEnv = {};

beforeAll(() => {
  terraform = requireTool('terraform', { versionArgs: ['version'] });
  // An empty CLI configuration: no warning about a missing ~/.terraformrc, and no mirrors or credentials
  // from the machine's own configuration.
  const cliConfig = join(tempDir('spark-tf-cli-'), 'terraformrc');
  writeFileSync(cliConfig, '');
  env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('TF_VAR_') && !name.startsWith('TF_CLI_ARGS') && name !== 'TF_DATA_DIR',
    ),
  );
  Object.assign(env, {
    TF_IN_AUTOMATION: '1',
    TF_INPUT: '0',
    CHECKPOINT_DISABLE: '1',
    TF_CLI_CONFIG_FILE: cliConfig,
  });
});

function tf(cwd: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runTool(terraform, args, { cwd, env: { ...env, ...extraEnv }, timeoutMs: TIMEOUT_MS });
}

/** An HCL string literal for a path (a JSON string is one, as long as it has no `${` or `%{`). */
function hclString(value: string): string {
  expect(value).not.toMatch(/[$%]\{/);
  return JSON.stringify(value);
}

/** A temporary root module that calls spark-hosts on `environmentFile` and outputs what it computes. */
function hostsRoot(environmentFile: string): string {
  const dir = tempDir('spark-tf-hosts-');
  writeFileSync(
    join(dir, 'main.tf'),
    [
      'module "h" {',
      `  source           = ${hclString(SPARK_HOSTS)}`,
      `  environment_file = ${hclString(environmentFile)}`,
      '}',
      '',
      'output "name" { value = module.h.name }',
      'output "hosts" { value = module.h.hosts }',
      'output "network" { value = module.h.network }',
      'output "hypervisor" { value = module.h.hypervisor }',
      '',
    ].join('\n'),
  );
  return dir;
}

interface TfDisk {
  mount: string;
  size_gb: number;
  description: string | null;
}

interface TfHost {
  ip: string;
  cidr: string;
  role: string;
  groups: string[];
  cpu: number;
  memory_gb: number;
  disks: TfDisk[];
  system_disk_gb: number;
  data_disks: TfDisk[];
  protected: boolean;
  tags: string[];
  description: string | null;
  hypervisor: string;
  node: string;
  storage: string;
  bridge: string;
}

interface TfOutputs {
  name: string;
  hosts: Record<string, TfHost>;
  network: {
    subnet: string;
    prefix_length: number;
    gateway: string;
    dns: string[];
    bridge: string;
    vlan: number | null;
  };
  hypervisor: { name: string; node: string; address: string; storage: string; bridge: string };
}

/** init (no backend, no providers: works offline), apply into local state in `dir`, then `output -json`. */
async function applyAndOutput(dir: string): Promise<TfOutputs> {
  await tf(dir, ['init', '-backend=false', '-input=false', '-no-color']);
  await tf(dir, ['apply', '-auto-approve', '-input=false', '-no-color']);
  const { stdout } = await tf(dir, ['output', '-json', '-no-color']);
  const raw = JSON.parse(stdout) as Record<string, { value: unknown }>;
  return Object.fromEntries(
    Object.entries(raw).map(([key, output]) => [key, output.value]),
  ) as unknown as TfOutputs;
}

interface YamlDisk {
  mount: string;
  size_gb: number;
  description?: string;
}

interface YamlHost {
  name: string;
  role: string;
  ip: string;
  cpu: number;
  memory_gb: number;
  disks: YamlDisk[];
  groups?: string[];
  tags?: string[];
  protected?: boolean;
  hypervisor?: string;
}

interface YamlEnvironment {
  name: string;
  hypervisors: Array<{ name: string; node?: string; address: string; storage?: string; bridge?: string }>;
  network: { subnet: string; gateway: string; dns: string[]; bridge: string; vlan?: number };
  hosts: YamlHost[];
}

function environmentFile(name: string): string {
  return join(repoRoot, 'environments', `${name}.yaml`);
}

function readEnvironment(name: string): YamlEnvironment {
  return parseYaml(readFileSync(environmentFile(name), 'utf8')) as YamlEnvironment;
}

const sortedUnique = (values: readonly string[]) => [...new Set(values)].sort();

describe('terraform fmt', () => {
  it('finds nothing to change in terraform/', async () => {
    const { stdout } = await tf(TERRAFORM_DIR, ['fmt', '-check', '-recursive', '-diff', '-no-color']);
    expect(stdout).toBe('');
  });
});

describe('terraform/local', () => {
  it('is a valid root that needs no provider download', async () => {
    // Its init data goes to a temp dir, so the working tree gets no .terraform folder.
    const data = { TF_DATA_DIR: tempDir('spark-tf-local-') };
    const dir = join(TERRAFORM_DIR, 'local');
    const init = await tf(dir, ['init', '-backend=false', '-input=false', '-no-color'], data);
    expect(init.stdout).not.toContain('Installing');
    const { stdout } = await tf(dir, ['validate', '-json', '-no-color'], data);
    const result = JSON.parse(stdout) as { valid: boolean; error_count: number; diagnostics: unknown[] };
    expect(result).toMatchObject({ valid: true, error_count: 0 });
    expect(result.diagnostics).toEqual([]);
  });
});

describe('modules/spark-hosts', () => {
  it('is a valid module that needs no provider', async () => {
    // A copy, so init leaves no .terraform folder in the working tree.
    const dir = join(tempDir('spark-tf-validate-'), 'spark-hosts');
    cpSync(SPARK_HOSTS, dir, { recursive: true });
    await tf(dir, ['init', '-backend=false', '-input=false', '-no-color']);
    const { stdout } = await tf(dir, ['validate', '-json', '-no-color']);
    const result = JSON.parse(stdout) as { valid: boolean; error_count: number; diagnostics: unknown[] };
    expect(result).toMatchObject({ valid: true, error_count: 0 });
    expect(result.diagnostics).toEqual([]);
  });

  it.each(ENVIRONMENTS)(
    'computes the hosts, network and hypervisor of %s.yaml',
    async (name) => {
      const yaml = readEnvironment(name);
      const out = await applyAndOutput(hostsRoot(environmentFile(name)));
      const prefix = Number(yaml.network.subnet.split('/')[1]);
      const first = yaml.hypervisors[0];
      if (first === undefined) throw new Error(`${name}.yaml has no hypervisor`);

      expect(out.name).toBe(yaml.name);
      expect(Object.keys(out.hosts).sort()).toEqual(yaml.hosts.map((h) => h.name).sort());
      for (const host of yaml.hosts) {
        const got = out.hosts[host.name];
        if (got === undefined) throw new Error(`no output for ${host.name}`);
        const hypervisor = yaml.hypervisors.find((hv) => hv.name === (host.hypervisor ?? first.name));
        expect(got, host.name).toMatchObject({
          ip: host.ip,
          cidr: `${host.ip}/${prefix}`,
          role: host.role,
          groups: sortedUnique([host.role, ...(host.groups ?? [])]),
          cpu: host.cpu,
          memory_gb: host.memory_gb,
          protected: host.protected ?? false,
          hypervisor: hypervisor?.name,
          node: hypervisor?.node ?? hypervisor?.name,
          storage: hypervisor?.storage ?? 'local-lvm',
          bridge: hypervisor?.bridge ?? yaml.network.bridge,
        });
        expect(got.groups).toContain(host.role);
        expect(got.tags).toEqual(sortedUnique([yaml.name, host.role, ...(host.tags ?? [])]));
        const disks = host.disks.map((d) => ({ ...d, description: d.description ?? null }));
        expect(got.disks).toEqual(disks);
        expect(got.system_disk_gb).toBe(host.disks.find((d) => d.mount === '/')?.size_gb);
        expect(got.data_disks).toEqual(disks.filter((d) => d.mount !== '/'));
      }

      expect(out.network).toEqual({
        subnet: yaml.network.subnet,
        prefix_length: prefix,
        gateway: yaml.network.gateway,
        dns: yaml.network.dns,
        bridge: yaml.network.bridge,
        vlan: yaml.network.vlan ?? null,
      });
      expect(out.hypervisor).toEqual({
        name: first.name,
        node: first.node ?? first.name,
        address: first.address,
        storage: first.storage ?? 'local-lvm',
        bridge: first.bridge ?? yaml.network.bridge,
      });
    },
    TIMEOUT_MS,
  );

  it(
    'gives production its seven hosts, with the stateful ones protected',
    async () => {
      const out = await applyAndOutput(hostsRoot(environmentFile('production')));
      expect(Object.keys(out.hosts)).toHaveLength(7);
      expect(out.hosts['spark-conductor']).toMatchObject({ protected: true, role: 'control-plane' });
      const isProtected = Object.entries(out.hosts)
        .filter(([, host]) => host.protected)
        .map(([hostName]) => hostName)
        .sort();
      expect(isProtected).toEqual(['spark-conductor', 'spark-logger', 'spark-observer', 'spark-registry']);
      expect(out.hosts['spark-executor-01']?.data_disks).toEqual([
        {
          mount: '/var/lib/docker',
          size_gb: 100,
          description: 'Container storage (images and writable layers).',
        },
      ]);
      expect(out.network.vlan).toBeNull();
      expect(out.hypervisor.node).toBe('spark-hypervisor');
    },
    TIMEOUT_MS,
  );

  it(
    'puts the dev node in the worker group as well as its role',
    async () => {
      const out = await applyAndOutput(hostsRoot(environmentFile('dev')));
      expect(out.hosts['spark-dev-node']?.groups).toEqual(['control-plane', 'worker']);
      expect(out.network.vlan).toBe(30);
    },
    TIMEOUT_MS,
  );

  it(
    'refuses a host whose address lies outside the subnet',
    async () => {
      const text = readFileSync(environmentFile('production'), 'utf8');
      const broken = text.replace('ip: 192.168.1.102', 'ip: 10.0.0.102');
      expect(broken).not.toBe(text);
      const file = join(tempDir('spark-tf-broken-'), 'production.yaml');
      writeFileSync(file, broken);
      await expect(applyAndOutput(hostsRoot(file))).rejects.toThrow(/must lie in network\.subnet/);
    },
    TIMEOUT_MS,
  );
});
