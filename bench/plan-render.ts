/**
 * The time and peak memory plan-infra needs to turn a BENCH_PLAN_RESOURCES-resource (default 10,000) plan's
 * `terraform show -json` into its PR comment and job summary, as a ratio to `terraform show -json` itself for
 * the same plan, measured in the same run. The plan is made by the real terraform:
 *
 * - `update` (the default): every `terraform_data` instance is updated in place, so the JSON has before and
 *   after values, as a real change to a fleet would. Applying 10,000 of them takes Terraform tens of minutes
 *   (its apply is quadratic here: 1,000 take 10 s, 2,000 take 40 s), so the prior state is seeded instead:
 *   one instance is applied for real and its state entry cloned 10,000 times under a previous configuration
 *   (`name = "vm-N"`). The plan itself still takes Terraform about two minutes.
 * - `create` (with --quick): the same configuration planned against an empty state, 10,000 creates.
 *
 * Each measured pass runs in a child process of its own (bench/plan-render-child.ts), so its peak RSS is the
 * pass's own. Passes and references alternate, BENCH_ROUNDS (default 3) of each; the medians are compared.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMENT_LIMIT } from '../actions/lib/markdown.js';
import { requireTool, runTool } from '../scripts/lib/system-tools.js';
import type { ChildArgs, ChildResult } from './plan-render-child.js';

export type PlanShape = 'create' | 'update';

const resources = Number(process.env.BENCH_PLAN_RESOURCES ?? 10_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = 'bench-db-password-3f9c1e';
const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));
const childScript = join(repoRoot, 'bench', 'plan-render-child.ts');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1] ?? 0;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const n = (value: number) => value.toLocaleString('en-US');

const mainTf = (count: number, name: string) => `variable "db_password" {
  type      = string
  sensitive = true
}

resource "terraform_data" "r" {
  count = ${count}
  input = { index = count.index, name = "${name}-\${count.index}" }
}

resource "terraform_data" "secret" {
  input = { password = var.db_password }
}
`;

interface StateInstance {
  index_key?: number;
  attributes: { id: string; input: { value: unknown }; output: { value: unknown } };
}
interface State {
  serial: number;
  resources: Array<{ type: string; name: string; instances: StateInstance[] }>;
}

/** Runs `file args` with stdout into `out`; resolves with the wall time in ms. */
function timedToFile(file: string, args: string[], out: string, cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<number>((resolve, reject) => {
    const fd = openSync(out, 'w');
    const started = process.hrtime.bigint();
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', fd, 'pipe'] });
    closeSync(fd);
    const stderr: Buffer[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else
        reject(new Error(`${file} ${args.join(' ')} failed (${code}): ${Buffer.concat(stderr).toString()}`));
    });
  });
}

/** Applies one instance for real under the previous configuration and clones its state entry `count` times. */
async function seedState(base: string, root: string, terraform: string, env: NodeJS.ProcessEnv) {
  const seed = join(base, 'seed');
  mkdirSync(seed);
  writeFileSync(join(seed, 'main.tf'), mainTf(1, 'vm'));
  await runTool(terraform, ['init', '-input=false', '-no-color'], { cwd: seed, env });
  await runTool(terraform, ['apply', '-auto-approve', '-input=false', '-no-color'], { cwd: seed, env });
  const state = JSON.parse(readFileSync(join(seed, 'terraform.tfstate'), 'utf8')) as State;
  const fleet = state.resources.find((r) => r.type === 'terraform_data' && r.name === 'r');
  const template = fleet?.instances[0];
  if (!fleet || !template) throw new Error('the seed apply left no terraform_data.r[0] in its state');
  fleet.instances = Array.from({ length: resources }, (_, index) => {
    const value = { index, name: `vm-${index}` };
    const instance = structuredClone(template);
    instance.index_key = index;
    instance.attributes.id = randomUUID();
    instance.attributes.input.value = value;
    instance.attributes.output.value = { ...value };
    return instance;
  });
  // Only the fleet: the resource with the secret is still to be created.
  state.resources = [fleet];
  state.serial = 1;
  writeFileSync(join(root, 'terraform.tfstate'), JSON.stringify(state));
}

function runChild(args: ChildArgs): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, JSON.stringify(args)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const stdout: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const text = Buffer.concat(stdout).toString().trim();
      if (code !== 0) return reject(new Error(`${childScript} failed (${code}): ${text}`));
      resolve(JSON.parse(text.split('\n').at(-1) ?? '') as ChildResult);
    });
  });
}

export interface PlanRenderResult {
  name: string;
  reference: string;
  shape: PlanShape;
  subjectMs: number;
  referenceMs: number;
  ratio: number;
  peakRssBytes: number;
  commentLength: number;
}

