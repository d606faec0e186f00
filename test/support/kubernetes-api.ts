/**
 * A stand-in for the Kubernetes API server with Velero installed, served over real HTTP on 127.0.0.1 so that
 * the real `@kubernetes/client-node` talks to it.
 *
 * It follows the API contract for what the DR drill's velero target uses: real paths, `application/json`,
 * `metadata.resourceVersion` (one counter for the whole store), `uid`, `creationTimestamp`, `generation`,
 * lists with `kind: <Kind>List` and `metadata.resourceVersion`, `labelSelector` (=, ==, !=, exists, !exists,
 * in, notin), `fieldSelector` on metadata.name/metadata.namespace, `limit`/`continue`, and errors as `Status`
 * objects (401 Unauthorized, 404 NotFound, 405 MethodNotAllowed, 409 AlreadyExists/Conflict, 415
 * UnsupportedMediaType, 422 Invalid, 400 BadRequest). Every request is recorded (the Authorization value is
 * redacted) so tests can assert on what was asked.
 *
 * Resources:
 *   /api/v1/namespaces[/{name}]                                    GET list/get, POST, DELETE, PATCH
 *   /apis/velero.io/v1/namespaces/{ns}/backups[/{name}]           GET list/get, POST, DELETE, PATCH
 *   /apis/velero.io/v1/namespaces/{ns}/restores[/{name}]          GET list/get, POST, DELETE, PATCH
 *   /apis/apps/v1/namespaces/{ns}/deployments|statefulsets[/{n}]  GET list/get, POST, DELETE, PATCH
 *   /apis/{group}/{version}/{plural}                               GET list across namespaces
 * PATCH takes `application/merge-patch+json` only (415 otherwise); a `metadata.resourceVersion` in the patch
 * that is not the current one is a 409 Conflict. Creating in a namespace that does not exist is a 404.
 * Deleting a namespace answers it in phase Terminating and removes it with everything in it.
 *
 * The Velero "controller": a Restore is stored as posted (no status). Each `GET` of that Restore by name is one
 * poll; every `pollsPerPhase` polls it moves on: New → InProgress → Finalizing (or FinalizingPartiallyFailed)
 * → Completed / PartiallyFailed, or New → InProgress → Failed, or FailedValidation when the backup is
 * missing. On entering InProgress it restores the backup's namespaces (`spec.includedNamespaces`, mapped by
 * `spec.namespaceMapping`; an existing target namespace is left alone) with the backup's workloads. Workloads
 * start with no ready replicas and become Ready after `readyAfterReads` reads (list or get) unless scripted
 * never to. `progress.totalItems` counts what the Restore selects (a namespace and its workloads each), as
 * Velero counts after its filters. The terminal status carries `errors`, `warnings`, `progress`,
 * `startTimestamp`, `completionTimestamp` and, for Failed, `failureReason`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { readBody, recordedHeaders } from './http-recording.js';

// ---------------------------------------------------------------------------------------------------------
// Seed and scripts

export interface SeedWorkload {
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  /** spec.replicas. Default 1. */
  replicas?: number;
}

export interface SeedBackup {
  name: string;
  /** Becomes the label `velero.io/schedule-name`. */
  schedule?: string;
  /** status.phase. Default Completed. */
  phase?: string;
  startTimestamp?: string;
  /** Default: startTimestamp, for Completed/PartiallyFailed/Failed backups. */
  completionTimestamp?: string;
  /** spec.includedNamespaces. */
  namespaces?: string[];
  /** status.progress.totalItems. Default: one per namespace plus one per workload. */
  totalItems?: number;
  /** What restoring this backup brings back, per source namespace. */
  workloads?: Record<string, SeedWorkload[]>;
  labels?: Record<string, string>;
}

export type RestoreOutcome = 'Completed' | 'PartiallyFailed' | 'Failed' | 'FinalizingPartiallyFailed';

