/**
 * Redaction of Terraform plan values. `terraform show -json` gives each value beside a mirror structure that
 * marks which parts are sensitive (`before_sensitive`, `after_sensitive`) or not yet known (`after_unknown`):
 * `true` for the whole value, or an object/array of the same shape. Sensitive parts become a placeholder, so
 * what is rendered, fingerprinted or stored never holds them; their values are collected for masking.
 */

export const SENSITIVE = '(sensitive value)';
export const UNKNOWN = '(known after apply)';

type Marks = unknown;

function child(marks: Marks, key: string | number): Marks {
  if (marks === true) return true;
  if (marks === null || typeof marks !== 'object') return undefined;
  return (marks as Record<string | number, unknown>)[key];
}

/**
 * `value` with every part marked in `sensitive` replaced by {@link SENSITIVE} and every part marked in
 * `unknown` by {@link UNKNOWN} (also parts that `value` does not have yet, as for a new resource's id).
 */
export function redactValue(value: unknown, sensitive: Marks, unknown: Marks = undefined): unknown {
  if (sensitive === true) return SENSITIVE;
  if (unknown === true) return UNKNOWN;
  if (Array.isArray(value)) {
    const length = Array.isArray(unknown) ? Math.max(value.length, unknown.length) : value.length;
    return Array.from({ length }, (_, i) => redactValue(value[i], child(sensitive, i), child(unknown, i)));
  }
  if (value !== null && typeof value === 'object') {
    const keys = new Set(Object.keys(value));
    if (unknown !== null && typeof unknown === 'object' && !Array.isArray(unknown)) {
      for (const [key, mark] of Object.entries(unknown)) if (mark === true) keys.add(key);
    }
    const result: Record<string, unknown> = {};
    for (const key of keys) {
      result[key] = redactValue(
        (value as Record<string, unknown>)[key],
        child(sensitive, key),
        child(unknown, key),
      );
    }
    return result;
  }
  if (value === undefined && unknown !== undefined && typeof unknown === 'object') return UNKNOWN;
  return value;
}

/** Every string under a sensitive mark (numbers and booleans are too common to mask), so it can be masked wherever it might still show up. */
export function sensitiveValues(
  value: unknown,
  sensitive: Marks,
  found: Set<string> = new Set(),
): Set<string> {
  if (sensitive === undefined || sensitive === false || sensitive === null) return found;
  if (sensitive === true) {
    collectScalars(value, found);
    return found;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      sensitiveValues(item, child(sensitive, i), found);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) sensitiveValues(item, child(sensitive, key), found);
  }
  return found;
}

function collectScalars(value: unknown, found: Set<string>) {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) for (const item of value) collectScalars(item, found);
  else if (typeof value === 'object') for (const item of Object.values(value)) collectScalars(item, found);
  else if (typeof value === 'string' && value !== '') found.add(value);
}

/**
 * `value` with `mask` applied to every string in it. Terraform does not carry every sensitive mark
 * everywhere (an attribute computed from a sensitive one, such as terraform_data's `output`, is stored
 * unmarked in the state), so after redacting by marks, the known sensitive values are masked wherever else
 * they occur.
 */
export function maskStrings(value: unknown, mask: (text: string) => string): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((item) => maskStrings(item, mask));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskStrings(v, mask)]));
  }
  return value;
}
