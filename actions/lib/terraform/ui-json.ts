/**
 * Terraform's machine-readable UI (`terraform plan -json`, `terraform apply -json`): one JSON message per
 * line. This reads the diagnostics (errors and warnings), the apply hooks (which resources were applied and
 * which failed) and a human line for the log from each message, so the log shows progress without parsing
 * Terraform's text.
 */

export interface Diagnostic {
  severity: 'error' | 'warning';
  summary: string;
  detail: string;
  address?: string;
}

export interface ApplyRecord {
  address: string;
  action: string;
}

export interface UiProgress {
  diagnostics: Diagnostic[];
  /** Resources whose apply finished. */
  applied: ApplyRecord[];
  /** Resources whose apply failed. */
  failed: ApplyRecord[];
  /** Resources whose apply started (and may not have finished). */
  started: Set<string>;
  /** The last message, for the status line while waiting. */
  last: string;
  /** Lines that were not JSON (Terraform prints a few, for example on a crash). */
  other: string[];
}

export function newProgress(): UiProgress {
  return { diagnostics: [], applied: [], failed: [], started: new Set(), last: '', other: [] };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : '');

function hookAddress(hook: unknown): string {
  return isObject(hook) && isObject(hook.resource) ? str(hook.resource.addr) : '';
}

/**
 * Takes one line of output into `progress`; returns the text to log for it, or undefined for messages too
 * chatty to log (apply_progress, refresh, version).
 */
export function readUiLine(line: string, progress: UiProgress): string | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  let message: unknown;
  try {
    message = JSON.parse(trimmed);
  } catch {
    progress.other.push(line);
    return line;
  }
  if (!isObject(message)) return line;
  const type = str(message.type);
  const text = str(message['@message']);
  switch (type) {
    case 'diagnostic': {
      const d = isObject(message.diagnostic) ? message.diagnostic : {};
      const severity = d.severity === 'error' ? 'error' : 'warning';
      const address = str(d.address);
      progress.diagnostics.push({
        severity,
        summary: str(d.summary),
        detail: str(d.detail),
        ...(address ? { address } : {}),
      });
      const detail = str(d.detail);
      return `${severity === 'error' ? 'Error' : 'Warning'}: ${str(d.summary)}${detail ? `\n${detail}` : ''}`;
    }
    case 'apply_start':
      progress.started.add(hookAddress(message.hook));
      break;
    case 'apply_complete':
      progress.applied.push({
        address: hookAddress(message.hook),
        action: str((message.hook as Json)?.action),
      });
      break;
    case 'apply_errored':
      progress.failed.push({
        address: hookAddress(message.hook),
        action: str((message.hook as Json)?.action),
      });
      break;
    case 'version':
    case 'apply_progress':
    case 'refresh_start':
    case 'refresh_complete':
    case 'log':
      if (text) progress.last = text;
      return undefined;
    default:
      break;
  }
  if (text) progress.last = text;
  return text || undefined;
}

export function errors(progress: UiProgress): Diagnostic[] {
  return progress.diagnostics.filter((d) => d.severity === 'error');
}
