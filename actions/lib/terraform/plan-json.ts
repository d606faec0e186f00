/**
 * Reads the machine-readable plan (`terraform show -json <planfile>`): every resource change classified,
 * counted and redacted. Nothing here reads Terraform's human text. Only the fields the JSON output format
 * documents are used; unknown fields are ignored, and an action list this code does not know is kept as
 * `other` (counted and shown) instead of failing, so a newer Terraform cannot break the parser silently.
 */
import { ActionError } from '../errors.js';
import { SecretMasker } from '../secrets.js';
import { maskStrings, redactValue, sensitiveValues } from './redact.js';

export type ChangeKind = 'create' | 'update' | 'replace' | 'destroy' | 'forget' | 'read' | 'no-op' | 'other';

export interface ResourceChange {
  address: string;
  /** Set when a `moved` block (or a refactoring) moves the resource from this address. */
  previousAddress?: string;
  /** `module.a.module.b`, or '' for the root module. */
  moduleAddress: string;
  mode: string;
  type: string;
  actions: string[];
  kind: ChangeKind;
  /** The import id, when the resource is imported by this plan. */
  importId?: string;
  importing: boolean;
  /** Terraform's `action_reason`, for example `replace_because_cannot_update`. */
  actionReason?: string;
  /** Attribute paths that force the replacement. */
  replacePaths: Array<Array<string | number>>;
  /** Values with sensitive parts replaced and unknown parts marked. */
  before: unknown;
  after: unknown;
}

export interface OutputChange {
  name: string;
  actions: string[];
  kind: ChangeKind;
  sensitive: boolean;
  before: unknown;
  after: unknown;
}

export const COUNTED_KINDS = ['create', 'update', 'replace', 'destroy', 'import', 'move', 'forget'] as const;
export type CountedKind = (typeof COUNTED_KINDS)[number];
export type Counts = Record<CountedKind | 'read' | 'other', number>;

export interface Plan {
  formatVersion: string;
  terraformVersion: string;
  /** Resource changes that do something: everything but plain no-ops (moves and imports count). */
  changes: ResourceChange[];
  /** Changes made outside Terraform, found while refreshing (`resource_drift`). */
  drift: ResourceChange[];
  /** Output changes other than no-op. */
  outputs: OutputChange[];
  counts: Counts;
  /** Whether applying the plan would change anything (resources or outputs). */
  hasChanges: boolean;
  /** Terraform could not finish the plan (`errored`). */
  errored: boolean;
  /** Every sensitive value in the plan (variables, resources, outputs), for masking. */
  secrets: Set<string>;
}

/** The kind of change an action list means (Terraform's JSON output format, `change.actions`). */
export function kindOf(actions: readonly string[]): ChangeKind {
  const key = actions.join(',');
  switch (key) {
    case 'no-op':
    case 'create':
    case 'read':
    case 'update':
    case 'forget':
      return key;
    case 'delete':
      return 'destroy';
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    default:
      return 'other';
  }
}

