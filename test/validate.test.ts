/**
 * Runs the real `npm run validate` CLI (scripts/validate-environments.ts under tsx, in its own process) against
 * the committed environments and against broken copies of production.yaml, one per rule, and asserts the exact
 * `FILE: PATH: message` lines and exit codes.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type Document, isMap, isScalar, parseDocument } from 'yaml';
import { DURATION_FORMAT } from '../actions/lib/duration.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'validate-environments.ts');

interface Run {
  code: number;
  stdout: string[];
  stderr: string;
}

/** `npx tsx scripts/validate-environments.ts ARGS...` in `cwd`, with tsx taken from this repository. */
function validate(args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      'npx',
      ['--prefix', ROOT, '--no-install', 'tsx', SCRIPT, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? error.code : 0;
        if (typeof code !== 'number') {
          reject(error);
          return;
        }
        resolve({ code, stdout: stdout.split('\n').filter((l) => l !== ''), stderr });
      },
    );
  });
}

let scratch: string;
let production: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'spark-validate-'));
  production = await readFile(join(ROOT, 'environments', 'production.yaml'), 'utf8');
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/**
 * Writes `<scratch>/<dir>/production.yaml`: production.yaml edited through the YAML Document API (comments and
 * order kept). Returns the path relative to scratch, which is also how the CLI prints it when run there.
 */
async function fixture(dir: string, edit: (doc: Document) => void): Promise<string> {
  const doc = parseDocument(production);
  edit(doc);
  await mkdir(join(scratch, dir), { recursive: true });
  await writeFile(join(scratch, dir, 'production.yaml'), doc.toString());
  return `${dir}/production.yaml`;
}

function renameKey(doc: Document, path: (string | number)[], from: string, to: string): void {
  const map = doc.getIn(path, true);
  if (!isMap(map)) throw new Error(`no mapping at ${path.join('.')}`);
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === from);
  if (!pair || !isScalar(pair.key)) throw new Error(`no key ${from}`);
  pair.key.value = to;
}

const MEMORY_HINT = "Lower hosts' memory_gb, move hosts to another hypervisor, or add RAM";

