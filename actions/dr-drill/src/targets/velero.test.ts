import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type KubernetesApi,
  type KubernetesApiSeed,
  KubernetesApiState,
  type SeedBackup,
  startKubernetesApi,
} from '../../../../test/support/kubernetes-api.js';
import { SecretMasker } from '../../../lib/secrets.js';
import { Scratch } from '../scratch.js';
import type { VeleroTarget } from '../types.js';
import {
  drillVelero,
  loadKubeConfig,
  scratchName,
  type VeleroDrillContext,
  type VeleroDrillOptions,
} from './velero.js';

const TARGET: VeleroTarget = {
  kind: 'velero',
  name: 'cluster-apps',
  schedule: 'daily',
  namespaces: ['shop', 'payments'],
};
const RUN = 'r8k2m';
const SHOP = `drill-shop-${RUN}`;
const PAYMENTS = `drill-payments-${RUN}`;
const WORKLOADS: SeedBackup['workloads'] = {
  shop: [
    { kind: 'Deployment', name: 'web', replicas: 2 },
    { kind: 'StatefulSet', name: 'db' },
  ],
  payments: [{ kind: 'Deployment', name: 'api' }],
  other: [{ kind: 'Deployment', name: 'not-drilled' }],
};
/** Newest first by completion: a Failed one, then the Completed one the drill must pick, then older ones. */
const BACKUPS: SeedBackup[] = [
  {
    name: 'daily-20250103000000',
    schedule: 'daily',
    phase: 'Failed',
    startTimestamp: '2025-01-03T00:00:00Z',
    namespaces: ['shop', 'payments', 'other'],
  },
  {
    name: 'daily-20250102000000',
    schedule: 'daily',
    startTimestamp: '2025-01-02T00:00:00Z',
    completionTimestamp: '2025-01-02T00:04:10Z',
    workloads: WORKLOADS,
  },
  {
    name: 'daily-20250101000000',
    schedule: 'daily',
    startTimestamp: '2025-01-01T00:00:00Z',
    completionTimestamp: '2025-01-01T00:03:00Z',
    workloads: WORKLOADS,
  },
  {
    name: 'weekly-20250104000000',
    schedule: 'weekly',
    startTimestamp: '2025-01-04T00:00:00Z',
    workloads: WORKLOADS,
  },
];

let api: KubernetesApi | undefined;
let work: string;
const scratches: Scratch[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'spark-velero-drill-'));
});

