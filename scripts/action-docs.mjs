#!/usr/bin/env node
// Writes docs/actions/<name>.md for every action from its action.yml (inputs, outputs, description).
// With --check, fails when a page is missing or differs from what action.yml says.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const cell = (text) =>
  String(text ?? '')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .trim();

export function renderPage(name, spec) {
  const inputs = Object.entries(spec.inputs ?? {});
  const outputs = Object.entries(spec.outputs ?? {});
  const lines = [
    `# ${name}`,
    '',
    `<!-- Generated from actions/${name}/action.yml by \`npm run docs\`; edit action.yml instead. -->`,
    '',
    cell(spec.description),
    '',
    '```yaml',
    `- uses: ./actions/${name}`,
    '  with:',
    ...inputs.filter(([, i]) => i?.required).map(([key]) => `    ${key}: …`),
    '```',
    '',
    '## Inputs',
    '',
    '| input | required | default | description |',
    '| --- | --- | --- | --- |',
    ...inputs.map(
      ([key, i]) =>
        `| \`${key}\` | ${i?.required ? 'yes' : 'no'} | ${i?.default === undefined || i.default === '' ? '' : `\`${cell(i.default)}\``} | ${cell(i?.description)} |`,
    ),
    '',
    '## Outputs',
    '',
    '| output | description |',
    '| --- | --- |',
    ...outputs.map(([key, o]) => `| \`${key}\` | ${cell(o?.description)} |`),
    '',
  ];
  return lines.join('\n');
}

const actionsDir = join(root, 'actions');
const stale = [];
for (const name of readdirSync(actionsDir).sort()) {
  const yml = join(actionsDir, name, 'action.yml');
  if (!existsSync(yml)) continue;
  const page = renderPage(name, parse(readFileSync(yml, 'utf8')));
  const target = join(root, 'docs', 'actions', `${name}.md`);
  if (check) {
    if (!existsSync(target) || readFileSync(target, 'utf8') !== page) stale.push(`docs/actions/${name}.md`);
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, page);
    console.log(`wrote docs/actions/${name}.md`);
  }
}
if (stale.length) {
  console.error(`Out of date (run \`npm run docs\`): ${stale.join(', ')}`);
  process.exit(1);
}