describe.concurrent('npm run validate', () => {
  it('passes the committed environments with no arguments (exit 0)', async ({ expect }) => {
    const run = await validate([], ROOT);
    expect(run.stdout).toEqual([]);
    expect(run.stderr).toContain('validate: 4 files checked, no problems');
    expect(run.code).toBe(0);
  });

  it('passes the committed environments named as arguments', async ({ expect }) => {
    const run = await validate(['environments/production.yaml', 'environments/staging.yaml'], ROOT);
    expect(run).toMatchObject({ code: 0, stdout: [] });
    expect(run.stderr).toContain('validate: 2 files checked, no problems');
  });

  it('finds a duplicate IP (exit 1)', async ({ expect }) => {
    const file = await fixture('duplicate-ip', (doc) => doc.setIn(['hosts', 2, 'ip'], '192.168.1.102'));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: hosts[2].ip: 192.168.1.102 is already used by hosts[1] (spark-executor-01); ` +
        'each host, hypervisor and the gateway needs an address of its own',
    ]);
    expect(run.stderr).toContain('validate: 1 file checked, 1 error, 0 warnings');
    expect(run.code).toBe(1);
  });

  it('finds a duplicate host name (exit 1)', async ({ expect }) => {
    const file = await fixture('duplicate-name', (doc) =>
      doc.setIn(['hosts', 2, 'name'], 'spark-executor-01'),
    );
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: hosts[2].name: 'spark-executor-01' is already the name of hosts[1]; host names must be unique`,
    ]);
    expect(run.code).toBe(1);
  });

  it('finds a host IP inside a load-balancer pool (exit 1)', async ({ expect }) => {
    const file = await fixture('ip-in-pool', (doc) => doc.setIn(['hosts', 3, 'ip'], '192.168.1.212'));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: hosts[3].ip: 192.168.1.212 is inside load-balancer pool 'internal' (192.168.1.211-192.168.1.215), ` +
        'whose addresses go to services; use an address outside every pool',
    ]);
    expect(run.code).toBe(1);
  });

  it('finds overlapping pools (exit 1)', async ({ expect }) => {
    const file = await fixture('overlapping-pools', (doc) =>
      doc.setIn(['network', 'pools', 'internal'], '192.168.1.208-192.168.1.212'),
    );
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: network.pools.internal: 192.168.1.208-192.168.1.212 overlaps pool 'public' ` +
        '(192.168.1.200-192.168.1.210) at 192.168.1.208-192.168.1.210; ' +
        'pools must not share addresses, or two services can be given the same one',
    ]);
    expect(run.code).toBe(1);
  });

  it('finds a pool written as a mapping instead of first-last (exit 1)', async ({ expect }) => {
    const file = await fixture('pool-mapping', (doc) =>
      doc.setIn(['network', 'pools', 'public'], doc.createNode({ range: '192.168.1.200-192.168.1.210' })),
    );
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: network.pools.public: must be a string (an address range first-last such as ` +
        '192.168.1.200-192.168.1.210), got a mapping',
    ]);
    expect(run.code).toBe(1);
  });

  it('finds an ingress entry without a pool of its name (exit 1)', async ({ expect }) => {
    const file = await fixture('ingress-without-pool', (doc) =>
      doc.setIn(
        ['ingress', 'intranet'],
        doc.createNode({
          exposure: 'internal',
          ingress_class: 'nginx-intranet',
          cert_issuer: 'schnebel-it-ca',
        }),
      ),
    );
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: ingress.intranet: 'intranet' is not a load-balancer pool; ` +
        'known in network.pools: public, internal; each ingress entry is named after the pool its controller ' +
        'gets its address from',
    ]);
    expect(run.code).toBe(1);
  });

  it('finds a pool without an ingress entry (exit 1)', async ({ expect }) => {
    const file = await fixture('pool-without-ingress', (doc) => doc.deleteIn(['ingress', 'internal']));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: ingress.internal: is required but missing: network.pools.internal needs an ingress entry ` +
        '(exposure, ingress_class, cert_issuer) saying what it serves; add one or remove the pool',
    ]);
    expect(run.code).toBe(1);
  });

  it('finds an ingress naming an unknown certificate issuer (exit 1)', async ({ expect }) => {
    const file = await fixture('unknown-issuer', (doc) =>
      doc.setIn(['ingress', 'public', 'cert_issuer'], 'letsencrypt-production'),
    );
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: ingress.public.cert_issuer: 'letsencrypt-production' is not a certificate issuer; ` +
        "did you mean 'letsencrypt-prod'? known in tls.issuers: letsencrypt-prod, schnebel-it-ca",
    ]);
    expect(run.code).toBe(1);
  });

  it('finds a host outside the subnet (exit 1)', async ({ expect }) => {
    const file = await fixture('outside-subnet', (doc) => doc.setIn(['hosts', 5, 'ip'], '192.168.2.120'));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: hosts[5].ip: 192.168.2.120 is outside network.subnet 192.168.1.0/24 (usable: 192.168.1.1-192.168.1.254)`,
    ]);
    expect(run.code).toBe(1);
  });

  it('finds memory committed beyond RAM minus the reserve (exit 1)', async ({ expect }) => {
    const file = await fixture('memory', (doc) => doc.setIn(['hosts', 1, 'memory_gb'], 8));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: hypervisors[0]: VMs commit 32 GB of memory on spark-hypervisor, but only 30 GB is available ` +
        '(32 GB RAM minus 2 GB reserved for Proxmox), 2 GB too much: spark-conductor 4 GB, spark-executor-01 8 GB, ' +
        'spark-executor-02 6 GB, spark-observer 4 GB, spark-logger 4 GB, spark-builder 4 GB, spark-registry 2 GB. ' +
        MEMORY_HINT,
    ]);
    expect(run.code).toBe(1);
  });

  it('warns about vCPU overcommit but passes (exit 0)', async ({ expect }) => {
    const file = await fixture('vcpu', (doc) => doc.setIn(['hypervisors', 0, 'cpu_overcommit'], 1));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: hypervisors[0]: warning: VMs have 18 vCPUs on spark-hypervisor's 16 cores (1.13 per core), more than ` +
        'cpu_overcommit 1 allows (16 vCPUs): spark-conductor 2, spark-executor-01 4, spark-executor-02 4, ' +
        "spark-observer 2, spark-logger 2, spark-builder 2, spark-registry 2. Lower hosts' cpu or raise cpu_overcommit",
    ]);
    expect(run.stderr).toContain('validate: 1 file checked, 0 errors, 1 warning');
    expect(run.code).toBe(0);
  });

  it('finds a typo in a key and suggests the right one (exit 1)', async ({ expect }) => {
    const file = await fixture('typo', (doc) => renameKey(doc, ['hosts', 3], 'memory_gb', 'memroy_gb'));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: hosts[3].memory_gb: is required but missing`,
      `${file}: hosts[3].memroy_gb: unknown key 'memroy_gb'; did you mean 'memory_gb'? Allowed keys: name, role, ip, ` +
        'cpu, memory_gb, disks, hypervisor, groups, tags, protected, description',
    ]);
    expect(run.code).toBe(1);
  });

  it('finds a bad duration (exit 1)', async ({ expect }) => {
    const file = await fixture('duration', (doc) => doc.setIn(['dr', 'rto'], '1 hour'));
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([`${file}: dr.rto: '1 hour' is not a duration; write ${DURATION_FORMAT}`]);
    expect(run.code).toBe(1);
  });

  it('fails the facts as first written with both contradictions', async ({ expect }) => {
    const file = await fixture('as-documented', (doc) => {
      doc.setIn(['network', 'pools', 'internal'], '192.168.1.201-192.168.1.205');
      doc.setIn(['hosts', 1, 'memory_gb'], 8);
      doc.setIn(['hosts', 2, 'memory_gb'], 8);
      doc.setIn(['hosts', 6, 'memory_gb'], 4);
    });
    const run = await validate([file], scratch);
    expect(run.stdout).toEqual([
      `${file}: network.pools.internal: 192.168.1.201-192.168.1.205 overlaps pool 'public' ` +
        '(192.168.1.200-192.168.1.210) at 192.168.1.201-192.168.1.205; ' +
        'pools must not share addresses, or two services can be given the same one',
      `${file}: hypervisors[0]: VMs commit 36 GB of memory on spark-hypervisor, but only 30 GB is available ` +
        '(32 GB RAM minus 2 GB reserved for Proxmox), 6 GB too much: spark-conductor 4 GB, spark-executor-01 8 GB, ' +
        'spark-executor-02 8 GB, spark-observer 4 GB, spark-logger 4 GB, spark-builder 4 GB, spark-registry 4 GB. ' +
        MEMORY_HINT,
    ]);
    expect(run.stderr).toContain('validate: 1 file checked, 2 errors, 0 warnings');
    expect(run.code).toBe(1);
  });

  it('reports every file of a run, and exits 1 when any has an error', async ({ expect }) => {
    const good = await fixture('mixed-good', () => {});
    const bad = await fixture('mixed-bad', (doc) => doc.setIn(['dr', 'rpo'], '15'));
    const run = await validate([good, bad], scratch);
    expect(run.stdout).toEqual([`${bad}: dr.rpo: '15' is not a duration; write ${DURATION_FORMAT}`]);
    expect(run.stderr).toContain('validate: 2 files checked, 1 error, 0 warnings');
    expect(run.code).toBe(1);
  });

  it('checks every environments/*.yaml of the current directory and says what it did not check', async ({
    expect,
  }) => {
    const root = join(scratch, 'default-mode');
    await mkdir(join(root, 'environments'), { recursive: true });
    await writeFile(join(root, 'environments', 'production.yaml'), production);
    await writeFile(join(root, 'environments', 'schema.json'), '{}');
    await writeFile(join(root, 'environments', 'stage.yml'), production);
    await writeFile(join(root, 'environments', 'README.md'), '# notes\n');
    const run = await validate([], root);
    expect(run.stdout).toEqual([
      'environments/stage.yml: (file): environment files are named <name>.yaml, so this one is never loaded; ' +
        'rename it to stage.yaml',
    ]);
    expect(run.stderr).toContain(
      'not checked: environments/README.md (environment files are environments/<name>.yaml)\n' +
        'validate: 2 files checked, 1 error, 0 warnings',
    );
    expect(run.code).toBe(1);
  });

  it('exits 2 with a clear message for a missing file', async ({ expect }) => {
    const run = await validate(['environments/nope.yaml', 'environments/production.yaml'], ROOT);
    expect(run.code).toBe(2);
    expect(run.stdout).toEqual([]);
    expect(run.stderr).toContain(
      'validate: no such file: environments/nope.yaml\nusage: npm run validate [-- FILE...]',
    );
  });

  it('exits 2 for an unknown option and without an environments directory', async ({ expect }) => {
    const option = await validate(['--strict'], ROOT);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('validate: unknown option --strict');
    const empty = join(scratch, 'empty');
    await mkdir(empty, { recursive: true });
    const none = await validate([], empty);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      `validate: there is no environments/ directory in ${empty}; run from the repository root or name the files`,
    );
  });

  it('prints usage for --help (exit 0)', async ({ expect }) => {
    const run = await validate(['--help'], ROOT);
    expect(run.code).toBe(0);
    expect(run.stdout[0]).toBe('usage: npm run validate [-- FILE...]');
  });
});
