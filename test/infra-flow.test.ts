// plan-infra and apply-infra end to end: the bundled actions, run as the runner runs them, with real Terraform
// and its pg backend on a real PostgreSQL, against the GitHub stand-in. The root module under test
// (test/fixtures/terraform/root) makes one object per host of environments/production.yaml, like
// terraform/proxmox, from providers built into Terraform.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { requireTool } from '../scripts/lib/system-tools.js';
import { type ActionRun, repoRoot, runActionBundle } from './support/action-runner.js';
import { DEFAULT_REPO, type GitHubApi, startGitHubApi } from './support/github-api.js';
import { type PostgresServer, startPostgres } from './support/postgres.js';
import { tempDir } from './support/temp-dir.js';

const REPO = DEFAULT_REPO;
const TOKEN = 'ghs_InfraFlowToken0001';
const DB_SECRET = 'Planted-DB-Secret-93x1';
const STATE_PASSWORD = 'State-Pw-Planted-55q';
const SECRETS = [TOKEN, DB_SECRET, STATE_PASSWORD];
const PR = 12;
const HEAD = 'a1'.repeat(20);
const MERGE = 'b2'.repeat(20);

let pg: PostgresServer;
let api: GitHubApi;
let workspace = '';
let connection = '';
let cliConfig = '';

const envFile = () => join(workspace, 'environments', 'production.yaml');

/** Puts back the repository's production.yaml. */
function restoreEnvironment() {
  cpSync(join(repoRoot, 'environments', 'production.yaml'), envFile());
}

function editEnvironment(from: string, to: string) {
  const text = readFileSync(envFile(), 'utf8');
  if (!text.includes(from)) throw new Error(`production.yaml has no '${from}'`);
  writeFileSync(envFile(), text.replace(from, to));
}

interface Run {
  inputs?: Record<string, string>;
  eventName?: string;
  event?: Record<string, unknown>;
  sha?: string;
  env?: Record<string, string>;
}

function run(action: 'plan-infra' | 'apply-infra', options: Run = {}): Promise<ActionRun> {
  return runActionBundle(action, {
    workspace,
    apiUrl: api.url,
    repository: REPO,
    eventName: options.eventName ?? 'workflow_dispatch',
    event: options.event ?? {},
    sha: options.sha ?? 'c3'.repeat(20),
    timeoutMs: 300_000,
    inputs: {
      environment: 'production',
      'working-directory': 'terraform/fixture',
      'backend-config': `conn_str=${connection}`,
      'github-token': TOKEN,
      'lock-timeout': '2s',
      ...options.inputs,
    },
    env: { TF_VAR_db_password: DB_SECRET, TF_CLI_CONFIG_FILE: cliConfig, ...options.env },
  });
}

const prEvent = (number: number, headSha: string) => ({ pull_request: { number, head: { sha: headSha } } });

function planOnPr(number = PR, headSha = HEAD, options: Run = {}) {
  return run('plan-infra', { ...options, eventName: 'pull_request', event: prEvent(number, headSha) });
}

function merge(number: number, mergeSha: string) {
  const issue = api.state.issue(REPO, number);
  if (!issue?.pull) throw new Error(`no PR #${number}`);
  issue.pull.mergedAt = new Date().toISOString();
  issue.pull.mergeCommitSha = mergeSha;
  issue.state = 'closed';
}

function applyOnPush(sha: string, options: Run = {}) {
  return run('apply-infra', { ...options, eventName: 'push', event: { after: sha }, sha });
}

const comments = (number: number) => api.state.comments(REPO, number);

/** The state as stored by the pg backend, or undefined before the first apply. */
async function storedState(): Promise<string | undefined> {
  const text = await pg
    .psql("SELECT data FROM terraform_remote_state.states WHERE name = 'default';", { database: 'tfstate' })
    .catch(() => '');
  return text.trim() === '' ? undefined : text.trim();
}

async function writeState(data: string) {
  if (data.includes('$state$')) throw new Error('state text holds the quote tag');
  await pg.psql(
    `UPDATE terraform_remote_state.states SET data = $state$${data}$state$ WHERE name = 'default';`,
    {
      database: 'tfstate',
    },
  );
}

/** No planted secret in anything the run wrote (log, outputs, summary, files) nor in any comment or issue. */
function expectNoSecrets(result: ActionRun) {
  const everything = [
    result.everythingWritten(),
    ...api.state.repo(REPO).comments.map((c) => c.body),
    ...api.state.repo(REPO).issues.map((i) => `${i.title}\n${i.body ?? ''}`),
  ].join('\n');
  for (const secret of SECRETS) {
    const at = everything.indexOf(secret);
    expect(at === -1 ? '' : `${secret} found in: …${everything.slice(Math.max(0, at - 200), at + 50)}`).toBe(
      '',
    );
  }
}