export interface RestoreScript {
  /** Default Completed. FinalizingPartiallyFailed passes through that phase and ends PartiallyFailed. */
  outcome?: RestoreOutcome;
  /** status.errors at the end. Default 0, or 1 for PartiallyFailed outcomes. */
  errors?: number;
  warnings?: number;
  /** status.progress.itemsRestored at the end. Default: totalItems (half of it for Failed). */
  itemsRestored?: number;
  /** GETs of the Restore per phase. Default 1. */
  pollsPerPhase?: number;
  /** Whether restored workloads ever become Ready. Default true. */
  workloadsBecomeReady?: boolean;
  /** Reads of a workload before it reports Ready. Default 2. */
  readyAfterReads?: number;
  /** Whether InProgress creates the mapped namespaces and workloads. Default true. */
  restoreItems?: boolean;
}

export interface KubernetesApiSeed {
  /** The only bearer token accepted. Default `spark-kube-test-token`. */
  token?: string;
  /** Namespace Velero runs in; created with the store. Default `velero`. */
  veleroNamespace?: string;
  /** Further namespaces that exist from the start. */
  namespaces?: string[];
  backups?: SeedBackup[];
  /** How Restores play out: one script for all, or chosen per Restore. */
  restore?: RestoreScript | ((restore: KubeObject) => RestoreScript);
}

// ---------------------------------------------------------------------------------------------------------
// Store

export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Built-in types leave kind/apiVersion out of list items; custom resources keep them. */
  custom: boolean;
}

const TYPES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, custom: false },
  { group: 'velero.io', version: 'v1', plural: 'backups', kind: 'Backup', namespaced: true, custom: true },
  { group: 'velero.io', version: 'v1', plural: 'restores', kind: 'Restore', namespaced: true, custom: true },
  {
    group: 'apps',
    version: 'v1',
    plural: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    custom: false,
  },
  {
    group: 'apps',
    version: 'v1',
    plural: 'statefulsets',
    kind: 'StatefulSet',
    namespaced: true,
    custom: false,
  },
];

const apiVersionOf = (type: ResourceType) => (type.group ? `${type.group}/${type.version}` : type.version);
const qualified = (type: ResourceType) => (type.group ? `${type.plural}.${type.group}` : type.plural);
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const clone = <T>(value: T): T => structuredClone(value);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Lower-cased headers; `authorization` is `[redacted]` when sent. */
  headers: Record<string, string>;
  authorization: boolean;
  contentType: string | undefined;
  body: unknown;
  status: number;
}

interface RestoreRun {
  script: Required<RestoreScript>;
  phases: string[];
  step: number;
  polls: number;
  restored: boolean;
}

interface Fault {
  method: string;
  path: RegExp;
  status: number;
}

export class KubernetesApiState {
  private readonly objects = new Map<string, KubeObject>();
  private readonly reads = new Map<string, number>();
  private readonly runs = new Map<string, RestoreRun>();
  private readonly backupWorkloads = new Map<string, Record<string, SeedWorkload[]>>();
  private readonly faults: Fault[] = [];
  private version = 100;
  /** Workload key → whether it may become Ready, and after how many reads. */
  private readonly readiness = new Map<string, { ready: boolean; after: number }>();

  constructor(
    readonly veleroNamespace: string,
    private readonly restoreScript: KubernetesApiSeed['restore'],
  ) {}

  nextVersion(): string {
    this.version += 1;
    return String(this.version);
  }

  get resourceVersion(): string {
    return String(this.version);
  }

