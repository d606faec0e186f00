/**
 * Reading environments: `loadEnvironment` for the actions (valid or an ActionError, with defaults applied and
 * durations in seconds), `validateEnvironmentFile` for the `npm run validate` CLI (every problem, no throw).
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseDurationMs } from '../duration.js';
import { ActionError } from '../errors.js';
import { checkSchema, didYouMean } from './schema.js';
import { checkSemantics, hypervisorOf } from './semantic-checks.js';
import {
  type Backup,
  DEFAULT_CPU_OVERCOMMIT,
  DEFAULT_RESERVED_MEMORY_GB,
  type Environment,
  type EnvironmentFile,
  type Problem,
} from './types.js';

export const ENVIRONMENTS_DIR = 'environments';
const NAME = /^[a-z][a-z0-9-]*$/;

export interface LoadOptions {
  /** The repository root, which holds `environments/`. */
  root: string;
  /** Called with each warning of a valid environment (errors throw). */
  onWarning?: (problem: Problem) => void;
}

export interface FileReport {
  /** The path as given. */
  file: string;
  problems: Problem[];
}

export interface TextReport {
  problems: Problem[];
  /** Set when the text parsed and matched the schema (it may still have semantic problems). */
  environment?: EnvironmentFile;
}

/** Names of the environments under `<root>/environments/` (files `<name>.yaml`), sorted. */
export async function listEnvironments(root: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(join(root, ENVIRONMENTS_DIR));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * Reads, validates and returns `<root>/environments/<name>.yaml`. Throws `ActionError('bad-input')` for an
 * unknown name (listing the available ones) and for an invalid file (listing every error).
 */
export async function loadEnvironment(name: string, options: LoadOptions): Promise<Environment> {
  const available = await listEnvironments(options.root);
  const allowed = available.length > 0 ? available.join(', ') : 'none (no environments/*.yaml)';
  if (!NAME.test(name)) {
    throw new ActionError(
      'bad-input',
      `'${name}' is not an environment name (lower-case letters, digits and -). Available: ${allowed}.`,
    );
  }
  const relative = `${ENVIRONMENTS_DIR}/${name}.yaml`;
  if (!available.includes(name)) {
    const guess = didYouMean(name, available);
    const hint = guess ? ` Did you mean '${guess}'?` : '';
    throw new ActionError(
      'bad-input',
      `Unknown environment '${name}': there is no ${relative}.${hint} Available: ${allowed}.`,
    );
  }
  const text = await readFile(join(options.root, relative), 'utf8');
  const { problems, environment } = validateEnvironmentText(text, name);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !environment) {
    const lines = errors.map((p) => `${p.path}: ${p.message}`);
    const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
    throw new ActionError(
      'bad-input',
      `Environment '${name}' (${relative}) is not valid, ${count}:\n  ${lines.join('\n  ')}\n` +
        'Fix the file; `npm run validate` checks it locally.',
      { details: lines },
    );
  }
  for (const problem of problems) if (problem.severity === 'warning') options.onWarning?.(problem);
  return resolveEnvironment(environment);
}

/** Every problem of one environment file. The file's name (without .yaml) is the expected `name`. */
export async function validateEnvironmentFile(path: string): Promise<FileReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ActionError('bad-input', `Environment file '${path}' does not exist.`);
    if (code === 'EISDIR')
      throw new ActionError('bad-input', `'${path}' is a directory, not an environment file.`);
    throw error;
  }
  const expectedName = basename(path, extname(path));
  return { file: path, problems: validateEnvironmentText(text, expectedName).problems };
}

/**
 * Parses and checks environment YAML: syntax first, then the schema, then (only on a schema-valid file, since
 * the rules rely on its shape) the semantic rules. Pure.
 */
export function validateEnvironmentText(text: string, expectedName?: string): TextReport {
  const doc = parseDocument(text, { uniqueKeys: true });
  const syntax: Problem[] = [
    ...doc.errors.map((e): Problem => ({ path: '(yaml)', severity: 'error', message: firstLine(e.message) })),
    ...doc.warnings.map(
      (e): Problem => ({ path: '(yaml)', severity: 'warning', message: firstLine(e.message) }),
    ),
  ];
  if (doc.errors.length > 0) return { problems: syntax };
  const data: unknown = doc.toJS();
  const schemaProblems = checkSchema(data);
  if (schemaProblems.length > 0) return { problems: [...syntax, ...schemaProblems] };
  const environment = data as EnvironmentFile;
  const options = expectedName === undefined ? {} : { expectedName };
  return { problems: [...syntax, ...checkSemantics(environment, options)], environment };
}

/** A schema- and rule-valid file as the loaded model: defaults filled in, durations also in seconds. */
export function resolveEnvironment(file: EnvironmentFile): Environment {
  const backups: Record<string, Backup> = {};
  for (const [name, backup] of Object.entries(file.backups)) {
    backups[name] = {
      ...backup,
      schedule_seconds: backup.schedule === 'on-change' ? null : seconds(backup.schedule),
      retention_seconds: backup.retention === 'unlimited' ? null : seconds(backup.retention),
    };
  }
  return {
    ...file,
    hypervisors: file.hypervisors.map((h) => ({
      ...h,
      node: h.node ?? h.name,
      reserved_memory_gb: h.reserved_memory_gb ?? DEFAULT_RESERVED_MEMORY_GB,
      cpu_overcommit: h.cpu_overcommit ?? DEFAULT_CPU_OVERCOMMIT,
      bridge: h.bridge ?? file.network.bridge,
    })),
    hosts: file.hosts.map((h) => ({
      ...h,
      hypervisor: hypervisorOf(file, h) ?? '',
      groups: h.groups ?? [],
      tags: h.tags ?? [],
      protected: h.protected ?? false,
    })),
    backups,
    slo: { ...file.slo, response_time_seconds: seconds(file.slo.response_time) },
    dr: { ...file.dr, rto_seconds: seconds(file.dr.rto), rpo_seconds: seconds(file.dr.rpo) },
  };
}

function seconds(text: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined)
    throw new ActionError('internal', `'${text}' is not a duration; validate the environment first`);
  return ms / 1000;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/:$/, '');
}
