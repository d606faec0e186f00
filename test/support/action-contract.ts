/**
 * The anatomy every action.yml must have (DESIGN.md): each input with description, required and default, each
 * output with a description, a failure-reason output, node24 running dist/index.js.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

interface Spec {
  name?: unknown;
  description?: unknown;
  inputs?: Record<string, Record<string, unknown> | null>;
  outputs?: Record<string, Record<string, unknown> | null>;
  runs?: { using?: unknown; main?: unknown };
}

export function actionYmlProblems(path: string): string[] {
  const spec = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Spec;
  const problems: string[] = [];
  if (typeof spec.name !== 'string' || spec.name === '') problems.push('name: missing');
  if (typeof spec.description !== 'string' || spec.description === '') problems.push('description: missing');
  for (const [input, def] of Object.entries(spec.inputs ?? {})) {
    if (typeof def?.description !== 'string' || def.description === '')
      problems.push(`inputs.${input}: no description`);
    if (typeof def?.required !== 'boolean')
      problems.push(`inputs.${input}: 'required' must be true or false`);
    if (def?.required === false && !('default' in (def ?? {})))
      problems.push(`inputs.${input}: optional input without a default`);
    if (def?.required === true && def.default !== undefined && def.default !== '') {
      problems.push(`inputs.${input}: required input with a default`);
    }
  }
  for (const [output, def] of Object.entries(spec.outputs ?? {})) {
    if (typeof def?.description !== 'string' || def.description === '')
      problems.push(`outputs.${output}: no description`);
  }
  if (!spec.outputs?.['failure-reason']) problems.push('outputs.failure-reason: missing');
  if (spec.runs?.using !== 'node24')
    problems.push(`runs.using: '${String(spec.runs?.using)}', expected node24`);
  if (spec.runs?.main !== 'dist/index.js')
    problems.push(`runs.main: '${String(spec.runs?.main)}', expected dist/index.js`);
  return problems;
}

export function requiredInputs(path: string): string[] {
  const spec = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Spec;
  return Object.entries(spec.inputs ?? {})
    .filter(([, def]) => def?.required === true)
    .map(([name]) => name);
}

/** Every action folder (one with an action.yml) under actions/. */
export function actionNames(root: string): string[] {
  const dir = join(root, 'actions');
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'action.yml')))
    .map((d) => d.name)
    .sort();
}
