import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type KubernetesApi,
  type KubernetesApiSeed,
  mergePatch,
  startKubernetesApi,
} from './kubernetes-api.js';

let api: KubernetesApi | undefined;

afterEach(async () => {
  await api?.close();
  api = undefined;
});

const BACKUPS: KubernetesApiSeed['backups'] = [
  {
    name: 'daily-20250101000000',
    schedule: 'daily',
    startTimestamp: '2025-01-01T00:00:00Z',
    completionTimestamp: '2025-01-01T00:03:00Z',
    workloads: {
      shop: [
        { kind: 'Deployment', name: 'web', replicas: 2 },
        { kind: 'StatefulSet', name: 'db' },
      ],
    },
  },
  { name: 'daily-20250102000000', schedule: 'daily', phase: 'PartiallyFailed', namespaces: ['shop'] },
  { name: 'weekly-20250101000000', schedule: 'weekly', namespaces: ['shop'] },
  { name: 'manual-1', namespaces: ['shop'] },
];

async function start(seed: KubernetesApiSeed = {}) {
  api = await startKubernetesApi({ backups: BACKUPS, ...seed });
  const config = api.kubeConfig();
  return {
    api,
    custom: config.makeApiClient(CustomObjectsApi),
    core: config.makeApiClient(CoreV1Api),
    apps: config.makeApiClient(AppsV1Api),
  };
}