export async function benchPlanRender(shape: PlanShape): Promise<PlanRenderResult> {
  const terraform = requireTool('terraform');
  const base = mkdtempSync(join(tmpdir(), 'spark-bench-plan-'));
  try {
    const root = join(base, 'root');
    const out = join(base, 'out');
    mkdirSync(root);
    mkdirSync(out, { mode: 0o700 });
    const cliConfig = join(base, 'empty.tfrc');
    writeFileSync(cliConfig, '');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
      TF_CLI_CONFIG_FILE: cliConfig,
      TF_VAR_db_password: SECRET,
    };
    const what =
      shape === 'update'
        ? `${n(resources)} updated in place (state seeded from a real apply of one, cloned) + 1 create`
        : `${n(resources + 1)} creates against an empty state`;
    console.log(
      `plan-render: planning ${what} with ${(await runTool(terraform, ['version'])).stdout.split('\n')[0]} …`,
    );
    if (shape === 'update') await seedState(base, root, terraform, env);
    writeFileSync(join(root, 'main.tf'), mainTf(resources, 'host'));
    const long = { cwd: root, env, timeoutMs: 3_600_000 };
    await runTool(terraform, ['init', '-input=false', '-no-color'], long);
    const planStarted = Date.now();
    await runTool(terraform, ['plan', '-input=false', '-no-color', '-out=p.tfplan'], long);
    const planMs = Date.now() - planStarted;
    const showText = join(out, 'show.txt');
    await timedToFile(terraform, ['show', '-no-color', 'p.tfplan'], showText, root, env);
    const planJson = join(root, 'plan.json');

    const reference: number[] = [];
    const passes: ChildResult[] = [];
    const args: ChildArgs = {
      planJson,
      showText,
      outDir: out,
      root: repoRoot,
      environment: 'production',
      workingDirectory: 'terraform/proxmox',
    };
    const showJson = async () =>
      reference.push(await timedToFile(terraform, ['show', '-json', 'p.tfplan'], planJson, root, env));
    const render = async () => passes.push(await runChild(args));
    await showJson(); // the first one writes plan.json for the passes; both get one warm-up
    await render();
    // Alternate which one goes first, so neither always finds the caches warmed by the other.
    reference.length = 0;
    passes.length = 0;
    for (let i = 0; i < rounds; i++) {
      if (i % 2 === 0) {
        await showJson();
        await render();
      } else {
        await render();
        await showJson();
      }
    }

    const subjectMs = median(passes.map((p) => p.ms));
    const referenceMs = median(reference);
    const ratio = subjectMs / referenceMs;
    const peak = Math.max(...passes.map((p) => p.maxRssBytes));
    const last = passes.at(-1) as ChildResult;
    const counts = Object.entries(last.counts)
      .filter(([, count]) => count > 0)
      .map(([kind, count]) => `${n(count)} ${kind}`)
      .join(', ');
    if (last.commentLength > COMMENT_LIMIT)
      throw new Error(`the comment is ${last.commentLength} characters long`);
    if (passes.some((p) => p.leakedSecret))
      throw new Error('a sensitive value reached the comment or summary');
    console.log(
      [
        `plan-render: PR comment + job summary from a ${n(last.resources)}-resource plan (${counts})`,
        `  ${subjectMs.toFixed(0)} ms vs ${referenceMs.toFixed(0)} ms (terraform show -json of the same plan) → ratio ${ratio.toFixed(2)}`,
        `  passes ${passes.map((p) => p.ms.toFixed(0)).join(', ')} ms; references ${reference.map((r) => r.toFixed(0)).join(', ')} ms; terraform plan took ${(planMs / 1000).toFixed(0)} s`,
        `  peak RSS ${mb(peak)} (${mb(last.rssBeforeBytes)} before the pass); heap used ${mb(last.heapUsedBytes)} at the end (${mb(last.heapUsedBeforeBytes)} before)`,
        `  plan JSON ${(statSync(planJson).size / 1024 / 1024).toFixed(1)} MB, show text ${n(last.showLines)} lines, ${last.secretsFound} secret(s) found and masked`,
        `  comment ${n(last.commentLength)} characters with its marker (limit ${n(COMMENT_LIMIT)}; body budget ${n(last.commentBudget)}, ${n(last.commentOmittedLines)} show lines cut)`,
        `  summary ${n(last.summaryLength)} characters (${n(last.summaryOmittedLines)} show lines cut)`,
      ].join('\n'),
    );
    return {
      name: 'plan-render: PR comment + job summary from a plan',
      reference: 'terraform show -json of the same plan',
      shape,
      subjectMs,
      referenceMs,
      ratio,
      peakRssBytes: peak,
      commentLength: last.commentLength,
    };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