  private key(type: ResourceType, namespace: string | undefined, name: string) {
    return `${qualified(type)}/${type.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  static type(plural: string): ResourceType {
    const type = TYPES.find((candidate) => candidate.plural === plural);
    if (!type) throw new Error(`the stand-in knows no resource ${plural}`);
    return type;
  }

  /** The stored object, or undefined. */
  get(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const object = this.objects.get(this.key(KubernetesApiState.type(plural), namespace, name));
    return object && clone(object);
  }

  /** Stored objects of a type, optionally in one namespace, in name order. */
  list(plural: string, namespace?: string): KubeObject[] {
    const type = KubernetesApiState.type(plural);
    const prefix = `${qualified(type)}/${type.namespaced && namespace !== undefined ? `${namespace}/` : ''}`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, object]) => object)
      .sort((a, b) =>
        `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
        ),
      )
      .map(clone);
  }

  /** Names of the namespaces that exist. */
  namespaces(): string[] {
    return this.list('namespaces').map((ns) => ns.metadata.name);
  }

  /** Stores a new object as the API server would (uid, resourceVersion, creationTimestamp, generation). */
  insert(type: ResourceType, object: KubeObject): KubeObject {
    const stored = clone(object);
    stored.apiVersion = apiVersionOf(type);
    stored.kind = type.kind;
    stored.metadata = {
      ...stored.metadata,
      uid: randomUUID(),
      resourceVersion: this.nextVersion(),
      creationTimestamp: now(),
      generation: 1,
    };
    if (!type.namespaced) delete stored.metadata.namespace;
    if (type.plural === 'namespaces') {
      stored.spec = { finalizers: ['kubernetes'] };
      stored.status = { phase: 'Active' };
      stored.metadata.labels = {
        ...stored.metadata.labels,
        'kubernetes.io/metadata.name': stored.metadata.name,
      };
      delete stored.metadata.generation;
    }
    this.objects.set(this.key(type, stored.metadata.namespace, stored.metadata.name), stored);
    return clone(stored);
  }

  replace(type: ResourceType, object: KubeObject): KubeObject {
    const stored = clone(object);
    stored.metadata.resourceVersion = this.nextVersion();
    this.objects.set(this.key(type, stored.metadata.namespace, stored.metadata.name), stored);
    return clone(stored);
  }

  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = this.key(type, namespace, name);
    const object = this.objects.get(key);
    if (!object) return undefined;
    this.objects.delete(key);
    this.runs.delete(key);
    this.readiness.delete(key);
    this.nextVersion();
    if (type.plural === 'namespaces') {
      for (const [other, candidate] of [...this.objects.entries()]) {
        if (candidate.metadata.namespace === name) {
          this.objects.delete(other);
          this.runs.delete(other);
          this.readiness.delete(other);
        }
      }
    }
    return clone(object);
  }

  addNamespace(name: string, labels: Record<string, string> = {}): KubeObject {
    return this.insert(KubernetesApiState.type('namespaces'), {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels },
    });
  }

  addBackup(seed: SeedBackup): KubeObject {
    if (!this.get('namespaces', undefined, this.veleroNamespace)) this.addNamespace(this.veleroNamespace);
    const phase = seed.phase ?? 'Completed';
    const namespaces = seed.namespaces ?? Object.keys(seed.workloads ?? {});
    const workloads = seed.workloads ?? {};
    const counted = namespaces.reduce((sum, ns) => sum + 1 + (workloads[ns]?.length ?? 0), 0);
    const start = seed.startTimestamp ?? now();
    const finished = ['Completed', 'PartiallyFailed', 'Failed'].includes(phase);
    const status: Record<string, unknown> = {
      phase,
      startTimestamp: start,
      version: 1,
      formatVersion: '1.1.0',
      progress: { totalItems: seed.totalItems ?? counted, itemsBackedUp: seed.totalItems ?? counted },
    };
    const completion = seed.completionTimestamp ?? (finished ? start : undefined);
    if (completion) status.completionTimestamp = completion;
    if (phase === 'PartiallyFailed') status.errors = 1;
    if (phase === 'Failed') status.failureReason = 'seeded failure';
    this.backupWorkloads.set(seed.name, workloads);
    return this.insert(KubernetesApiState.type('backups'), {
      apiVersion: 'velero.io/v1',
      kind: 'Backup',
      metadata: {
        name: seed.name,
        namespace: this.veleroNamespace,
        labels: {
          'velero.io/storage-location': 'default',
          ...(seed.schedule ? { 'velero.io/schedule-name': seed.schedule } : {}),
          ...seed.labels,
        },
      },
      spec: {
        includedNamespaces: namespaces,
        storageLocation: 'default',
        ttl: '720h0m0s',
        ...(seed.schedule ? { scheduleName: seed.schedule } : {}),
      },
      status,
    });
  }

  /** Injects `status` (with a Status body) for the next request matching method and path. */
  failNext(method: string, path: RegExp, status: number): void {
    this.faults.push({ method: method.toUpperCase(), path, status });
  }

  takeFault(method: string, path: string): Fault | undefined {
    const index = this.faults.findIndex(
      (fault) => (fault.method === '*' || fault.method === method) && fault.path.test(path),
    );
    return index < 0 ? undefined : this.faults.splice(index, 1)[0];
  }

  // -------------------------------------------------------------------------------------------------------
  // The simulated controllers

  /** A Restore was created: plan how it plays out. */
  startRestore(restore: KubeObject): void {
    const chosen =
      typeof this.restoreScript === 'function' ? this.restoreScript(restore) : this.restoreScript;
    const outcome = chosen?.outcome ?? 'Completed';
    const partial = outcome === 'PartiallyFailed' || outcome === 'FinalizingPartiallyFailed';
    const script: Required<RestoreScript> = {
      outcome,
      errors: chosen?.errors ?? (partial ? 1 : 0),
      warnings: chosen?.warnings ?? 0,
      itemsRestored: chosen?.itemsRestored ?? -1,
      pollsPerPhase: Math.max(1, chosen?.pollsPerPhase ?? 1),
      workloadsBecomeReady: chosen?.workloadsBecomeReady ?? true,
      readyAfterReads: chosen?.readyAfterReads ?? 2,
      restoreItems: chosen?.restoreItems ?? true,
    };
    const backupName = String(restore.spec?.backupName ?? '');
    const backup = this.get('backups', restore.metadata.namespace, backupName);
    let phases: string[];
    if (!backup) phases = ['New', 'FailedValidation'];
    else if (outcome === 'Failed') phases = ['New', 'InProgress', 'Failed'];
    else if (outcome === 'FinalizingPartiallyFailed')
      phases = ['New', 'InProgress', 'FinalizingPartiallyFailed', 'PartiallyFailed'];
    else phases = ['New', 'InProgress', 'Finalizing', outcome];
    const key = this.key(
      KubernetesApiState.type('restores'),
      restore.metadata.namespace,
      restore.metadata.name,
    );
    this.runs.set(key, { script, phases, step: -1, polls: 0, restored: false });
  }

  /** One poll (GET by name) of a Restore: moves it on every `pollsPerPhase` polls. */
  pollRestore(namespace: string, name: string): void {
    const type = KubernetesApiState.type('restores');
    const key = this.key(type, namespace, name);
    const run = this.runs.get(key);
    const restore = this.objects.get(key);
    if (!run || !restore) return;
    if (run.step >= 0 && run.step === run.phases.length - 1) return;
    if (run.step >= 0 && ++run.polls < run.script.pollsPerPhase) return;
    run.polls = 0;
    run.step += 1;
    const phase = run.phases[run.step] as string;
    const backupName = String(restore.spec?.backupName ?? '');
    const backup = this.objects.get(this.key(KubernetesApiState.type('backups'), namespace, backupName));
    const total = backup ? this.itemsToRestore(restore, backup) : 0;
    const status: Record<string, unknown> = { ...(restore.status ?? {}), phase };
    if (phase === 'FailedValidation') {
      status.validationErrors = [`Error retrieving backup: backups.velero.io "${backupName}" not found`];
      status.completionTimestamp = now();
    }
    if (phase === 'InProgress') {
      status.startTimestamp = now();
      status.progress = { totalItems: total, itemsRestored: Math.floor(total / 2) };
      if (run.script.restoreItems && !run.restored && backup) this.restoreItems(restore, backup, run);
    }
    const terminal = run.step === run.phases.length - 1;
    if (phase.startsWith('Finalizing') || terminal) {
      const fallback = run.script.outcome === 'Failed' ? Math.floor(total / 2) : total;
      const restored = run.script.itemsRestored >= 0 ? run.script.itemsRestored : fallback;
      status.progress = { totalItems: total, itemsRestored: restored };
      if (run.script.errors > 0) status.errors = run.script.errors;
      if (run.script.warnings > 0) status.warnings = run.script.warnings;
    }
    if (terminal && phase !== 'FailedValidation') {
      status.completionTimestamp = now();
      if (phase === 'Failed') status.failureReason = 'simulated: the restore controller gave up';
    }
    restore.status = status;
    restore.metadata.resourceVersion = this.nextVersion();
  }

  /** The backup's namespaces that the Restore's `includedNamespaces` select. */
  private selectedNamespaces(restore: KubeObject, backup: KubeObject): string[] {
    const inBackup = (backup.spec?.includedNamespaces as string[] | undefined) ?? [];
    const wanted = (restore.spec?.includedNamespaces as string[] | undefined) ?? [];
    return wanted.length === 0 || wanted.includes('*')
      ? inBackup
      : inBackup.filter((ns) => wanted.includes(ns));
  }

  /**
   * What Velero reports as the Restore's totalItems: the items left after its filters (one namespace plus its
   * workloads each), or the backup's own totalItems when the backup was seeded without workloads.
   */
  private itemsToRestore(restore: KubeObject, backup: KubeObject): number {
    const workloads = this.backupWorkloads.get(backup.metadata.name) ?? {};
    if (Object.keys(workloads).length === 0) {
      return Number((backup.status?.progress as { totalItems?: number } | undefined)?.totalItems ?? 0);
    }
    return this.selectedNamespaces(restore, backup).reduce(
      (sum, ns) => sum + 1 + (workloads[ns]?.length ?? 0),
      0,
    );
  }

  private restoreItems(restore: KubeObject, backup: KubeObject, run: RestoreRun): void {
    run.restored = true;
    const mapping = (restore.spec?.namespaceMapping as Record<string, string> | undefined) ?? {};
    const selected = this.selectedNamespaces(restore, backup);
    const workloads = this.backupWorkloads.get(backup.metadata.name) ?? {};
    const labels = {
      'velero.io/backup-name': backup.metadata.name,
      'velero.io/restore-name': restore.metadata.name,
    };
    for (const source of selected) {
      const target = mapping[source] ?? source;
      if (this.get('namespaces', undefined, target)) continue; // Velero does not overwrite what exists
      this.addNamespace(target, labels);
      for (const workload of workloads[source] ?? []) {
        const type = KubernetesApiState.type(workload.kind === 'Deployment' ? 'deployments' : 'statefulsets');
        const replicas = workload.replicas ?? 1;
        const stored = this.insert(type, {
          apiVersion: 'apps/v1',
          kind: workload.kind,
          metadata: { name: workload.name, namespace: target, labels: { ...labels, app: workload.name } },
          spec: {
            replicas,
            selector: { matchLabels: { app: workload.name } },
            template: { metadata: { labels: { app: workload.name } }, spec: { containers: [] } },
          },
          status: workloadStatus(workload.kind, replicas, 0),
        });
        this.readiness.set(this.key(type, target, stored.metadata.name), {
          ready: run.script.workloadsBecomeReady,
          after: run.script.readyAfterReads,
        });
      }
    }
  }

  /** A workload was read: count it, and report it Ready once it has been read often enough. */
  readWorkload(type: ResourceType, object: KubeObject): KubeObject {
    const key = this.key(type, object.metadata.namespace, object.metadata.name);
    const plan = this.readiness.get(key);
    if (!plan) return object;
    const reads = (this.reads.get(key) ?? 0) + 1;
    this.reads.set(key, reads);
    if (plan.ready && reads >= plan.after) {
      const stored = this.objects.get(key) as KubeObject;
      const replicas = Number(stored.spec?.replicas ?? 1);
      stored.status = workloadStatus(stored.kind as SeedWorkload['kind'], replicas, replicas);
      stored.metadata.resourceVersion = this.nextVersion();
      this.readiness.delete(key);
      return clone(stored);
    }
    return object;
  }
}