async function raw(path: string, init: RequestInit & { token?: string | null } = {}) {
  if (!api) throw new Error('start the stand-in first');
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? api.token}`);
  const response = await fetch(`${api.url}${path}`, { ...init, headers });
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    json: JSON.parse(text),
  };
}

const restoreBody = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'velero.io/v1',
  kind: 'Restore',
  metadata: { name, namespace: 'velero' },
  spec: {
    backupName: 'daily-20250101000000',
    includedNamespaces: ['shop'],
    namespaceMapping: { shop: 'drill-shop-1' },
    ...extra,
  },
});

const restoreRef = (name: string) => ({
  group: 'velero.io',
  version: 'v1',
  namespace: 'velero',
  plural: 'restores',
  name,
});

describe('Kubernetes API stand-in', () => {
  it('wants the bearer token: 401 Status otherwise', async () => {
    await start();
    for (const token of [null, 'wrong']) {
      const reply = await raw('/api/v1/namespaces', { token });
      expect(reply.status).toBe(401);
      expect(reply.contentType).toBe('application/json');
      expect(reply.json).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    }
    const wrong = api?.kubeConfig('not-the-token').makeApiClient(CoreV1Api);
    await expect(wrong?.listNamespace()).rejects.toMatchObject({ code: 401 });
    expect(api?.requests.every((request) => request.status === 401)).toBe(true);
  });

  it('answers 404 as a Status naming the resource, and unknown paths with the server’s 404', async () => {
    const { custom } = await start();
    const missing = await raw('/apis/velero.io/v1/namespaces/velero/restores/nope');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'restores.velero.io "nope" not found',
      details: { name: 'nope', group: 'velero.io', kind: 'restores' },
    });
    const error = await custom.getNamespacedCustomObject(restoreRef('nope')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(404);
    const nowhere = await raw('/apis/example.com/v1/namespaces/x/things');
    expect(nowhere.json).toMatchObject({
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
    });
    const ns = await raw('/api/v1/namespaces/absent');
    expect(ns.json).toMatchObject({
      message: 'namespaces "absent" not found',
      details: { kind: 'namespaces' },
    });
  });

  it('lists backups by the schedule label, with list kind, resourceVersion and Velero’s fields', async () => {
    const { custom } = await start();
    const list = await custom.listNamespacedCustomObject({
      group: 'velero.io',
      version: 'v1',
      namespace: 'velero',
      plural: 'backups',
      labelSelector: 'velero.io/schedule-name=daily',
    });
    expect(list.kind).toBe('BackupList');
    expect(list.apiVersion).toBe('velero.io/v1');
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(list.items.map((item: { metadata: { name: string } }) => item.metadata.name)).toEqual([
      'daily-20250101000000',
      'daily-20250102000000',
    ]);
    const [first] = list.items;
    expect(first).toMatchObject({
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      metadata: { namespace: 'velero', labels: { 'velero.io/schedule-name': 'daily' } },
      spec: { includedNamespaces: ['shop'] },
      status: {
        phase: 'Completed',
        startTimestamp: '2025-01-01T00:00:00Z',
        completionTimestamp: '2025-01-01T00:03:00Z',
        progress: { totalItems: 3 },
      },
    });
    expect(first.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.metadata.creationTimestamp).toMatch(/Z$/);

    const none = await raw(
      '/apis/velero.io/v1/namespaces/velero/backups?labelSelector=velero.io%2Fschedule-name',
    );
    expect(none.json.items).toHaveLength(3);
    const notDaily = await raw(
      '/apis/velero.io/v1/namespaces/velero/backups?labelSelector=velero.io%2Fschedule-name%20notin%20(daily)',
    );
    expect(notDaily.json.items.map((item: { metadata: { name: string } }) => item.metadata.name)).toEqual([
      'manual-1',
      'weekly-20250101000000',
    ]);
    const bad = await raw('/apis/velero.io/v1/namespaces/velero/backups?labelSelector=a%20%3D%3D%3D%20b');
    expect(bad.status).toBe(400);

    const page1 = await raw('/apis/velero.io/v1/namespaces/velero/backups?limit=3');
    expect(page1.json.items).toHaveLength(3);
    expect(page1.json.metadata.remainingItemCount).toBe(1);
    const page2 = await raw(
      `/apis/velero.io/v1/namespaces/velero/backups?limit=3&continue=${page1.json.metadata.continue}`,
    );
    expect(page2.json.items).toHaveLength(1);
    expect(page2.json.metadata.continue).toBeUndefined();
  });

  it('creates Restores (201), refuses duplicates (409), missing namespaces (404), bad names (422) and non-JSON (415)', async () => {
    const { custom } = await start();
    const created = await custom.createNamespacedCustomObject({
      group: 'velero.io',
      version: 'v1',
      namespace: 'velero',
      plural: 'restores',
      body: restoreBody('drill-daily-1'),
    });
    expect(created.metadata).toMatchObject({ name: 'drill-daily-1', namespace: 'velero', generation: 1 });
    expect(created.status).toBeUndefined();
    const post = api?.requests.at(-1);
    expect(post).toMatchObject({ method: 'POST', status: 201, authorization: true });
    expect(post?.headers.authorization).toBe('[redacted]');
    expect(post?.contentType).toMatch(/^application\/json/);

    const again = await raw('/apis/velero.io/v1/namespaces/velero/restores', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(restoreBody('drill-daily-1')),
    });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({
      reason: 'AlreadyExists',
      message: 'restores.velero.io "drill-daily-1" already exists',
    });

    const elsewhere = await raw('/apis/velero.io/v1/namespaces/ghost/restores', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...restoreBody('x'), metadata: { name: 'x' } }),
    });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json.message).toBe('namespaces "ghost" not found');

    const badName = await raw('/api/v1/namespaces', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: `Drill_${'x'.repeat(70)}` },
      }),
    });
    expect(badName.status).toBe(422);
    expect(badName.json).toMatchObject({
      reason: 'Invalid',
      details: { causes: [{ field: 'metadata.name' }] },
    });

    const yaml = await raw('/api/v1/namespaces', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fine' } }),
    });
    expect(yaml.status).toBe(415);
  });

  it('plays a Restore out over polls and restores the mapped namespace with workloads that become Ready', async () => {
    const { custom, apps, core } = await start();
    await custom.createNamespacedCustomObject({
      group: 'velero.io',
      version: 'v1',
      namespace: 'velero',
      plural: 'restores',
      body: restoreBody('drill-daily-2'),
    });
    const phases: string[] = [];
    let last: { status?: { phase?: string } } = {};
    for (let poll = 0; poll < 6; poll++) {
      last = await custom.getNamespacedCustomObject(restoreRef('drill-daily-2'));
      phases.push(String(last.status?.phase));
    }
    expect(phases).toEqual(['New', 'InProgress', 'Finalizing', 'Completed', 'Completed', 'Completed']);
    expect(last.status).toMatchObject({
      phase: 'Completed',
      progress: { totalItems: 3, itemsRestored: 3 },
      startTimestamp: expect.any(String),
      completionTimestamp: expect.any(String),
    });
    expect((last.status as Record<string, unknown>).errors).toBeUndefined();

    const ns = await core.readNamespace({ name: 'drill-shop-1' });
    expect(ns.status?.phase).toBe('Active');
    expect(ns.metadata?.labels).toMatchObject({ 'velero.io/restore-name': 'drill-daily-2' });
    await expect(core.readNamespace({ name: 'shop' })).rejects.toMatchObject({ code: 404 });

    const first = await apps.listNamespacedDeployment({ namespace: 'drill-shop-1' });
    expect(first.items.map((d) => [d.metadata?.name, d.spec?.replicas, d.status?.readyReplicas])).toEqual([
      ['web', 2, 0],
    ]);
    const second = await apps.listNamespacedDeployment({ namespace: 'drill-shop-1' });
    expect(second.items[0]?.status).toMatchObject({
      readyReplicas: 2,
      availableReplicas: 2,
      updatedReplicas: 2,
    });
    await apps.listNamespacedStatefulSet({ namespace: 'drill-shop-1' });
    const sets = await apps.listNamespacedStatefulSet({ namespace: 'drill-shop-1' });
    expect(sets.items[0]?.status?.readyReplicas).toBe(1);
  });

  it('follows scripts: FinalizingPartiallyFailed, Failed, errors, missing items, missing backup, never-ready', async () => {
    const scripts: Record<string, KubernetesApiSeed['restore']> = {
      partial: { outcome: 'FinalizingPartiallyFailed', errors: 2 },
      failed: { outcome: 'Failed' },
      short: { itemsRestored: 1, warnings: 4 },
      stuck: { workloadsBecomeReady: false },
    };
    const { custom, apps } = await start({
      restore: (restore) => {
        const script = scripts[restore.metadata.name.split('-').pop() ?? ''];
        return typeof script === 'object' ? script : {};
      },
    });
    const run = async (name: string, extra: Record<string, unknown> = {}) => {
      await custom.createNamespacedCustomObject({
        group: 'velero.io',
        version: 'v1',
        namespace: 'velero',
        plural: 'restores',
        body: restoreBody(name, { namespaceMapping: { shop: `ns-${name}` }, ...extra }),
      });
      const seen: string[] = [];
      let status: Record<string, unknown> = {};
      for (let poll = 0; poll < 5; poll++) {
        status = (await custom.getNamespacedCustomObject(restoreRef(name))).status;
        seen.push(String(status.phase));
      }
      return { seen, status };
    };
    const partial = await run('r-partial');
    expect(partial.seen).toEqual([
      'New',
      'InProgress',
      'FinalizingPartiallyFailed',
      'PartiallyFailed',
      'PartiallyFailed',
    ]);
    expect(partial.status.errors).toBe(2);
    const failed = await run('r-failed');
    expect(failed.seen.slice(0, 3)).toEqual(['New', 'InProgress', 'Failed']);
    expect(failed.status.failureReason).toBeTruthy();
    const short = await run('r-short');
    expect(short.status).toMatchObject({
      phase: 'Completed',
      warnings: 4,
      progress: { totalItems: 3, itemsRestored: 1 },
    });
    const missing = await run('r-missing', { backupName: 'gone' });
    expect(missing.seen[1]).toBe('FailedValidation');
    expect(missing.status.validationErrors).toEqual([
      'Error retrieving backup: backups.velero.io "gone" not found',
    ]);
    await run('r-stuck');
    for (let read = 0; read < 5; read++) {
      const list = await apps.listNamespacedDeployment({ namespace: 'ns-r-stuck' });
      expect(list.items[0]?.status?.readyReplicas).toBe(0);
    }
  });

  it('patches with merge-patch only (415 otherwise) and checks a resourceVersion in the patch (409)', async () => {
    const { custom } = await start();
    await custom.createNamespacedCustomObject({
      group: 'velero.io',
      version: 'v1',
      namespace: 'velero',
      plural: 'restores',
      body: restoreBody('drill-patch'),
    });
    const patched = await custom.patchNamespacedCustomObject(
      {
        ...restoreRef('drill-patch'),
        body: { metadata: { labels: { drill: 'yes' } }, spec: { includedNamespaces: null } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.metadata.labels).toEqual({ drill: 'yes' });
    expect(patched.spec.includedNamespaces).toBeUndefined();
    expect(patched.metadata.generation).toBe(2);
    for (const strategy of [PatchStrategy.StrategicMergePatch, PatchStrategy.JsonPatch]) {
      const refused = await custom
        .patchNamespacedCustomObject(
          { ...restoreRef('drill-patch'), body: { metadata: { labels: { x: 'y' } } } },
          setHeaderOptions('Content-Type', strategy),
        )
        .catch((error: unknown) => error);
      expect((refused as ApiException<unknown>).code).toBe(415);
    }
    const stale = await raw('/apis/velero.io/v1/namespaces/velero/restores/drill-patch', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { resourceVersion: '1', labels: { late: 'yes' } } }),
    });
    expect(stale.status).toBe(409);
    expect(stale.json.reason).toBe('Conflict');
  });

  it('deletes namespaces (Terminating, then gone with what was in them) and Restores, and records each DELETE', async () => {
    const { custom, core, apps } = await start();
    await custom.createNamespacedCustomObject({
      group: 'velero.io',
      version: 'v1',
      namespace: 'velero',
      plural: 'restores',
      body: restoreBody('drill-delete'),
    });
    for (let poll = 0; poll < 4; poll++) await custom.getNamespacedCustomObject(restoreRef('drill-delete'));
    expect(api?.state.list('deployments', 'drill-shop-1')).toHaveLength(1);
    const deleted = await core.deleteNamespace({ name: 'drill-shop-1' });
    expect(deleted).toMatchObject({ status: { phase: 'Terminating' } });
    await expect(core.readNamespace({ name: 'drill-shop-1' })).rejects.toMatchObject({ code: 404 });
    expect((await apps.listNamespacedDeployment({ namespace: 'drill-shop-1' })).items).toEqual([]);
    await custom.deleteNamespacedCustomObject(restoreRef('drill-delete'));
    await expect(custom.deleteNamespacedCustomObject(restoreRef('drill-delete'))).rejects.toMatchObject({
      code: 404,
    });
    expect(
      api?.requests
        .filter((request) => request.method === 'DELETE')
        .map((request) => [request.path, request.status]),
    ).toEqual([
      ['/api/v1/namespaces/drill-shop-1', 200],
      ['/apis/velero.io/v1/namespaces/velero/restores/drill-delete', 200],
      ['/apis/velero.io/v1/namespaces/velero/restores/drill-delete', 404],
    ]);
  });
});

describe('mergePatch', () => {
  it('follows RFC 7386', () => {
    expect(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } })).toEqual({
      a: 'z',
      c: { d: 'e' },
    });
    expect(mergePatch({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
    expect(mergePatch({ a: 1 }, 'x')).toBe('x');
  });
});