/** Whether the change removes an existing object (destroy or replace, or an unknown list with a delete). */
export function isDestructive(change: Pick<ResourceChange, 'kind' | 'actions'>): boolean {
  return (
    change.kind === 'destroy' ||
    change.kind === 'replace' ||
    (change.kind === 'other' && change.actions.includes('delete'))
  );
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function fail(problem: string): never {
  throw new ActionError(
    'unsupported-plan',
    `The plan JSON ${problem}; is this the output of 'terraform show -json'?`,
  );
}

function actionsOf(change: Json, where: string): string[] {
  const actions = change.actions;
  if (!Array.isArray(actions) || actions.some((a) => typeof a !== 'string') || actions.length === 0) {
    fail(`has no action list at ${where}`);
  }
  return actions as string[];
}

function resourceChange(raw: unknown, where: string, secrets: Set<string>): ResourceChange {
  if (!isObject(raw) || !isObject(raw.change) || typeof raw.address !== 'string') {
    fail(`has a malformed entry at ${where}`);
  }
  const change = raw.change;
  const actions = actionsOf(change, `${where} (${raw.address})`);
  sensitiveValues(change.before, change.before_sensitive, secrets);
  sensitiveValues(change.after, change.after_sensitive, secrets);
  const importing = isObject(change.importing);
  const importId = importing ? text((change.importing as Json).id) : undefined;
  const previousAddress = text(raw.previous_address);
  const actionReason = text(raw.action_reason);
  return {
    address: raw.address,
    ...(previousAddress ? { previousAddress } : {}),
    moduleAddress: text(raw.module_address) ?? '',
    mode: text(raw.mode) ?? 'managed',
    type: text(raw.type) ?? '',
    actions,
    kind: kindOf(actions),
    importing,
    ...(importId !== undefined ? { importId } : {}),
    ...(actionReason ? { actionReason } : {}),
    replacePaths: Array.isArray(change.replace_paths)
      ? (change.replace_paths.filter(Array.isArray) as Array<Array<string | number>>)
      : [],
    before: redactValue(change.before, change.before_sensitive),
    after: redactValue(change.after, change.after_sensitive, change.after_unknown),
  };
}

function emptyCounts(): Counts {
  return { create: 0, update: 0, replace: 0, destroy: 0, import: 0, move: 0, forget: 0, read: 0, other: 0 };
}

export function countChanges(changes: readonly ResourceChange[]): Counts {
  const counts = emptyCounts();
  for (const change of changes) {
    if (change.importing) counts.import++;
    if (change.previousAddress && change.previousAddress !== change.address) counts.move++;
    if (change.kind !== 'no-op') counts[change.kind]++;
  }
  return counts;
}

/** Sensitive input variables' values, as declared in the root module's configuration. */
function sensitiveVariables(plan: Json, secrets: Set<string>) {
  const declared =
    isObject(plan.configuration) && isObject(plan.configuration.root_module)
      ? plan.configuration.root_module.variables
      : undefined;
  if (!isObject(plan.variables) || !isObject(declared)) return;
  for (const [name, variable] of Object.entries(plan.variables)) {
    const declaration = declared[name];
    if (isObject(declaration) && declaration.sensitive === true && isObject(variable)) {
      sensitiveValues(variable.value, true, secrets);
    }
  }
}

/** Parses `terraform show -json <planfile>` output (text or already parsed). */
export function parsePlan(input: string | unknown): Plan {
  let plan: unknown = input;
  if (typeof input === 'string') {
    try {
      plan = JSON.parse(input);
    } catch (error) {
      fail(`is not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (!isObject(plan)) fail('is not an object');
  const formatVersion = text(plan.format_version);
  if (!formatVersion) fail('has no format_version');
  if (formatVersion.split('.')[0] !== '1') {
    throw new ActionError(
      'unsupported-plan',
      `The plan JSON has format_version ${formatVersion}; this action reads format 1.x (Terraform 1.x). ` +
        'Pin a Terraform 1.x version in the workflow, or update spark-infra.',
    );
  }
  const secrets = new Set<string>();
  sensitiveVariables(plan, secrets);
  const list = (key: string) => (Array.isArray(plan[key]) ? (plan[key] as unknown[]) : []);
  const all = list('resource_changes').map((raw, i) =>
    resourceChange(raw, `resource_changes[${i}]`, secrets),
  );
  const changes = all.filter(
    (c) => c.kind !== 'no-op' || c.importing || (c.previousAddress && c.previousAddress !== c.address),
  );
  const drift = list('resource_drift')
    .map((raw, i) => resourceChange(raw, `resource_drift[${i}]`, secrets))
    .filter((c) => c.kind !== 'no-op');
  const outputs: OutputChange[] = [];
  for (const [name, raw] of Object.entries(isObject(plan.output_changes) ? plan.output_changes : {})) {
    if (!isObject(raw)) continue;
    const actions = actionsOf(raw, `output_changes.${name}`);
    sensitiveValues(raw.before, raw.before_sensitive, secrets);
    sensitiveValues(raw.after, raw.after_sensitive, secrets);
    const kind = kindOf(actions);
    if (kind === 'no-op') continue;
    outputs.push({
      name,
      actions,
      kind,
      sensitive: raw.before_sensitive === true || raw.after_sensitive === true,
      before: redactValue(raw.before, raw.before_sensitive),
      after: redactValue(raw.after, raw.after_sensitive, raw.after_unknown),
    });
  }
  outputs.sort((a, b) => a.name.localeCompare(b.name));
  // Values derived from a sensitive one are not always marked: mask the known ones wherever they occur.
  const masker = new SecretMasker(secrets);
  const mask = (text: string) => masker.mask(text);
  for (const change of [...changes, ...drift, ...outputs]) {
    change.before = maskStrings(change.before, mask);
    change.after = maskStrings(change.after, mask);
  }
  const counts = countChanges(changes);
  return {
    formatVersion,
    terraformVersion: text(plan.terraform_version) ?? 'unknown',
    changes,
    drift,
    outputs,
    counts,
    hasChanges: changes.some((c) => c.kind !== 'read') || outputs.length > 0,
    errored: plan.errored === true,
    secrets,
  };
}

/** The address inside its module: `module.vm["a"].x.y` → `x.y`. */
export function localAddress(change: Pick<ResourceChange, 'address' | 'moduleAddress'>): string {
  return change.moduleAddress && change.address.startsWith(`${change.moduleAddress}.`)
    ? change.address.slice(change.moduleAddress.length + 1)
    : change.address;
}

/** The top-level attributes whose (redacted) values differ between before and after. */
export function changedAttributes(change: Pick<ResourceChange, 'before' | 'after'>): string[] {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  const before = isMap(change.before) ? change.before : {};
  const after = isMap(change.after) ? change.after : {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

/** `[["disk", 0, "size"]]` → `disk[0].size`. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  return path
    .map((step, i) => (typeof step === 'number' ? `[${step}]` : i === 0 ? step : `.${step}`))
    .join('');
}
