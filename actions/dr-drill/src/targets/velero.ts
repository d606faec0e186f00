/**
 * The velero target of a drill: restore the newest Completed backup of a Velero schedule into scratch
 * namespaces (`namespaceMapping` <ns> → `drill-<ns>-<run id>`), wait for the Restore to finish, check that it
 * restored every item without errors, and wait until the restored Deployments and StatefulSets are Ready.
 * The scratch namespaces and the Restore object are deleted by the drill's cleanup whatever happens.
 *
 * Recovery point: the backup's `status.startTimestamp` (else its completionTimestamp). Velero reads the items
 * between start and completion, so everything written before the start is certainly in the backup; using the
 * completion time would flatter the RPO by the length of the backup.
 */
import { createHash } from 'node:crypto';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1Deployment,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { ActionError } from '../../../lib/errors.js';
import { retry } from '../../../lib/retry.js';
import type { Check, DrillContext, TargetResult, VeleroTarget } from '../types.js';
import { DrillFailure, failedWith, pause, phaseRunner } from './steps.js';

/** What the drill needs of a KubeConfig: API clients. A `KubeConfig` from @kubernetes/client-node is one. */
export type KubeConfigLike = Pick<KubeConfig, 'makeApiClient'>;

export interface VeleroDrillContext extends DrillContext {
  kube: KubeConfigLike;
  /** Part of the scratch names; lower-case letters and digits. Default: the drill start in base 36. */
  runId?: string;
}

export interface VeleroDrillOptions {
  /** Between polls of the Restore and of the workloads. Default 5 s. */
  pollIntervalMs?: number;
  /** How long restored workloads may take to become Ready. Default 15 min. */
  readyTimeoutMs?: number;
  /** Status line interval while waiting. Default 30 s. */
  heartbeatMs?: number;
}

/**
 * A KubeConfig from a kubeconfig file (`path`, else `KUBECONFIG`, else ~/.kube/config), or the in-cluster
 * service account when there is none of those; `context` picks a context.
 */
export function loadKubeConfig(options: { path?: string; context?: string } = {}): KubeConfig {
  const config = new KubeConfig();
  if (options.path) config.loadFromFile(options.path);
  else config.loadFromDefault();
  if (options.context) config.setCurrentContext(options.context);
  if (!config.getCurrentCluster()) {
    throw new ActionError(
      'bad-input',
      'No Kubernetes cluster configured: give a kubeconfig or run in a cluster.',
    );
  }
  return config;
}

const GROUP = 'velero.io';
const VERSION = 'v1';
const SCHEDULE_LABEL = 'velero.io/schedule-name';
const MAX_NAME = 63;

/**
 * `drill-<parts...>-<runId>` as a DNS-1123 label (≤ 63). When too long, the middle is cut and a short hash of
 * it appended, so two long names stay apart.
 */
export function scratchName(middle: string, runId: string): string {
  const clean = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^-|-$/g, '');
  const id = clean(runId).slice(0, 20) || 'run';
  const body = clean(middle) || 'x';
  const full = `drill-${body}-${id}`;
  if (full.length <= MAX_NAME) return full;
  const hash = createHash('sha256').update(middle).digest('hex').slice(0, 6);
  const room = MAX_NAME - 'drill-'.length - id.length - hash.length - 2;
  return `drill-${body.slice(0, room).replace(/-+$/, '')}-${hash}-${id}`;
}

interface VeleroObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: { includedNamespaces?: string[]; excludedNamespaces?: string[] };
  status?: {
    phase?: string;
    startTimestamp?: string;
    completionTimestamp?: string;
    errors?: number;
    warnings?: number;
    failureReason?: string;
    validationErrors?: string[];
    progress?: { totalItems?: number; itemsRestored?: number };
  };
}