afterEach(async () => {
  for (const scratch of scratches.splice(0)) await scratch.cleanup();
  await api?.close();
  api = undefined;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Drill {
  seed?: KubernetesApiSeed;
  target?: VeleroTarget;
  options?: VeleroDrillOptions;
  ctx?: Partial<VeleroDrillContext>;
  /** Called with the stand-in before the drill starts. */
  prepare?: (stand: KubernetesApi) => void;
  /** Called with each log line, e.g. to abort. */
  onLog?: (line: string, controller: AbortController, stand: KubernetesApi) => void;
}

async function drill({ seed = {}, target = TARGET, options = {}, ctx = {}, prepare, onLog }: Drill = {}) {
  const stand = await startKubernetesApi({ backups: BACKUPS, ...seed });
  api = stand;
  prepare?.(stand);
  const controller = new AbortController();
  const lines: string[] = [];
  const scratch = new Scratch(work);
  scratches.push(scratch);
  const context: VeleroDrillContext = {
    drillStart: Date.now(),
    now: () => Date.now(),
    scratch,
    signal: controller.signal,
    log: (line) => {
      lines.push(line);
      onLog?.(line, controller, stand);
    },
    masker: new SecretMasker(),
    kube: stand.kubeConfig(),
    runId: RUN,
    ...ctx,
  };
  const result = await drillVelero(target, context, { pollIntervalMs: 5, ...options });
  return { result, api: stand, scratch, lines };
}

/** Runs the drill's cleanup and returns the DELETE requests it made. */
async function cleanup(scratch: Scratch, stand: KubernetesApi) {
  const before = stand.requests.length;
  expect(await scratch.cleanup()).toEqual([]);
  return stand.requests
    .slice(before)
    .filter((request) => request.method === 'DELETE')
    .map((request) => request.path);
}

const namespaceDeletes = [`/api/v1/namespaces/${PAYMENTS}`, `/api/v1/namespaces/${SHOP}`];
const restorePath = `/apis/velero.io/v1/namespaces/velero/restores/drill-daily-${RUN}`;

function expectNothingLeft(stand: KubernetesApi) {
  expect(stand.state.namespaces().filter((ns) => ns.startsWith('drill-'))).toEqual([]);
  expect(stand.state.list('restores')).toEqual([]);
}

describe('scratchName', () => {
  it('makes DNS-1123 labels of at most 63 characters that stay apart when cut', () => {
    expect(scratchName('shop', 'r1')).toBe('drill-shop-r1');
    const long = 'a-very-long-namespace-name-that-goes-on-and-on-and-on-forever';
    const a = scratchName(`${long}-a`, '29481234567');
    const b = scratchName(`${long}-b`, '29481234567');
    for (const name of [a, b]) {
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.endsWith('-29481234567')).toBe(true);
    }
    expect(a).not.toBe(b);
    expect(scratchName('Weird_Schedule.Name', 'RUN-1')).toBe('drill-weird-schedule-name-run-1');
  });
});

describe('loadKubeConfig', () => {
  it('reads a kubeconfig file with a bearer token, which the drill then uses', async () => {
    const stand = await startKubernetesApi({ backups: BACKUPS });
    api = stand;
    const path = join(work, 'kubeconfig');
    writeFileSync(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: stand-in, cluster: {server: '${stand.url}', insecure-skip-tls-verify: true}}]`,
        `users: [{name: drill, user: {token: '${stand.token}'}}]`,
        'contexts: [{name: other, context: {cluster: stand-in, user: nobody}}, {name: drill, context: {cluster: stand-in, user: drill}}]',
        'current-context: other',
      ].join('\n'),
      { mode: 0o600 },
    );
    const kube = loadKubeConfig({ path, context: 'drill' });
    const scratch = new Scratch(work);
    scratches.push(scratch);
    const result = await drillVelero(
      TARGET,
      {
        drillStart: Date.now(),
        now: () => Date.now(),
        scratch,
        signal: new AbortController().signal,
        log: () => {},
        masker: new SecretMasker(),
        kube,
        runId: RUN,
      },
      { pollIntervalMs: 5 },
    );
    expect(result.ok).toBe(true);
    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
  });
});

describe('drillVelero', () => {
  it('restores the newest Completed backup into scratch namespaces, verifies it and cleans up', async () => {
    const { result, api: stand, scratch } = await drill();
    expect(result.message).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.backup).toBe('daily-20250102000000');
    expect(result.recoveryPoint).toBe(Date.parse('2025-01-02T00:00:00Z'));
    expect(result.restoreStartedAt).toBeLessThanOrEqual(result.verifiedAt ?? 0);
    expect(result.phases.map((phase) => [phase.name, phase.ok])).toEqual([
      ['find-backup', true],
      ['restore', true],
      ['verify', true],
      ['ready', true],
    ]);
    expect(result.checks).toEqual([
      { name: 'restore-errors', ok: true, expected: '0', actual: '0' },
      { name: 'items-restored', ok: true, expected: '5', actual: '5' },
      { name: `namespace ${SHOP}`, ok: true, expected: 'Active', actual: 'Active' },
      { name: `namespace ${PAYMENTS}`, ok: true, expected: 'Active', actual: 'Active' },
      { name: `workloads ready in ${SHOP}`, ok: true, expected: '2/2', actual: '2/2' },
      { name: `workloads ready in ${PAYMENTS}`, ok: true, expected: '1/1', actual: '1/1' },
    ]);

    const list = stand.requests.find((request) => request.path.endsWith('/backups'));
    expect(list?.query.labelSelector).toBe('velero.io/schedule-name=daily');
    const post = stand.requests.find((request) => request.method === 'POST');
    expect(post?.path).toBe('/apis/velero.io/v1/namespaces/velero/restores');
    expect(post?.body).toMatchObject({
      apiVersion: 'velero.io/v1',
      kind: 'Restore',
      metadata: { name: `drill-daily-${RUN}`, namespace: 'velero' },
      spec: {
        backupName: 'daily-20250102000000',
        includedNamespaces: ['shop', 'payments'],
        namespaceMapping: { shop: SHOP, payments: PAYMENTS },
      },
    });
    // The source namespaces were never touched; only the scratch ones exist.
    expect(stand.state.namespaces().sort()).toEqual([PAYMENTS, SHOP, 'velero'].sort());
    expect(stand.requests.every((request) => request.headers.authorization === '[redacted]')).toBe(true);

    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
    expectNothingLeft(stand);
  });

  it('tolerates a passing API server error while polling', async () => {
    const {
      result,
      api: stand,
      scratch,
    } = await drill({
      prepare: (stand) => stand.state.failNext('GET', /\/restores\//, 500),
    });
    expect(result.ok).toBe(true);
    expect(stand.requests.filter((request) => request.status === 500)).toHaveLength(1);
    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
  });

  it.each([
    ['PartiallyFailed', 'PartiallyFailed'],
    ['FinalizingPartiallyFailed', 'FinalizingPartiallyFailed'],
    ['Failed', 'Failed'],
  ] as const)(
    'answers restore-failed for a %s restore and still deletes its namespaces',
    async (outcome, seen) => {
      const { result, api: stand, scratch } = await drill({ seed: { restore: { outcome, errors: 3 } } });
      expect(result.ok).toBe(false);
      expect(result.failure).toBe('restore-failed');
      expect(result.message).toContain(`ended ${seen}`);
      expect(result.phases.at(-1)).toMatchObject({ name: 'restore', ok: false });
      expect(result.verifiedAt).toBeUndefined();
      // Velero got as far as creating the namespaces before it failed.
      expect(stand.state.namespaces()).toContain(SHOP);
      expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
      expectNothingLeft(stand);
    },
  );

  it('answers restore-failed when Velero rejects the Restore (FailedValidation)', async () => {
    const {
      result,
      api: stand,
      scratch,
    } = await drill({
      // The backup disappears between listing and restoring.
      onLog: (line, _controller, stand) => {
        if (line.includes('restore …')) {
          stand.state.remove(KubernetesApiState.type('backups'), 'velero', 'daily-20250102000000');
        }
      },
    });
    expect(result.failure).toBe('restore-failed');
    expect(result.message).toMatch(/FailedValidation: Error retrieving backup/);
    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
  });

  it.each([
    ['errors > 0', { errors: 2 }, /restore-errors expected 0, got 2/],
    ['items missing', { itemsRestored: 4 }, /items-restored expected 5, got 4/],
  ])('answers verification-failed for a Completed restore with %s', async (_name, script, message) => {
    const { result, api: stand, scratch } = await drill({ seed: { restore: script } });
    expect(result.ok).toBe(false);
    expect(result.failure).toBe('verification-failed');
    expect(result.message).toMatch(message);
    expect(result.phases.map((phase) => [phase.name, phase.ok])).toEqual([
      ['find-backup', true],
      ['restore', true],
      ['verify', false],
    ]);
    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
    expectNothingLeft(stand);
  });

  it('answers verification-failed when a mapped namespace was not restored', async () => {
    const { result, api: stand, scratch } = await drill({ seed: { restore: { restoreItems: false } } });
    expect(result.failure).toBe('verification-failed');
    expect(result.checks).toContainEqual({
      name: `namespace ${SHOP}`,
      ok: false,
      expected: 'Active',
      actual: 'missing',
    });
    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
  });

  it('answers backup-missing when the schedule has no Completed backup, and creates nothing', async () => {
    const {
      result,
      api: stand,
      scratch,
    } = await drill({
      seed: {
        backups: [
          { name: 'daily-1', schedule: 'daily', phase: 'Failed', namespaces: ['shop', 'payments'] },
          { name: 'daily-2', schedule: 'daily', phase: 'PartiallyFailed', namespaces: ['shop', 'payments'] },
          { name: 'daily-3', schedule: 'daily', phase: 'InProgress', namespaces: ['shop', 'payments'] },
          { name: 'weekly-1', schedule: 'weekly', namespaces: ['shop', 'payments'] },
        ],
      },
    });
    expect(result.ok).toBe(false);
    expect(result.failure).toBe('backup-missing');
    expect(result.message).toContain("No Completed backup of schedule 'daily'");
    expect(result.message).toMatch(/1 Failed, 1 PartiallyFailed, 1 InProgress/);
    expect(result.phases).toEqual([expect.objectContaining({ name: 'find-backup', ok: false })]);
    expect(stand.requests.filter((request) => request.method !== 'GET')).toEqual([]);
    expect(await cleanup(scratch, stand)).toEqual([]);
    expectNothingLeft(stand);
  });

  it('answers backup-missing when the newest Completed backup lacks a namespace', async () => {
    const { result } = await drill({ target: { ...TARGET, namespaces: ['shop', 'ledger'] } });
    expect(result.failure).toBe('backup-missing');
    expect(result.message).toContain('does not include namespace(s) ledger');
  });

  it('answers timeout when the drill is aborted while workloads never become Ready', async () => {
    const {
      result,
      api: stand,
      scratch,
    } = await drill({
      seed: { restore: { workloadsBecomeReady: false } },
      onLog: (line, controller) => {
        if (line.includes('ready …')) setTimeout(() => controller.abort(), 50);
      },
    });
    expect(result.failure).toBe('timeout');
    expect(result.phases.at(-1)).toMatchObject({ name: 'ready', ok: false });
    expect(result.checks).toContainEqual(
      expect.objectContaining({
        name: `workloads ready in ${SHOP}`,
        ok: false,
        actual: expect.stringMatching(/0\/2/),
      }),
    );
    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
    expectNothingLeft(stand);
  });

  it('answers verification-failed when workloads are not Ready within the ready timeout', async () => {
    const {
      result,
      api: stand,
      scratch,
    } = await drill({
      seed: { restore: { workloadsBecomeReady: false } },
      options: { readyTimeoutMs: 100 },
    });
    expect(result.failure).toBe('verification-failed');
    expect(result.message).toContain(`${SHOP}/deployment/web 0/2`);
    expect(await cleanup(scratch, stand)).toEqual([restorePath, ...namespaceDeletes]);
    expectNothingLeft(stand);
  });

  it('refuses to restore into a scratch namespace that exists already, and leaves it alone', async () => {
    const { result, api: stand, scratch } = await drill({ seed: { namespaces: [SHOP] } });
    expect(result.failure).toBe('restore-failed');
    expect(result.message).toContain(`${SHOP} exists already`);
    expect(stand.requests.filter((request) => request.method === 'POST')).toEqual([]);
    expect(await cleanup(scratch, stand)).toEqual([]);
    expect(stand.state.namespaces()).toContain(SHOP);
  });
});
