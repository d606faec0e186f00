/**
 * Hidden markers that let an action find its own PR comment again: `<!-- spark:<action>:<key> {json} -->`.
 * GitHub renders nothing for an HTML comment, so the JSON rides along invisibly (for example the reviewed
 * plan's fingerprint, read back by apply-infra).
 */
import { ActionError } from '../errors.js';

// The action has no ':' (the first ':' after `spark:` ends it); the key may hold more, as in
// `production:terraform/proxmox`. Neither has whitespace (it ends the key) or '--' (not allowed in an HTML comment).
const NAMES = { action: /^[A-Za-z0-9][A-Za-z0-9._/-]*$/, key: /^[A-Za-z0-9][A-Za-z0-9._/:-]*$/ };

function checkName(kind: 'action' | 'key', value: string) {
  if (!NAMES[kind].test(value) || value.includes('--')) {
    const colon = kind === 'key' ? "':', " : '';
    throw new ActionError(
      'internal',
      `Marker ${kind} '${value}' may only contain letters, digits, ${colon}'.', '_', '/' and single '-', and must ` +
        'start with a letter or digit.',
    );
  }
}

/** `<!-- spark:<action>:<key>`: the start every marker of this action and key shares. */
export function markerPrefix(action: string, key: string): string {
  checkName('action', action);
  checkName('key', key);
  return `<!-- spark:${action}:${key}`;
}

/**
 * JSON that is safe inside an HTML comment. `--`, `<` and `>` can only occur inside JSON strings, where they
 * are replaced by their `\u` escapes; JSON.parse gives back the same value.
 */
function escapeJson(json: string): string {
  return json.replace(/--/g, '\\u002d\\u002d').replace(/</g, '\\u003c').replace(/>/g, '\\u003e');
}

/** The one-line marker for `data` (any JSON value). */
export function formatMarker(action: string, key: string, data: unknown = {}): string {
  const json = JSON.stringify(data);
  if (json === undefined) throw new ActionError('internal', `Marker data for ${action}:${key} is not JSON.`);
  return `${markerPrefix(action, key)} ${escapeJson(json)} -->`;
}

/** The JSON text of every marker of this action and key in `body` ('' when a marker has none), in order. */
function markerJson(body: string, action: string, key: string): string[] {
  const prefix = markerPrefix(action, key);
  const found: string[] = [];
  for (let index = body.indexOf(prefix); index >= 0; index = body.indexOf(prefix, index + 1)) {
    // The key must end here: whitespace or the comment's end follows. `prod` must not match `production`.
    const tail = /^(?:\s+([\s\S]*?))?\s*-->/.exec(body.slice(index + prefix.length));
    if (tail) found.push(tail[1] ?? '');
  }
  return found;
}

/** Whether `body` carries a marker of this action and key (whatever its JSON). */
export function hasMarker(body: string, action: string, key: string): boolean {
  return markerJson(body, action, key).length > 0;
}

/**
 * The data of the first marker of this action and key in `body` that holds valid JSON, or undefined. Other
 * markers, and markers of keys that merely start the same way, are ignored. The type is the caller's claim:
 * validate what you read.
 */
export function parseMarker<T = unknown>(body: string, action: string, key: string): T | undefined {
  for (const json of markerJson(body, action, key)) {
    if (json === '') continue;
    try {
      return JSON.parse(json) as T;
    } catch {
      // A damaged marker; look for another.
    }
  }
  return undefined;
}