function workloadStatus(
  kind: SeedWorkload['kind'],
  replicas: number,
  ready: number,
): Record<string, unknown> {
  const base = { observedGeneration: 1, replicas, readyReplicas: ready, availableReplicas: ready };
  if (kind === 'StatefulSet') {
    return {
      ...base,
      currentReplicas: replicas,
      updatedReplicas: replicas,
      currentRevision: 'r1',
      updateRevision: 'r1',
    };
  }
  return {
    ...base,
    updatedReplicas: replicas,
    ...(ready < replicas ? { unavailableReplicas: replicas - ready } : {}),
    conditions: [
      {
        type: 'Available',
        status: ready >= replicas ? 'True' : 'False',
        reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Selectors and merge patch

type Requirement = (labels: Record<string, string>) => boolean;

/** Parses a label selector; throws a message for BadRequest when it cannot. */
export function parseLabelSelector(selector: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part): Requirement => {
      let match = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
      if (match) {
        const [, key = '', op, value = ''] = match;
        return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
      }
      match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
      if (match) {
        const [, key = '', op, list = ''] = match;
        const values = list.split(',').map((value) => value.trim());
        return op === 'in'
          ? (labels) => labels[key] !== undefined && values.includes(labels[key] as string)
          : (labels) => labels[key] === undefined || !values.includes(labels[key] as string);
      }
      match = /^(!?)([\w./-]+)$/.exec(part);
      if (match) {
        const [, not, key = ''] = match;
        return not ? (labels) => !(key in labels) : (labels) => key in labels;
      }
      throw new Error(`unable to parse requirement: ${part}`);
    });
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const result: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Server

export interface KubernetesApi {
  /** `http://127.0.0.1:<port>`, the cluster's server URL. */
  url: string;
  token: string;
  state: KubernetesApiState;
  requests: RecordedRequest[];
  /** A KubeConfig for the real client: this server, bearer token, one context. */
  kubeConfig(token?: string): KubeConfig;
  close(): Promise<void>;
}

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

const notFound = (type: ResourceType, name: string) =>
  new StatusError(404, 'NotFound', `${qualified(type)} "${name}" not found`, {
    name,
    ...(type.group ? { group: type.group } : {}),
    kind: type.plural,
  });

const noRoute = () =>
  new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});

const badRequest = (message: string) => new StatusError(400, 'BadRequest', message);

function invalid(type: ResourceType, name: string, field: string, message: string) {
  return new StatusError(
    422,
    'Invalid',
    `${type.kind}.${type.group || 'core'} "${name}" is invalid: ${field}: ${message}`,
    {
      name,
      ...(type.group ? { group: type.group } : {}),
      kind: type.kind,
      causes: [{ reason: 'FieldValueInvalid', message, field }],
    },
  );
}

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
}

