/**
 * Runs `environments/schema.json` (JSON Schema 2020-12) and turns each ajv error into a `Problem` a person
 * can act on: a path like `hosts[3].memory_gb`, what is wrong, and what is allowed.
 *
 * The schema is imported, so bundled actions carry it inside dist/index.js. Format keywords are avoided on
 * purpose: string shapes are `pattern`s with an `x-expected` annotation that names the expected form in words.
 */
import type { ErrorObject } from 'ajv';
import AjvModule from 'ajv/dist/2020.js';
import schema from '../../../environments/schema.json' with { type: 'json' };
import type { Problem } from './types.js';

export { schema as environmentSchema };

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };
let ajv: InstanceType<typeof AjvModule.default> | undefined;
const compiled = new Map<string, Validator>();

/** The environment schema, or (for a `dr:`-only file such as dr-drill's `config`) a file with just `dr:`. */
function validator(which: 'environment' | 'dr-only'): Validator {
  if (!ajv) {
    ajv = new AjvModule.default({ allErrors: true, verbose: true, strict: true });
    ajv.addKeyword({ keyword: 'x-expected', schemaType: 'string' });
    ajv.addSchema(schema);
  }
  let found = compiled.get(which);
  if (!found) {
    found =
      which === 'environment'
        ? ajv.compile(schema)
        : ajv.compile({
            type: 'object',
            additionalProperties: false,
            required: ['dr'],
            properties: { dr: { $ref: `${schema.$id}#/$defs/dr` } },
          });
    compiled.set(which, found);
  }
  return found;
}

function problemsOf(validate: Validator, data: unknown): Problem[] {
  if (validate(data)) return [];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const problem = describeError(error, data);
    if (!problem) continue;
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

/** Schema problems of a parsed environment file; empty when it matches. Every problem is an error. */
export function checkSchema(data: unknown): Problem[] {
  return problemsOf(validator('environment'), data);
}

/** Schema problems of a file that holds only a `dr:` section, shaped as in an environment file. */
export function checkDrSchema(data: unknown): Problem[] {
  return problemsOf(validator('dr-only'), data);
}

// ---------------------------------------------------------------------------------------------------------

type Segment = string | number;

/** `['hosts', 3, 'memory_gb']` -> `hosts[3].memory_gb`; keys that are not plain words are quoted. */
export function formatPath(segments: readonly Segment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(root)' : out;
}

/** A JSON pointer into `data` as path segments; array indexes become numbers. */
function pointerSegments(pointer: string, data: unknown): Segment[] {
  if (pointer === '') return [];
  const segments: Segment[] = [];
  let node = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      segments.push(index);
      node = node[index];
    } else {
      segments.push(key);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

function describeError(error: ErrorObject, root: unknown): Problem | undefined {
  const at = pointerSegments(error.instancePath, root);
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const params = error.params as Record<string, unknown>;
  const problem = (segments: Segment[], message: string): Problem => ({
    path: formatPath(segments),
    severity: 'error',
    message,
  });

  // A key of a map that does not have the allowed form (reported by `propertyNames`).
  if (error.propertyName !== undefined) {
    const expected = parent['x-expected'];
    const rule = typeof expected === 'string' ? `keys here must be ${expected}` : error.message;
    return problem([...at, error.propertyName], `key '${error.propertyName}' is not allowed: ${rule}`);
  }

  switch (error.keyword) {
    case 'if':
      // The failing branch's own errors say what is wrong; "must match then schema" adds nothing.
      return undefined;
    case 'propertyNames':
      return undefined; // the nested error above says which key and why
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parent.properties ?? {}) as Record<string, unknown>);
      const guess = didYouMean(key, allowed);
      const hint = guess ? `; did you mean '${guess}'?` : '.';
      return problem([...at, key], `unknown key '${key}'${hint} Allowed keys: ${allowed.join(', ')}`);
    }
    case 'required':
      return problem([...at, String(params.missingProperty)], 'is required but missing');
    case 'type': {
      const unquoted = params.type === 'string' && ['number', 'boolean'].includes(typeof error.data);
      const hint = unquoted ? '; put it in quotes, since YAML reads it as a number or boolean' : '';
      // A mapping or list where a patterned string belongs: name the form, not just "a string".
      const expected = parent['x-expected'];
      const nested = typeof error.data === 'object' && error.data !== null;
      const form = nested && typeof expected === 'string' ? ` (${expected})` : '';
      return problem(
        at,
        `must be ${typeWords(String(params.type))}${form}, got ${describeValue(error.data)}${hint}`,
      );
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const guess = typeof error.data === 'string' ? didYouMean(error.data, allowed) : undefined;
      const hint = guess ? `; did you mean '${guess}'?` : ';';
      return problem(at, `${describeValue(error.data)} is not allowed${hint} allowed: ${allowed.join(', ')}`);
    }
    case 'pattern': {
      const expected = parent['x-expected'];
      const wanted = typeof expected === 'string' ? expected : `text matching ${String(params.pattern)}`;
      return problem(at, `must be ${wanted}, got ${describeValue(error.data)}`);
    }
    case 'minimum':
      return problem(at, `must be at least ${params.limit}, got ${describeValue(error.data)}`);
    case 'maximum':
      return problem(at, `must be at most ${params.limit}, got ${describeValue(error.data)}`);
    case 'exclusiveMinimum':
      return problem(at, `must be more than ${params.limit}, got ${describeValue(error.data)}`);
    case 'exclusiveMaximum':
      return problem(at, `must be less than ${params.limit}, got ${describeValue(error.data)}`);
    case 'minItems':
      return problem(
        at,
        `must have at least ${params.limit} ${plural(Number(params.limit), 'entry', 'entries')}`,
      );
    case 'minProperties':
      return problem(at, `must have at least ${params.limit} ${plural(Number(params.limit), 'key', 'keys')}`);
    case 'minLength':
      return problem(at, 'must not be empty');
    case 'uniqueItems': {
      const list = Array.isArray(error.data) ? error.data : [];
      const value = list[Number(params.j)];
      return problem(
        at,
        `lists ${describeValue(value)} twice (entries ${params.j} and ${params.i}); each entry may appear once`,
      );
    }
    default:
      return problem(at, error.message ?? `fails the schema rule '${error.keyword}'`);
  }
}

function typeWords(type: string): string {
  return type
    .split(',')
    .map(
      (t) =>
        ({
          object: 'a mapping (key: value)',
          array: 'a list',
          string: 'a string',
          integer: 'a whole number',
          number: 'a number',
          boolean: 'true or false',
          null: 'null',
        })[t] ?? t,
    )
    .join(' or ');
}

/** A value as it would read in the YAML file. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/** The candidate closest to `word` by edit distance, when it is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  if (bestDistance <= limit) return best;
  // An abbreviation: `prod` for `production`, when only one candidate starts that way.
  const prefixed = candidates.filter(
    (c) => word.length >= 3 && c.toLowerCase().startsWith(word.toLowerCase()),
  );
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Damerau-Levenshtein (optimal string alignment): a swapped pair of letters counts as one edit. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      d[i * cols + j] = value;
    }
  }
  return at(a.length, b.length);
}