beforeAll(async () => {
  requireTool('terraform');
  pg = await startPostgres();
  await pg.psql(
    `CREATE ROLE tfstate LOGIN PASSWORD '${STATE_PASSWORD}'; CREATE DATABASE tfstate OWNER tfstate;`,
  );
  connection = `postgres://tfstate:${STATE_PASSWORD}@127.0.0.1:${pg.port}/tfstate?sslmode=disable`;
  workspace = tempDir('spark-infra-ws-');
  cpSync(join(repoRoot, 'environments'), join(workspace, 'environments'), { recursive: true });
  cpSync(join(repoRoot, 'test/fixtures/terraform/root'), join(workspace, 'terraform/fixture'), {
    recursive: true,
  });
  cliConfig = join(workspace, 'terraformrc');
  writeFileSync(cliConfig, '');
  api = await startGitHubApi({ repos: { [REPO]: { pulls: [{ number: PR, headSha: HEAD }] } } });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await pg?.stop();
});

describe('plan-infra on a pull request', () => {
  let first: ActionRun;

  it('comments the plan with counts that match, and leaks no secret', async () => {
    first = await planOnPr();
    expect(first.stderr + first.log).not.toMatch(/::error::/);
    expect(first.exitCode).toBe(0);
    expect(first.outputs).toMatchObject({
      changes: 'true',
      'to-add': '8',
      'to-change': '0',
      'to-replace': '0',
      'to-destroy': '0',
      risk: 'low',
      'failure-reason': '',
    });
    expect(first.outputs.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const [comment, ...others] = comments(PR);
    expect(others).toEqual([]);
    expect(comment?.body).toMatch(/^<!-- spark:plan-infra:production:terraform\/fixture \{/);
    expect(comment?.body).toContain(`"fingerprint":"${first.outputs.fingerprint}"`);
    expect(comment?.body).toContain(`"headSha":"${HEAD}"`);
    expect(comment?.body).toMatch(
      /\| create \| update \| replace \| destroy \| import \| move \| forget \| outputs \|/,
    );
    expect(comment?.body).toContain('| **8** | 0 | 0 | 0 | 0 | 0 | 0 | **2** |');
    expect(comment?.body).toContain('terraform show (');
    expect(comment?.body).toContain('(sensitive value)');
    expect(first.outputs['comment-url']).toBe(
      `https://github.com/${REPO}/pull/${PR}#issuecomment-${comment?.id}`,
    );
    expect(first.summary).toContain('Terraform plan for `production`');
    const json = readFileSync(first.outputs['json-plan-path'] as string, 'utf8');
    expect(JSON.parse(json).resource_changes).toHaveLength(8);
    expect(existsSync(first.outputs['plan-path'] as string)).toBe(true);
    expectNoSecrets(first);
  }, 180_000);

  it('updates the same comment on a re-plan, and the fingerprint stays the same', async () => {
    const id = comments(PR)[0]?.id;
    const again = await planOnPr();
    expect(again.exitCode).toBe(0);
    expect(again.outputs.fingerprint).toBe(first.outputs.fingerprint);
    expect(comments(PR).map((c) => c.id)).toEqual([id]);
    expect(
      api.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/issues/${PR}/comments`)),
    ).toHaveLength(1);
  }, 180_000);
});

describe('apply-infra', () => {
  it('refuses a commit that no pull request reviewed, and changes nothing', async () => {
    const result = await applyOnPush('dd'.repeat(20));
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs['failure-reason']).toBe('no-reviewed-plan');
    expect(result.outputs.applied).toBe('false');
    expect(await storedState()).toBeUndefined();
  }, 180_000);

  it('does not trust a plan comment that someone else wrote', async () => {
    const marker = comments(PR)[0]?.body.split('\n')[0] ?? '';
    expect(marker).toContain('"fingerprint"');
    const forged = api.state.addPull(REPO, {
      headSha: '9a'.repeat(20),
      mergedAt: new Date().toISOString(),
      mergeCommitSha: '9b'.repeat(20),
      comments: [{ body: `${marker}\nLooks good`, user: 'mallory' }],
    });
    const result = await applyOnPush('9b'.repeat(20));
    expect(result.outputs['failure-reason']).toBe('no-reviewed-plan');
    expect(result.log).toContain(`PR #${forged.number} has no plan comment for production`);
    expect(await storedState()).toBeUndefined();
  }, 180_000);

  it('applies the reviewed plan on merge and writes outputs and the inventory', async () => {
    merge(PR, MERGE);
    const result = await applyOnPush(MERGE);
    expect(result.stderr).toBe('');
    expect(result.outputs['failure-reason']).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.outputs.applied).toBe('true');
    const inventory = parseYaml(readFileSync(result.outputs['inventory-path'] as string, 'utf8'));
    expect(inventory.all.hosts['spark-conductor']).toEqual({ ansible_host: '192.168.1.101' });
    expect(Object.keys(inventory.all.children.worker.hosts)).toEqual([
      'spark-executor-01',
      'spark-executor-02',
    ]);
    expect(Object.keys(inventory.all.children.control_plane.hosts)).toEqual(['spark-conductor']);
    const outputs = JSON.parse(readFileSync(result.outputs['outputs-path'] as string, 'utf8'));
    expect(outputs.database_password.value).toBe('(sensitive value)');
    const report = comments(PR).find((c) =>
      c.body.startsWith('<!-- spark:apply-infra:production:terraform/fixture'),
    );
    expect(report?.body).toContain('Applied');
    expect(JSON.parse((await storedState()) as string).resources.length).toBeGreaterThan(0);
    // The backend settings (with the connection string) are not left in the runner's workspace.
    expect(existsSync(join(workspace, 'terraform/fixture/.terraform/terraform.tfstate'))).toBe(false);
    expect(existsSync(join(workspace, 'terraform/fixture/.terraform'))).toBe(true);
    expectNoSecrets(result);
  }, 180_000);

  it('refuses a plan that changed after the review, names what differs, and leaves the state untouched', async () => {
    const pr = api.state.addPull(REPO, { headSha: 'e5'.repeat(20) }).number;
    editEnvironment(
      'memory_gb: 4\n    disks:\n      - { mount: /, size_gb: 50 }\n    description: GitHub',
      'memory_gb: 3\n    disks:\n      - { mount: /, size_gb: 50 }\n    description: GitHub',
    );
    const reviewed = await planOnPr(pr, 'e5'.repeat(20));
    expect(reviewed.exitCode).toBe(0);
    expect(reviewed.outputs['to-change']).toBe('1');
    // main moves on after the review: the builder gets less memory still.
    editEnvironment('memory_gb: 3\n    disks', 'memory_gb: 2\n    disks');
    merge(pr, 'f6'.repeat(20));
    const before = await storedState();
    const result = await applyOnPush('f6'.repeat(20));
    expect(result.exitCode).not.toBe(0);
    expect(result.outputs['failure-reason']).toBe('plan-changed');
    expect(result.log).toContain('terraform_data.vm["spark-builder"]: same action, other values');
    expect(result.summary).toContain('What differs from the reviewed plan');
    expect(await storedState()).toBe(before);
    restoreEnvironment();
  }, 240_000);

  it('reports a held state lock with its holder', async () => {
    const holder: ChildProcess = spawn(
      join(pg.binDir, 'psql'),
      ['-X', '-q', '-d', connection.replace(STATE_PASSWORD, '').replace('tfstate:@', 'tfstate@')],
      {
        env: { ...process.env, PGPASSWORD: STATE_PASSWORD, PGAPPNAME: 'terraform-elsewhere' },
        stdio: ['pipe', 'ignore', 'ignore'],
      },
    );
    try {
      holder.stdin?.write(
        "SELECT pg_advisory_lock(id) FROM terraform_remote_state.states WHERE name = 'default';\n",
      );
      const deadline = Date.now() + 30_000;
      while (
        !(await pg.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted;")).startsWith(
          '1',
        )
      ) {
        if (Date.now() > deadline) throw new Error('the lock was not taken');
        await new Promise((r) => setTimeout(r, 100));
      }
      const result = await run('plan-infra', { inputs: { 'lock-timeout': '1s' } });
      expect(result.exitCode).not.toBe(0);
      expect(result.outputs['failure-reason']).toBe('state-locked');
      expect(result.summary).toContain("application 'terraform-elsewhere'");
      expect(result.summary).toContain('pg_terminate_backend(');
      expectNoSecrets(result);
    } finally {
      holder.kill('SIGKILL');
    }
  }, 180_000);

  it('blocks replacing a protected host until the PR carries the approval label', async () => {
    const pr = api.state.addPull(REPO, { headSha: 'a7'.repeat(20) }).number;
    editEnvironment('ip: 192.168.1.101', 'ip: 192.168.1.104');
    try {
      const blocked = await planOnPr(pr, 'a7'.repeat(20));
      expect(blocked.exitCode).not.toBe(0);
      expect(blocked.outputs['failure-reason']).toBe('protected-destroy');
      expect(blocked.outputs.risk).toBe('high');
      expect(api.state.issue(REPO, pr)?.labels).toContain('destroy');
      const body = comments(pr)[0]?.body ?? '';
      expect(body).toContain('[!CAUTION]');
      expect(body).toContain('**replace** `terraform_data.vm["spark-conductor"]`');
      expect(body).toContain('forced by `triggers_replace`');
      expect(body).toContain('protected host `spark-conductor`');

      const repo = api.state.repo(REPO);
      const issue = api.state.issue(REPO, pr);
      if (!issue) throw new Error(`no PR #${pr}`);
      api.state.attachLabel(repo, issue, 'destroy-approved');
      const approved = await planOnPr(pr, 'a7'.repeat(20));
      expect(approved.outputs['failure-reason']).toBe('');
      expect(approved.exitCode).toBe(0);
      expect(comments(pr)).toHaveLength(1);
      expect(comments(pr)[0]?.body).toContain('carries `destroy-approved`: approved');
    } finally {
      restoreEnvironment();
    }
  }, 240_000);
});

describe('plan-infra in drift mode', () => {
  const drift = () => run('plan-infra', { eventName: 'schedule', inputs: { mode: 'drift' } });
  const driftIssues = () =>
    api.state
      .repo(REPO)
      .issues.filter((i) => i.labels.includes('drift:production') && !i.pull && i.state === 'open');

  it('opens one issue while the state differs and closes it when the drift is gone', async () => {
    const clean = await drift();
    expect(clean.exitCode).toBe(0);
    expect(clean.outputs.drift).toBe('false');
    expect(driftIssues()).toEqual([]);

    const original = (await storedState()) as string;
    const state = JSON.parse(original);
    const vm = state.resources.find((r: { name: string }) => r.name === 'vm');
    const logger = vm.instances.find((i: { index_key: string }) => i.index_key === 'spark-logger');
    logger.attributes.input.value.memory_gb = 99;
    await writeState(JSON.stringify(state, null, 2));

    const found = await drift();
    expect(found.exitCode).toBe(0);
    expect(found.outputs.drift).toBe('true');
    expect(driftIssues()).toHaveLength(1);
    expect(driftIssues()[0]?.body).toContain('terraform_data.vm["spark-logger"]');
    const again = await drift();
    expect(again.outputs['issue-url']).toBe(found.outputs['issue-url']);
    expect(driftIssues()).toHaveLength(1);
    expect(comments(driftIssues()[0]?.number as number)).toHaveLength(1);

    await writeState(original);
    const gone = await drift();
    expect(gone.outputs.drift).toBe('false');
    expect(driftIssues()).toEqual([]);
    expectNoSecrets(gone);
  }, 300_000);
});

describe('large plans', () => {
  it('fits a 5,000-resource plan into one comment and keeps the summary', async () => {
    const pr = api.state.addPull(REPO, { headSha: 'b8'.repeat(20) }).number;
    const result = await planOnPr(pr, 'b8'.repeat(20), { env: { TF_VAR_bulk: '5000' } });
    expect(result.exitCode).toBe(0);
    expect(result.outputs['to-add']).toBe('5000');
    const body = comments(pr)[0]?.body ?? '';
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain('| **5,000** |');
    expect(body).toContain('**create** (5,000):');
    expect(body).toMatch(/terraform show \([\d,]+ of [\d,]+ lines; the rest did not fit\)/);
    expect(body).toContain('Fingerprint `');
    expect(body).toContain('"changesOmitted":5000');
  }, 300_000);
});

describe('a failing apply', () => {
  it('reports what was and was not applied', async () => {
    const env = { TF_VAR_bulk: '2', TF_VAR_fail_apply: 'true' };
    const plan = await run('plan-infra', { env });
    expect(plan.exitCode).toBe(0);
    const result = await run('apply-infra', {
      env,
      inputs: { 'reviewed-fingerprint': plan.outputs.fingerprint as string },
    });
    expect(result.outputs['failure-reason']).toBe('apply-failed');
    expect(result.summary).toContain('**Applied** (2)');
    expect(result.summary).toContain('**Failed** (1)');
    expect(result.summary).toContain('`terraform_data.broken[0]`');
    expect(
      result.annotations.some((a) => a.level === 'error' && a.message.includes('apply-failed') === false),
    ).toBe(true);
    expectNoSecrets(result);
  }, 240_000);
});

describe('bad input', () => {
  it('names an unknown environment and what is allowed, before running Terraform', async () => {
    const result = await run('plan-infra', { inputs: { environment: 'prodution' } });
    expect(result.outputs['failure-reason']).toBe('bad-input');
    expect(result.log).toContain("Unknown environment 'prodution'");
    expect(result.log).toContain("Did you mean 'production'?");
    expect(result.log).not.toContain('terraform init');
  });

  it('refuses a working directory outside the repository', async () => {
    const result = await run('apply-infra', { inputs: { 'working-directory': '../elsewhere' } });
    expect(result.outputs['failure-reason']).toBe('bad-input');
    expect(result.log).toContain("Input 'working-directory' is '../elsewhere', outside the repository");
  });
});