function route(path: string): Route {
  let match = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path);
  if (match)
    return { type: KubernetesApiState.type('namespaces'), name: match[1] && decodeURIComponent(match[1]) };
  match = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  if (match) {
    const [, group, version, namespace = '', plural, name] = match;
    const type = TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
    if (!type) throw noRoute();
    return { type, namespace: decodeURIComponent(namespace), name: name && decodeURIComponent(name) };
  }
  match = /^\/apis\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (match) {
    const [, group, version, plural] = match;
    const type = TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
    if (!type?.namespaced) throw noRoute();
    return { type };
  }
  throw noRoute();
}

const mediaType = (header: string | undefined) => header?.split(';')[0]?.trim().toLowerCase();

export async function startKubernetesApi(seed: KubernetesApiSeed = {}): Promise<KubernetesApi> {
  const token = seed.token ?? 'spark-kube-test-token';
  const state = new KubernetesApiState(seed.veleroNamespace ?? 'velero', seed.restore);
  state.addNamespace(state.veleroNamespace);
  for (const name of seed.namespaces ?? []) state.addNamespace(name);
  for (const backup of seed.backups ?? []) state.addBackup(backup);
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(res, 500, statusBody(500, 'InternalError', `stand-in error: ${String(error)}`));
      else res.end();
    });
  });

  function send(res: ServerResponse, status: number, body: unknown) {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      'audit-id': randomUUID(),
      'cache-control': 'no-cache, private',
    });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const headers = recordedHeaders(req);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      authorization: req.headers.authorization !== undefined,
      contentType: req.headers['content-type'],
      body: undefined,
      status: 0,
    };
    requests.push(record);
    const raw = await readBody(req);
    const reply = (status: number, body: unknown) => {
      record.status = status;
      send(res, status, body);
    };
    try {
      if (raw.trim() !== '') {
        try {
          record.body = JSON.parse(raw);
        } catch {
          throw badRequest('the request body is not valid JSON');
        }
      }
      const credentials = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '');
      if (!credentials || credentials[1] !== token)
        throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      const fault = state.takeFault(method, url.pathname);
      if (fault) {
        throw new StatusError(
          fault.status,
          fault.status >= 500 ? 'InternalError' : 'BadRequest',
          `injected failure ${fault.status}`,
        );
      }
      const { status, body } = serve(method, route(url.pathname), url.searchParams, record);
      reply(status, body);
    } catch (error) {
      if (!(error instanceof StatusError)) throw error;
      reply(error.code, statusBody(error.code, error.reason, error.message, error.details));
    }
  }

  function requireNamespace(name: string) {
    const ns = state.get('namespaces', undefined, name);
    if (!ns) throw notFound(KubernetesApiState.type('namespaces'), name);
    return ns;
  }

  function serve(
    method: string,
    { type, namespace, name }: Route,
    query: URLSearchParams,
    record: RecordedRequest,
  ): { status: number; body: unknown } {
    if (name === undefined) {
      if (method === 'GET') return { status: 200, body: list(type, namespace, query) };
      if (method === 'POST' && (namespace !== undefined || !type.namespaced)) {
        return { status: 201, body: create(type, namespace, record) };
      }
      throw new StatusError(
        405,
        'MethodNotAllowed',
        'the server does not allow this method on the requested resource',
      );
    }
    const existing = state.get(type.plural, namespace, name);
    if (method === 'GET') {
      if (type.plural === 'restores' && namespace !== undefined) state.pollRestore(namespace, name);
      const current = state.get(type.plural, namespace, name);
      if (!current) throw notFound(type, name);
      return {
        status: 200,
        body: type.namespaced && !type.custom ? state.readWorkload(type, current) : current,
      };
    }
    if (!existing) throw notFound(type, name);
    if (method === 'DELETE') {
      const removed = state.remove(type, namespace, name) as KubeObject;
      if (type.plural === 'namespaces') {
        removed.metadata.deletionTimestamp = now();
        removed.status = { phase: 'Terminating' };
      }
      return { status: 200, body: removed };
    }
    if (method === 'PATCH') {
      const media = mediaType(record.contentType);
      if (media !== 'application/merge-patch+json') {
        throw new StatusError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json`,
        );
      }
      const patch = record.body as { metadata?: { resourceVersion?: string; name?: string } } | undefined;
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw badRequest('the merge patch must be a JSON object');
      }
      const wanted = patch.metadata?.resourceVersion;
      if (wanted !== undefined && wanted !== existing.metadata.resourceVersion) {
        throw new StatusError(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          { name, ...(type.group ? { group: type.group } : {}), kind: type.plural },
        );
      }
      if (patch.metadata?.name !== undefined && patch.metadata.name !== name) {
        throw invalid(type, name, 'metadata.name', 'field is immutable');
      }
      const merged = mergePatch(existing, patch) as KubeObject;
      merged.metadata.uid = existing.metadata.uid;
      merged.metadata.creationTimestamp = existing.metadata.creationTimestamp;
      if (JSON.stringify(merged.spec) !== JSON.stringify(existing.spec) && existing.metadata.generation) {
        merged.metadata.generation = existing.metadata.generation + 1;
      }
      return { status: 200, body: state.replace(type, merged) };
    }
    throw new StatusError(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  }

  function list(type: ResourceType, namespace: string | undefined, query: URLSearchParams) {
    let requirements: Requirement[];
    try {
      requirements = parseLabelSelector(query.get('labelSelector') ?? '');
    } catch (error) {
      throw badRequest(`unable to parse requirement: ${(error as Error).message}`);
    }
    const fields = (query.get('fieldSelector') ?? '')
      .split(',')
      .filter((part) => part.trim() !== '')
      .map((part) => {
        const match = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
        if (!match) throw badRequest(`field label not supported: ${part.split(/[!=]/)[0]}`);
        return {
          field: match[1] as 'metadata.name' | 'metadata.namespace',
          not: match[2] === '!=',
          value: match[3],
        };
      });
    let items = state
      .list(type.plural, namespace)
      .filter((item) => requirements.every((requirement) => requirement(item.metadata.labels ?? {})))
      .filter((item) =>
        fields.every(({ field, not, value }) => {
          const actual = field === 'metadata.name' ? item.metadata.name : item.metadata.namespace;
          return (actual === value) !== not;
        }),
      );
    if (type.namespaced && !type.custom) items = items.map((item) => state.readWorkload(type, item));
    const offset = Number(
      query.get('continue') ? Buffer.from(query.get('continue') ?? '', 'base64url').toString() : 0,
    );
    const limit = Number(query.get('limit') ?? 0);
    const page = limit > 0 ? items.slice(offset, offset + limit) : items.slice(offset);
    const more = limit > 0 && offset + limit < items.length;
    return {
      apiVersion: apiVersionOf(type),
      kind: `${type.kind}List`,
      metadata: {
        resourceVersion: state.resourceVersion,
        ...(more ? { continue: Buffer.from(String(offset + limit)).toString('base64url') } : {}),
        ...(more ? { remainingItemCount: items.length - offset - limit } : {}),
      },
      items: page.map((item) => {
        if (type.custom) return item;
        const { apiVersion: _apiVersion, kind: _kind, ...rest } = item;
        return rest;
      }),
    };
  }

  function create(type: ResourceType, namespace: string | undefined, record: RecordedRequest): KubeObject {
    const media = mediaType(record.contentType);
    if (media !== 'application/json') {
      throw new StatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
      );
    }
    const body = record.body as Partial<KubeObject> | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw badRequest('the body must be an object');
    if (body.apiVersion !== apiVersionOf(type) || body.kind !== type.kind) {
      throw badRequest(
        `the API version in the data (${String(body.apiVersion)}) and kind (${String(body.kind)}) do not match the expected ${apiVersionOf(type)} ${type.kind}`,
      );
    }
    const metadata = { ...(body.metadata ?? {}) } as ObjectMeta;
    if (!metadata.name && metadata.generateName) {
      metadata.name = `${metadata.generateName}${randomBytes(4).toString('hex').slice(0, 5)}`;
    }
    if (!metadata.name)
      throw invalid(type, '', 'metadata.name', 'Required value: name or generateName is required');
    const [pattern, max] = type.plural === 'namespaces' ? [DNS_LABEL, 63] : [DNS_SUBDOMAIN, 253];
    if (!pattern.test(metadata.name) || metadata.name.length > max) {
      throw invalid(
        type,
        metadata.name,
        'metadata.name',
        `Invalid value: "${metadata.name}": a lowercase RFC 1123 ${type.plural === 'namespaces' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most ${max} characters)`,
      );
    }
    if (type.namespaced) {
      if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      metadata.namespace = namespace;
      requireNamespace(namespace as string);
    }
    if (state.get(type.plural, namespace, metadata.name)) {
      throw new StatusError(409, 'AlreadyExists', `${qualified(type)} "${metadata.name}" already exists`, {
        name: metadata.name,
        ...(type.group ? { group: type.group } : {}),
        kind: type.plural,
      });
    }
    const object = { ...body, metadata } as KubeObject;
    // The API server ignores status on create for types with a status subresource (all but Velero's CRDs).
    if (!type.custom) delete object.status;
    const stored = state.insert(type, object);
    if (type.plural === 'restores') state.startRestore(stored);
    return stored;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    token,
    state,
    requests,
    kubeConfig(asToken = token) {
      const config = new KubeConfig();
      config.loadFromOptions({
        clusters: [{ name: 'stand-in', server: url, skipTLSVerify: true }],
        users: [{ name: 'drill', token: asToken }],
        contexts: [{ name: 'stand-in', cluster: 'stand-in', user: 'drill', namespace: 'default' }],
        currentContext: 'stand-in',
      });
      return config;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
