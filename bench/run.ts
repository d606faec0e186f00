/**
 * npm run bench: the shared runtime's hot paths, each as a ratio against a reference measured in the same run.
 */
import { spawn } from 'node:child_process';
import { execCommand } from '../actions/lib/exec.js';
import { COMMENT_LIMIT, codeBlock, details, fitToBudget } from '../actions/lib/markdown.js';
import { SecretMasker } from '../actions/lib/secrets.js';
import { benchDrill } from './dr-drill.js';
import { type BenchCase, type BenchResult, measure } from './measure.js';
import { benchPlanRender, type PlanRenderResult } from './plan-render.js';

// --only=<prefix>: run only the benchmarks whose name starts with it (exec, markdown, secrets, plan-render, dr-drill).
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const wanted = (name: string) => only === undefined || name.startsWith(only);
const quick = process.argv.includes('--quick');

const LINES = 200_000;
const producer = `const l = 'x'.repeat(60); for (let i = 0; i < ${LINES}; i++) process.stdout.write(i + ' ' + l + '\\n')`;

function rawSpawn(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', producer], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', () => {});
    child.on('error', reject);
    child.on('close', () => resolve());
  });
}

const planText = Array.from(
  { length: LINES },
  (_, i) =>
    `  # module.vm["spark-executor-${i}"].proxmox_virtual_environment_vm.this will be updated in-place`,
).join('\n');
const secrets = new SecretMasker([
  'hunter2-password',
  'postgres://u:pw@db/state',
  'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'vault-pass-123',
  'AKIAEXAMPLEKEY',
]);

const cases: BenchCase[] = [
  {
    name: 'exec: stream 200k lines to masked log files',
    reference: 'bare spawn, output discarded',
    subject: () => execCommand([process.execPath, '-e', producer], { echo: false, masker: secrets }),
    baseline: rawSpawn,
    rounds: 5,
  },
  {
    name: 'markdown: fit a 200k-line plan into one PR comment',
    reference: 'one pass that keeps lines until full',
    subject: () =>
      fitToBudget({
        summary: '### Plan\n\n| create | 1 |',
        detail: planText,
        wrapDetail: (d, omitted) => details('terraform show', `${codeBlock(d)}\n${omitted} lines cut`),
        footer: '<!-- spark:plan-infra:prod:terraform/proxmox {} -->',
        budget: COMMENT_LIMIT,
      }),
    baseline: () => {
      let out = '';
      for (const line of planText.split('\n')) {
        if (out.length + line.length + 1 > COMMENT_LIMIT - 200) break;
        out += `${line}\n`;
      }
      return out;
    },
  },
  {
    name: 'secrets: mask 200k lines against 5 secrets',
    reference: 'splitting and joining the same lines unmasked',
    subject: () =>
      planText
        .split('\n')
        .map((line) => secrets.mask(line))
        .join('\n'),
    baseline: () =>
      planText
        .split('\n')
        .map((line) => line.trim())
        .join('\n'),
  },
];

const results: Array<BenchResult | PlanRenderResult> = [];
for (const c of cases.filter((k) => wanted(k.name))) {
  const r = await measure(c);
  results.push(r);
  console.log(
    `${r.name}\n  ${r.subjectMs.toFixed(1)} ms vs ${r.referenceMs.toFixed(1)} ms (${r.reference}) → ratio ${r.ratio.toFixed(2)}`,
  );
}
// With --quick, the plan has only creates: planning updates of 10,000 resources takes Terraform minutes.
if (wanted('plan-render')) results.push(await benchPlanRender(quick ? 'create' : 'update'));
if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
if (!quick && wanted('dr-drill')) await benchDrill();
