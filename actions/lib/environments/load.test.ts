import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ActionError } from '../errors.js';
import {
  listEnvironments,
  loadEnvironment,
  type Problem,
  validateEnvironmentFile,
  validateEnvironmentText,
} from './index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const COMMITTED = ['dev', 'local', 'production', 'staging'];

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'spark-env-load-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function productionData(): Promise<Record<string, unknown>> {
  return parse(await readFile(join(ROOT, 'environments', 'production.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
}

/** A root with environments/<name>.yaml holding `data`. */
async function rootWith(name: string, data: unknown): Promise<string> {
  const root = await mkdtemp(join(scratch, 'root-'));
  await mkdir(join(root, 'environments'));
  await writeFile(join(root, 'environments', `${name}.yaml`), stringify(data));
  return root;
}

async function caught(promise: Promise<unknown>): Promise<ActionError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ActionError) return error;
    throw error;
  }
  throw new Error('expected an ActionError');
}

const lines = (problems: Problem[]): string[] => problems.map((p) => `${p.severity} ${p.path}: ${p.message}`);

describe('the committed environments', () => {
  it('are listed, sorted, without schema.json', async () => {
    expect(await listEnvironments(ROOT)).toEqual(COMMITTED);
  });

  it.each(COMMITTED)('%s has no problems', async (name) => {
    const report = await validateEnvironmentFile(join(ROOT, 'environments', `${name}.yaml`));
    expect(report.problems).toEqual([]);
  });

  it('production resolves the documented contradictions', async () => {
    const env = await loadEnvironment('production', { root: ROOT });
    expect(env.network.pools).toEqual({
      public: '192.168.1.200-192.168.1.210',
      internal: '192.168.1.211-192.168.1.215',
    });
    expect(env.ingress).toMatchObject({
      public: { exposure: 'public', ingress_class: 'nginx-public', cert_issuer: 'letsencrypt-prod' },
      internal: { exposure: 'internal', ingress_class: 'nginx-internal', cert_issuer: 'schnebel-it-ca' },
    });
    const hv = env.hypervisors[0];
    const committed = env.hosts.reduce((sum, h) => sum + h.memory_gb, 0);
    expect(hv && committed <= hv.memory_gb - hv.reserved_memory_gb).toBe(true);
    expect(env.hosts.map((h) => h.name)).toEqual([
      'spark-conductor',
      'spark-executor-01',
      'spark-executor-02',
      'spark-observer',
      'spark-logger',
      'spark-builder',
      'spark-registry',
    ]);
  });
});

