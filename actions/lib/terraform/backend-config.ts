/**
 * The `backend-config` input (`key=value` lines) as a backend configuration file for `terraform init
 * -backend-config=FILE`. A file, not `-backend-config=key=value` arguments, keeps connection strings and
 * passwords out of the process list. Values that hold credentials are reported so they can be masked.
 */
import { splitConnectionPassword } from '../postgres-server.js';

/** Keys whose whole value is a credential (pg's conn_str, s3's secret_key, azurerm's access_key, ...). */
const SECRET_KEY = /(conn_str|password|secret|token|access_key|sas|credentials|private_key)/i;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** An HCL quoted string: escapes, and `${` / `%{` doubled so they are not read as templates. */
export function hclString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
  return `"${escaped}"`;
}

export interface BackendConfig {
  /** The file's text: one `key = "value"` per line. */
  text: string;
  /** Values to mask: credentials, and passwords inside connection strings. */
  secrets: string[];
}

/** Returns the invalid keys, if any. */
export function invalidBackendKeys(values: Record<string, string>): string[] {
  return Object.keys(values).filter((key) => !KEY.test(key));
}

export function backendConfigFile(values: Record<string, string>): BackendConfig {
  const secrets: string[] = [];
  const lines: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    lines.push(`${key} = ${hclString(value)}`);
    if (SECRET_KEY.test(key)) secrets.push(value);
    const { password } = splitConnectionPassword(value);
    if (password) secrets.push(password);
  }
  return { text: `${lines.join('\n')}\n`, secrets };
}
