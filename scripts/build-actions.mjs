#!/usr/bin/env node
// Bundles every action (actions/<name>/src/main.ts -> actions/<name>/dist/index.js) with @vercel/ncc.
// With --check, builds in memory and fails when a committed bundle differs from a fresh one.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ncc from '@vercel/ncc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));

// Every folder under actions/ is an action, except lib/ (shared code). One without action.yml is a mistake.
function actionNames() {
  const dir = join(root, 'actions');
  const folders = readdirSync(dir, { withFileTypes: true }).filter(
    (d) => d.isDirectory() && d.name !== 'lib',
  );
  const broken = folders.filter((d) => !existsSync(join(dir, d.name, 'action.yml')));
  if (broken.length > 0) {
    console.error(
      `These action folders have no action.yml: ${broken.map((d) => `actions/${d.name}`).join(', ')}`,
    );
    process.exit(1);
  }
  return folders
    .map((d) => d.name)
    .filter((name) => only.length === 0 || only.includes(name))
    .sort();
}

async function bundle(name) {
  const entry = join(root, 'actions', name, 'src', 'main.ts');
  const { code, assets } = await ncc(entry, {
    minify: false,
    sourceMap: false,
    quiet: true,
    target: 'es2022',
    license: 'licenses.txt',
  });
  const files = new Map([['index.js', code]]);
  for (const [file, asset] of Object.entries(assets ?? {})) files.set(file, asset.source);
  return files;
}

const stale = [];
const names = actionNames();
for (const name of names) {
  const distDir = join(root, 'actions', name, 'dist');
  const files = await bundle(name);
  for (const [file, content] of files) {
    const target = join(distDir, file);
    if (check) {
      const current = existsSync(target) ? readFileSync(target) : null;
      if (!current?.equals(Buffer.from(content))) stale.push(relative(root, target));
    } else {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
  }
  if (check && existsSync(distDir)) {
    for (const file of readdirSync(distDir))
      if (!files.has(file)) stale.push(`${relative(root, join(distDir, file))} (not produced by the build)`);
  }
  if (!check) {
    for (const file of readdirSync(distDir))
      if (!files.has(file)) rmSync(join(distDir, file), { recursive: true });
    console.log(`built actions/${name}/dist (${files.size} file${files.size === 1 ? '' : 's'})`);
  }
}
if (check) {
  if (stale.length > 0) {
    console.error(
      `These bundles are stale; run \`npm run build\` and commit the result:\n  ${stale.join('\n  ')}`,
    );
    process.exit(1);
  }
  console.log(`${names.length} action bundle(s) up to date`);
}