/** A short message for an API error: status code and the Status message, never the whole response. */
function apiError(error: unknown): string {
  if (error instanceof ApiException) {
    let body: unknown = error.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // plain text
      }
    }
    const message =
      typeof body === 'object' && body !== null && 'message' in body
        ? String(body.message)
        : String(body ?? '');
    return `HTTP ${error.code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const isStatus = (error: unknown, code: number) => error instanceof ApiException && error.code === code;

/** Worth another try: the API server or the network had a moment. */
const transient = (error: unknown) =>
  error instanceof ApiException ? error.code >= 500 || error.code === 429 : !(error instanceof DrillFailure);

const timestamp = (text: string | undefined) => (text ? Date.parse(text) : Number.NaN);

function includes(backup: VeleroObject, namespace: string): boolean {
  const included = backup.spec?.includedNamespaces ?? [];
  const excluded = backup.spec?.excludedNamespaces ?? [];
  const inside = included.length === 0 || included.includes('*') || included.includes(namespace);
  return inside && !excluded.includes(namespace);
}

/** Whether a Deployment or StatefulSet has all its replicas ready for its current spec. */
export function workloadReady(
  kind: 'Deployment' | 'StatefulSet',
  workload: V1Deployment | V1StatefulSet,
): boolean {
  const wanted = workload.spec?.replicas ?? 1;
  const status = workload.status;
  if (!status) return wanted === 0;
  if ((status.observedGeneration ?? 0) < (workload.metadata?.generation ?? 0)) return false;
  if ((status.readyReplicas ?? 0) < wanted) return false;
  if (kind === 'Deployment') {
    const deployment = status as NonNullable<V1Deployment['status']>;
    return (deployment.updatedReplicas ?? 0) >= wanted && (deployment.availableReplicas ?? 0) >= wanted;
  }
  return true;
}

/** Restores the newest Completed backup of the schedule into scratch namespaces and verifies it. */
export async function drillVelero(
  target: VeleroTarget,
  ctx: VeleroDrillContext,
  options: VeleroDrillOptions = {},
): Promise<TargetResult> {
  const result: TargetResult = { name: target.name, kind: 'velero', ok: false, phases: [], checks: [] };
  const veleroNamespace = target.veleroNamespace ?? 'velero';
  const pollMs = options.pollIntervalMs ?? 5_000;
  const runId = ctx.runId ?? ctx.drillStart.toString(36);
  const custom = ctx.kube.makeApiClient(CustomObjectsApi);
  const core = ctx.kube.makeApiClient(CoreV1Api);
  const apps = ctx.kube.makeApiClient(AppsV1Api);
  let status = '';

  const call = <T>(what: string, work: () => Promise<T>) =>
    retry(work, {
      attempts: 3,
      baseDelayMs: Math.min(1_000, pollMs),
      retryable: transient,
      onRetry: ({ error }) => ctx.log(`[${target.name}] ${what}: ${apiError(error)}; trying again`),
    });

  const phase = phaseRunner({
    name: target.name,
    ctx,
    result,
    heartbeatMs: options.heartbeatMs ?? 30_000,
    status: () => status,
    onStart: () => {
      status = '';
    },
    explain: (error, name) => `${name}: ${apiError(error)}`,
  });

  const checkAbort = (what: string) => {
    if (ctx.signal.aborted) throw new DrillFailure('timeout', `The drill timed out while ${what}.`);
  };

  try {
    // 1. The newest Completed backup of the schedule.
    const backup = await phase(
      'find-backup',
      'backup-missing',
      async () => {
        const backups: VeleroObject[] = [];
        let next: string | undefined;
        do {
          const page = await call('listing backups', () =>
            custom.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: veleroNamespace,
              plural: 'backups',
              labelSelector: `${SCHEDULE_LABEL}=${target.schedule}`,
              limit: 500,
              ...(next ? { _continue: next } : {}),
            }),
          );
          backups.push(...((page.items ?? []) as VeleroObject[]));
          next = page.metadata?.continue || undefined;
        } while (next);
        const completed = backups
          .filter(
            (b) => b.status?.phase === 'Completed' && !Number.isNaN(timestamp(b.status.completionTimestamp)),
          )
          .sort(
            (a, b) => timestamp(b.status?.completionTimestamp) - timestamp(a.status?.completionTimestamp),
          );
        const newest = completed[0];
        if (!newest) {
          const phases = new Map<string, number>();
          for (const b of backups)
            phases.set(b.status?.phase ?? 'New', (phases.get(b.status?.phase ?? 'New') ?? 0) + 1);
          const seen = [...phases].map(([p, n]) => `${n} ${p}`).join(', ');
          throw new DrillFailure(
            'backup-missing',
            `No Completed backup of schedule '${target.schedule}' in namespace ${veleroNamespace}` +
              (backups.length ? ` (found ${seen}).` : ' (no backups carry that schedule label).'),
          );
        }
        const absent = target.namespaces.filter((ns) => !includes(newest, ns));
        if (absent.length > 0) {
          throw new DrillFailure(
            'backup-missing',
            `The newest Completed backup ${newest.metadata.name} does not include namespace(s) ${absent.join(', ')}.`,
          );
        }
        return newest;
      },
      (b) => `${b.metadata.name}, completed ${b.status?.completionTimestamp}`,
    );
    result.backup = backup.metadata.name;
    const started = timestamp(backup.status?.startTimestamp);
    result.recoveryPoint = Number.isNaN(started) ? timestamp(backup.status?.completionTimestamp) : started;

    // 2. Restore into scratch namespaces.
    const mapping = Object.fromEntries(target.namespaces.map((ns) => [ns, scratchName(ns, runId)]));
    const scratchNamespaces = Object.values(mapping);
    const restoreName = scratchName(target.schedule, runId);
    result.restoreStartedAt = ctx.now();
    const restored = await phase(
      'restore',
      'restore-failed',
      async () => {
        for (const name of scratchNamespaces) {
          const exists = await call('checking a scratch namespace', () => core.readNamespace({ name })).then(
            () => true,
            (error: unknown) => {
              if (isStatus(error, 404)) return false;
              throw error;
            },
          );
          if (exists) {
            throw new DrillFailure(
              'restore-failed',
              `Scratch namespace ${name} exists already; the drill will not restore into or delete it.`,
            );
          }
        }
        // Registered before the Restore exists: a restore that fails half-way still leaves namespaces. The
        // scratch undoes newest first, so the Restore goes before its namespaces.
        for (const name of scratchNamespaces) {
          ctx.scratch.onCleanup(`delete namespace ${name}`, () =>
            core.deleteNamespace({ name }).then(
              () => undefined,
              (error: unknown) => {
                if (!isStatus(error, 404)) throw new Error(apiError(error));
              },
            ),
          );
        }
        const deleteRestore = () =>
          custom
            .deleteNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: veleroNamespace,
              plural: 'restores',
              name: restoreName,
            })
            .then(
              () => undefined,
              (error: unknown) => {
                if (!isStatus(error, 404)) throw new Error(apiError(error));
              },
            );
        const body = {
          apiVersion: `${GROUP}/${VERSION}`,
          kind: 'Restore',
          metadata: {
            name: restoreName,
            namespace: veleroNamespace,
            labels: { 'app.kubernetes.io/managed-by': 'spark-dr-drill', 'spark.dev/drill-run': runId },
          },
          spec: {
            backupName: backup.metadata.name,
            includedNamespaces: target.namespaces,
            namespaceMapping: mapping,
          },
        };
        try {
          await custom.createNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: veleroNamespace,
            plural: 'restores',
            body,
          });
        } catch (error) {
          // A Restore of that name is someone else's (or an earlier drill's): leave it. Any other failure may
          // have happened after the server stored it, so it is cleaned up like a created one.
          if (isStatus(error, 409)) {
            throw new DrillFailure(
              'restore-failed',
              `Restore ${veleroNamespace}/${restoreName} exists already.`,
            );
          }
          ctx.scratch.onCleanup(`delete Restore ${veleroNamespace}/${restoreName}`, deleteRestore);
          throw error;
        }
        ctx.scratch.onCleanup(`delete Restore ${veleroNamespace}/${restoreName}`, deleteRestore);
        ctx.log(
          `[${target.name}] Restore ${restoreName} of ${backup.metadata.name} into ${scratchNamespaces.join(', ')}`,
        );
        while (true) {
          checkAbort(`waiting for Restore ${restoreName}`);
          const restore = (await call('reading the Restore', () =>
            custom.getNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: veleroNamespace,
              plural: 'restores',
              name: restoreName,
            }),
          )) as VeleroObject;
          const s = restore.status ?? {};
          const phaseNow = s.phase || 'New';
          status = `Restore ${restoreName} ${phaseNow}${s.progress ? ` ${s.progress.itemsRestored ?? 0}/${s.progress.totalItems ?? '?'} items` : ''}`;
          if (phaseNow.includes('Failed')) {
            const why = [
              s.failureReason,
              ...(s.validationErrors ?? []),
              s.errors ? `${s.errors} error(s)` : undefined,
            ].filter(Boolean);
            throw new DrillFailure(
              'restore-failed',
              `Restore ${restoreName} of ${backup.metadata.name} ended ${phaseNow}${why.length ? `: ${why.join('; ')}` : ''}. See \`velero restore describe ${restoreName} --details\`.`,
            );
          }
          if (phaseNow === 'Completed') return restore;
          await pause(pollMs, ctx.signal);
        }
      },
      (r) => `${restoreName}: ${r.status?.phase}, warnings ${r.status?.warnings ?? 0}`,
    );

    // 3. Every item, no errors, and the namespaces are there.
    await phase('verify', 'verification-failed', async () => {
      const s = restored.status ?? {};
      const total = s.progress?.totalItems;
      const items = s.progress?.itemsRestored;
      const checks: Check[] = [
        { name: 'restore-errors', ok: (s.errors ?? 0) === 0, expected: '0', actual: String(s.errors ?? 0) },
        {
          name: 'items-restored',
          ok: total !== undefined && items === total,
          expected: total === undefined ? 'progress reported by Velero' : String(total),
          actual: items === undefined ? 'not reported' : String(items),
        },
      ];
      for (const name of scratchNamespaces) {
        const found = await call('reading a scratch namespace', () => core.readNamespace({ name })).then(
          (ns) => ns.status?.phase ?? 'Active',
          (error: unknown) => {
            if (isStatus(error, 404)) return 'missing';
            throw error;
          },
        );
        checks.push({ name: `namespace ${name}`, ok: found === 'Active', expected: 'Active', actual: found });
      }
      result.checks.push(...checks);
      const failed = checks.filter((check) => !check.ok);
      if (failed.length > 0) {
        throw new DrillFailure(
          'verification-failed',
          `Restore ${restoreName}: ${failed.map((c) => `${c.name} expected ${c.expected}, got ${c.actual}`).join('; ')}.`,
        );
      }
    });

    // 4. The restored workloads come up.
    await phase(
      'ready',
      'verification-failed',
      async () => {
        const deadline = ctx.now() + (options.readyTimeoutMs ?? 15 * 60_000);
        while (true) {
          const waiting: string[] = [];
          const counts = new Map<string, { ready: number; total: number; waiting: string[] }>();
          for (const namespace of scratchNamespaces) {
            const [deployments, statefulSets] = await Promise.all([
              call('listing Deployments', () => apps.listNamespacedDeployment({ namespace })),
              call('listing StatefulSets', () => apps.listNamespacedStatefulSet({ namespace })),
            ]);
            const entry = { ready: 0, total: 0, waiting: [] as string[] };
            const visit = (kind: 'Deployment' | 'StatefulSet', w: V1Deployment | V1StatefulSet) => {
              entry.total++;
              if (workloadReady(kind, w)) entry.ready++;
              else {
                const label = `${kind === 'Deployment' ? 'deployment' : 'statefulset'}/${w.metadata?.name} ${w.status?.readyReplicas ?? 0}/${w.spec?.replicas ?? 1}`;
                entry.waiting.push(label);
                waiting.push(`${namespace}/${label}`);
              }
            };
            for (const d of deployments.items) visit('Deployment', d);
            for (const s of statefulSets.items) visit('StatefulSet', s);
            counts.set(namespace, entry);
          }
          const ready = [...counts.values()].reduce((sum, c) => sum + c.ready, 0);
          const total = [...counts.values()].reduce((sum, c) => sum + c.total, 0);
          status = `${ready}/${total} workloads ready${waiting.length ? `; waiting for ${waiting.slice(0, 5).join(', ')}` : ''}`;
          const aborted = ctx.signal.aborted;
          if (waiting.length === 0 || aborted || ctx.now() >= deadline) {
            for (const [namespace, c] of counts) {
              result.checks.push({
                name: `workloads ready in ${namespace}`,
                ok: c.waiting.length === 0,
                expected: `${c.total}/${c.total}`,
                actual: `${c.ready}/${c.total}${c.waiting.length ? ` (not ready: ${c.waiting.join(', ')})` : ''}`,
              });
            }
            if (waiting.length === 0) return { ready, total };
            if (aborted) {
              throw new DrillFailure(
                'timeout',
                `The drill timed out waiting for ${waiting.join(', ')} to be Ready.`,
              );
            }
            throw new DrillFailure(
              'verification-failed',
              `Restored workloads not Ready within ${Math.round((options.readyTimeoutMs ?? 900_000) / 1000)} s: ${waiting.join(', ')}.`,
            );
          }
          await pause(pollMs, ctx.signal);
        }
      },
      ({ ready, total }) => `${ready}/${total} Deployments and StatefulSets ready`,
    );
    result.verifiedAt = ctx.now();
    result.ok = true;
    return result;
  } catch (error) {
    return failedWith(result, error, ctx.masker);
  }
}