describe('loadEnvironment', () => {
  it('returns the typed model with defaults applied and durations in seconds', async () => {
    const env = await loadEnvironment('production', { root: ROOT });
    expect(env.name).toBe('production');
    expect(env.dr).toMatchObject({ rto: '1h', rpo: '15m', rto_seconds: 3600, rpo_seconds: 900 });
    expect(env.slo.response_time_seconds).toBe(0.2);
    expect(env.backups.etcd).toMatchObject({ schedule_seconds: 6 * 3600, retention_seconds: 30 * 86_400 });
    expect(env.backups.configuration).toMatchObject({ schedule_seconds: null, retention_seconds: null });
    expect(env.hypervisors[0]).toMatchObject({
      node: 'spark-hypervisor',
      bridge: 'vmbr0',
      reserved_memory_gb: 2,
      cpu_overcommit: 4,
    });
    for (const host of env.hosts) {
      expect(host.hypervisor).toBe('spark-hypervisor');
      expect(Array.isArray(host.groups) && Array.isArray(host.tags)).toBe(true);
      expect(typeof host.protected).toBe('boolean');
    }
  });

  it('fills in defaults a file leaves out', async () => {
    const data = await productionData();
    const hv = (data.hypervisors as Record<string, unknown>[])[0] as Record<string, unknown>;
    delete hv.reserved_memory_gb;
    delete hv.cpu_overcommit;
    const env = await loadEnvironment('production', { root: await rootWith('production', data) });
    expect(env.hypervisors[0]).toMatchObject({ reserved_memory_gb: 2, cpu_overcommit: 4, bridge: 'vmbr0' });
    expect(env.hosts[1]).toMatchObject({ groups: [], tags: [], protected: false });
  });

  it('takes the Proxmox node name from the hypervisor name unless node is set', async () => {
    const data = await productionData();
    const hv = (data.hypervisors as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(hv.node).toBeUndefined();
    expect(
      (await loadEnvironment('production', { root: await rootWith('production', data) })).hypervisors[0],
    ).toMatchObject({ name: 'spark-hypervisor', node: 'spark-hypervisor' });
    hv.node = 'pve1';
    expect(
      (await loadEnvironment('production', { root: await rootWith('production', data) })).hypervisors[0],
    ).toMatchObject({ name: 'spark-hypervisor', node: 'pve1' });
  });

  it('names the available environments for an unknown one, and guesses', async () => {
    const error = await caught(loadEnvironment('prod', { root: ROOT }));
    expect(error.reason).toBe('bad-input');
    expect(error.message).toBe(
      "Unknown environment 'prod': there is no environments/prod.yaml. Did you mean 'production'? " +
        'Available: dev, local, production, staging.',
    );
  });

  it('refuses a name that is not an environment name', async () => {
    const error = await caught(loadEnvironment('../secrets', { root: ROOT }));
    expect(error.reason).toBe('bad-input');
    expect(error.message).toBe(
      "'../secrets' is not an environment name (lower-case letters, digits and -). Available: dev, local, production, staging.",
    );
  });

  it('says when there are no environments at all', async () => {
    const error = await caught(loadEnvironment('production', { root: scratch }));
    expect(error.message).toBe(
      "Unknown environment 'production': there is no environments/production.yaml. Available: none (no environments/*.yaml).",
    );
  });

  it('throws bad-input naming the environment and listing every error', async () => {
    const data = await productionData();
    const hosts = data.hosts as Record<string, unknown>[];
    (hosts[2] as Record<string, unknown>).ip = '192.168.1.102';
    (hosts[3] as Record<string, unknown>).ip = '192.168.1.212';
    const error = await caught(loadEnvironment('production', { root: await rootWith('production', data) }));
    expect(error.reason).toBe('bad-input');
    expect(error.message).toBe(
      "Environment 'production' (environments/production.yaml) is not valid, 2 errors:\n" +
        '  hosts[2].ip: 192.168.1.102 is already used by hosts[1] (spark-executor-01); each host, hypervisor and the gateway needs an address of its own\n' +
        "  hosts[3].ip: 192.168.1.212 is inside load-balancer pool 'internal' (192.168.1.211-192.168.1.215), whose addresses go to services; use an address outside every pool\n" +
        'Fix the file; `npm run validate` checks it locally.',
    );
    expect(error.details).toHaveLength(2);
  });

  it('passes warnings to onWarning and still loads', async () => {
    const data = await productionData();
    ((data.hypervisors as Record<string, unknown>[])[0] as Record<string, unknown>).cpu_overcommit = 1;
    const warnings: Problem[] = [];
    const env = await loadEnvironment('production', {
      root: await rootWith('production', data),
      onWarning: (p) => warnings.push(p),
    });
    expect(env.name).toBe('production');
    expect(warnings.map((w) => `${w.severity} ${w.path}`)).toEqual(['warning hypervisors[0]']);
  });
});

describe('listEnvironments', () => {
  it('is empty without an environments directory', async () => {
    expect(await listEnvironments(join(scratch, 'nowhere'))).toEqual([]);
  });
});

describe('validateEnvironmentFile', () => {
  it('expects name to match the file name', async () => {
    const root = await rootWith('prod', await productionData());
    const report = await validateEnvironmentFile(join(root, 'environments', 'prod.yaml'));
    expect(report.file).toBe(join(root, 'environments', 'prod.yaml'));
    expect(lines(report.problems)).toEqual([
      "error name: 'production' does not match the file name; it must be 'prod', as in environments/prod.yaml",
    ]);
  });

  it('throws bad-input for a missing file', async () => {
    const error = await caught(validateEnvironmentFile(join(scratch, 'missing.yaml')));
    expect(error.reason).toBe('bad-input');
    expect(error.message).toBe(`Environment file '${join(scratch, 'missing.yaml')}' does not exist.`);
  });
});

describe('validateEnvironmentText: schema problems', () => {
  async function withChange(change: (data: Record<string, unknown>) => void): Promise<string[]> {
    const data = await productionData();
    change(data);
    return lines(validateEnvironmentText(stringify(data), 'production').problems);
  }
  const host = (data: Record<string, unknown>, i: number): Record<string, unknown> =>
    (data.hosts as Record<string, unknown>[])[i] as Record<string, unknown>;

  it('names an unknown key, guesses the intended one and lists the allowed ones', async () => {
    const problems = await withChange((data) => {
      const h = host(data, 3);
      h.memroy_gb = h.memory_gb;
      delete h.memory_gb;
    });
    expect(problems).toEqual([
      'error hosts[3].memory_gb: is required but missing',
      "error hosts[3].memroy_gb: unknown key 'memroy_gb'; did you mean 'memory_gb'? Allowed keys: name, role, ip, " +
        'cpu, memory_gb, disks, hypervisor, groups, tags, protected, description',
    ]);
  });

  it('names an unknown top-level key without a guess when none is close', async () => {
    expect(await withChange((data) => Object.assign(data, { flavour: 'x' }))).toEqual([
      "error flavour: unknown key 'flavour'. Allowed keys: name, description, hypervisors, network, ingress, tls, hosts, " +
        'services, backups, slo, dr, deploy, kubernetes',
    ]);
  });

  it('lists the allowed values of an enum and guesses', async () => {
    expect(await withChange((data) => Object.assign(host(data, 0), { role: 'control_plane' }))).toEqual([
      "error hosts[0].role: 'control_plane' is not allowed; did you mean 'control-plane'? allowed: control-plane, " +
        'worker, monitoring, logging, ci-runner, registry',
    ]);
  });

  it('names the expected form of a patterned string', async () => {
    expect(await withChange((data) => Object.assign(host(data, 1), { ip: '192.168.1.300' }))).toEqual([
      "error hosts[1].ip: must be an IPv4 address such as 192.168.1.101, got '192.168.1.300'",
    ]);
  });

  it('wants a pool as a first-last string, not a mapping', async () => {
    const problems = await withChange((data) => {
      const network = data.network as { pools: Record<string, unknown> };
      network.pools.public = { range: network.pools.public };
    });
    expect(problems).toEqual([
      'error network.pools.public: must be a string (an address range first-last such as ' +
        '192.168.1.200-192.168.1.210), got a mapping',
    ]);
  });

  it('says to quote a version YAML reads as a number', async () => {
    expect(await withChange((data) => Object.assign(data.kubernetes as object, { version: 1.32 }))).toEqual([
      'error kubernetes.version: must be a string, got 1.32; put it in quotes, since YAML reads it as a number or boolean',
    ]);
  });

  it('names bad types, bounds and map keys', async () => {
    const problems = await withChange((data) => {
      Object.assign(host(data, 1), { cpu: '4 cores', memory_gb: 0 });
      Object.assign(data.services as object, { 'Node Exporter': { port: 9100, exposure: 'internal' } });
    });
    expect(problems).toEqual([
      "error hosts[1].cpu: must be a whole number, got '4 cores'",
      'error hosts[1].memory_gb: must be at least 1, got 0',
      'error services["Node Exporter"]: key \'Node Exporter\' is not allowed: keys here must be snake_case ' +
        '(lower-case letters, digits and _, starting with a letter)',
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const report = validateEnvironmentText('name: production\nname: staging\n', 'production');
    expect(lines(report.problems)).toEqual(['error (yaml): Map keys must be unique at line 2, column 1']);
    expect(report.environment).toBeUndefined();
  });

  it('reports an empty file', () => {
    expect(lines(validateEnvironmentText('', 'production').problems)).toEqual([
      'error (root): must be a mapping (key: value), got nothing (null)',
    ]);
  });
});
