import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type GitHubApi, startGitHubApi } from '../../../test/support/github-api.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { ActionError } from '../../lib/errors.js';
import { createGitHubClient } from '../../lib/github/client.js';
import { SecretMasker } from '../../lib/secrets.js';
import type { DrillInputs } from './inputs.js';
import { type DrillDeps, runDrill } from './run.js';
import type { DrillContext, DrillTarget, TargetResult } from './types.js';

// The orchestrator, with the per-target restores replaced by scripted ones; the real restores have their own
// tests with real PostgreSQL and etcd.

function workspace(dr: string): string {
  const root = tempDir('drill-run-');
  mkdirSync(join(root, 'environments'));
  // Reuse the committed dev environment and swap its dr: section, so the file stays valid as the schema grows.
  const dev = readFileSync(join(import.meta.dirname, '../../../environments/dev.yaml'), 'utf8');
  const withoutDr = dev.replace(/^dr:\n(?:[ #].*\n|\n)*/m, '').replace(/^name: dev$/m, 'name: drilltest');
  writeFileSync(join(root, 'environments/drilltest.yaml'), `${withoutDr}\n${dr}`);
  return root;
}

const DR = `dr:
  rto: 1h
  rpo: 15m
  targets:
    - { kind: postgres, name: platform-db, base-backups: /b/base, wal-archive: /b/wal }
    - { kind: etcd, name: cluster-etcd, snapshots: /b/etcd }
`;

const inputs = (over: Partial<DrillInputs> = {}): DrillInputs => ({
  environment: 'drilltest',
  targets: [],
  timeoutMs: 60_000,
  reportDir: tempDir('drill-report-'),
  issueOnFailure: false,
  issueLabel: 'dr-drill',
  ...over,
});

type Script = (target: DrillTarget, ctx: DrillContext) => Promise<TargetResult>;

const pass: Script = async (target, ctx) => ({
  name: target.name,
  kind: target.kind,
  ok: true,
  recoveryPoint: ctx.drillStart - 60_000,
  restoreStartedAt: ctx.now(),
  verifiedAt: ctx.now() + 5,
  phases: [{ name: 'restore', startedAt: ctx.now(), endedAt: ctx.now() + 5, ok: true }],
  checks: [{ name: 'rows', ok: true, expected: '3', actual: '3' }],
});

const fail: Script = async (target, ctx) => ({
  ...(await pass(target, ctx)),
  ok: false,
  failure: 'restore-failed',
});

/** A GitHub stand-in and a client for it; `attempts: 1` lets a test see a failure without retries. */
async function github(attempts?: number) {
  const stand = await startGitHubApi();
  api = stand;
  const gh = {
    client: createGitHubClient({ token: 'test-token', apiUrl: stand.url, ...(attempts ? { attempts } : {}) }),
    repo: { owner: 'spark', repo: 'spark-infra' },
  };
  return { stand, gh };
}

let scratchParent = '';
let api: GitHubApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

function deps(root: string, script: Script, over: Partial<DrillDeps> = {}): DrillDeps {
  scratchParent = tempDir('drill-scratch-');
  return {
    root,
    now: () => Date.now(),
    log: () => {},
    group: (_name, work) => work(),
    drillTarget: script,
    masker: new SecretMasker(),
    scratchParent,
    ...over,
  };
}

describe('runDrill', () => {
  it('passes, measures, writes the report and leaves no scratch place behind', async () => {
    const seen: string[] = [];
    const outcome = await runDrill(
      inputs(),
      deps(workspace(DR), async (target, ctx) => {
        seen.push(target.name);
        writeFileSync(join(ctx.scratch.dir('data'), 'f'), 'x');
        return pass(target, ctx);
      }),
    );
    expect(seen).toEqual(['platform-db', 'cluster-etcd']);
    expect(outcome.report.status).toBe('pass');
    expect(outcome.report.worst.rpoSeconds).toBeGreaterThanOrEqual(60);
    expect(JSON.parse(readFileSync(outcome.reportPath, 'utf8')).targets).toHaveLength(2);
    expect(outcome.summary).toContain('### ✅ DR drill passed: drilltest');
    expect(readdirSync(scratchParent)).toEqual([]);
  });

  it('runs only the selected targets and applies the overrides', async () => {
    const outcome = await runDrill(
      inputs({ targets: ['etcd'], rpoTargetMs: 1_000 }),
      deps(workspace(DR), pass),
    );
    expect(outcome.report.targets.map((t) => t.name)).toEqual(['cluster-etcd']);
    expect(outcome.report.failureReason).toBe('rpo-exceeded');
  });

  it('enforces the overall timeout, stops what a target started, and does not start the rest', async () => {
    let pid = 0;
    const hang: Script = async (target, ctx) => {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
        detached: true,
        stdio: 'ignore',
      });
      pid = child.pid ?? 0;
      ctx.scratch.track(child, 'a stuck restore', 500);
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      return {
        name: target.name,
        kind: target.kind,
        ok: false,
        failure: 'timeout',
        message: 'aborted',
        phases: [],
        checks: [],
      };
    };
    const outcome = await runDrill(inputs({ timeoutMs: 300 }), deps(workspace(DR), hang));
    expect(outcome.report.failureReason).toBe('timeout');
    expect(outcome.report.targets.map((t) => [t.name, t.failureReason, t.message])).toEqual([
      ['platform-db', 'timeout', 'aborted'],
      ['cluster-etcd', 'timeout', "not started: the drill's timeout was reached"],
    ]);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(readdirSync(scratchParent)).toEqual([]);
  });

  it('abandons a target that ignores the timeout, and still cleans up', async () => {
    const stubborn: Script = async (_target, ctx) => {
      ctx.scratch.dir('stuck');
      return new Promise<TargetResult>(() => {});
    };
    const outcome = await runDrill(
      inputs({ timeoutMs: 100 }),
      deps(workspace(DR), stubborn, { abortGraceMs: 100 }),
    );
    expect(outcome.report.targets[0]?.message).toContain("did not stop within 0.1s of the drill's timeout");
    expect(readdirSync(scratchParent)).toEqual([]);
  });

  it('turns an unexpected error into a failed target without leaking secrets', async () => {
    const masker = new SecretMasker(['pw-very-secret']);
    const outcome = await runDrill(
      inputs({ targets: ['platform-db'] }),
      deps(
        workspace(DR),
        async () => {
          throw new Error('connect to postgresql://u:pw-very-secret@db failed');
        },
        { masker },
      ),
    );
    expect(outcome.report.targets[0]).toMatchObject({ status: 'fail', failureReason: 'restore-failed' });
    expect(readFileSync(outcome.reportPath, 'utf8')).not.toContain('pw-very-secret');
  });

  it('fails as bad input when a target cannot be configured, after cleaning up', async () => {
    const outcome = runDrill(
      inputs({ targets: ['cluster-etcd'] }),
      deps(workspace(DR), async (_target, ctx) => {
        ctx.scratch.dir('half-made');
        throw new ActionError('bad-input', "Input 'kubeconfig' names /nope, which does not exist.");
      }),
    );
    await expect(outcome).rejects.toMatchObject({ reason: 'bad-input' });
    expect(readdirSync(scratchParent)).toEqual([]);
  });

  it('refuses bad input before touching anything', async () => {
    await expect(runDrill(inputs({ environment: 'nope' }), deps(workspace(DR), pass))).rejects.toMatchObject({
      reason: 'bad-input',
    });
    await expect(runDrill(inputs({ targets: ['mysql'] }), deps(workspace(DR), pass))).rejects.toThrow(
      "Input 'targets' names 'mysql'",
    );
    const root = workspace(DR);
    writeFileSync(join(root, 'drill.yaml'), 'dr:\n  rto: soon\n  rpo: 1h\n  targets: []\n');
    await expect(runDrill(inputs({ config: 'drill.yaml' }), deps(root, pass))).rejects.toThrow(
      "Input 'config' names",
    );
  });

  it('opens one issue on failure, comments on the next failure, closes it on success', async () => {
    const { stand, gh } = await github();
    const root = workspace(DR);
    const first = await runDrill(inputs({ issueOnFailure: true }), deps(root, fail, { github: gh }));
    const second = await runDrill(inputs({ issueOnFailure: true }), deps(root, fail, { github: gh }));
    expect(first.issueUrl).toBeDefined();
    expect(second.issueUrl).toBe(first.issueUrl);
    const third = await runDrill(inputs({ issueOnFailure: true }), deps(root, pass, { github: gh }));
    expect(third.issueUrl).toBe(first.issueUrl);
    const drillIssues = stand.state
      .repo('spark/spark-infra')
      .issues.filter((i) => i.labels.includes('dr-drill'));
    expect(drillIssues).toHaveLength(1);
    expect(drillIssues[0]?.state).toBe('closed');
    expect(stand.state.comments('spark/spark-infra', drillIssues[0]?.number ?? 0)).toHaveLength(2);
  });

  it('keeps its report and outputs when GitHub fails, and says so in the log', async () => {
    const { stand, gh } = await github(1);
    stand.state.failNext('GET', /\/issues$/, 500);
    const logged: string[] = [];
    const outcome = await runDrill(
      inputs({ issueOnFailure: true }),
      deps(workspace(DR), fail, { github: gh, log: (line) => logged.push(line) }),
    );
    expect(outcome.report.failureReason).toBe('restore-failed');
    expect(outcome.issueUrl).toBeUndefined();
    expect(logged.join('\n')).toContain("Could not update the drill's issue");
  });

  it('closes the issue only after a drill of every target', async () => {
    const { stand, gh } = await github();
    const root = workspace(DR);
    await runDrill(inputs({ issueOnFailure: true }), deps(root, fail, { github: gh }));
    await runDrill(inputs({ issueOnFailure: true, targets: ['etcd'] }), deps(root, pass, { github: gh }));
    expect(stand.state.repo('spark/spark-infra').issues.map((i) => i.state)).toEqual(['open']);
    await runDrill(inputs({ issueOnFailure: true }), deps(root, pass, { github: gh }));
    expect(stand.state.repo('spark/spark-infra').issues.map((i) => i.state)).toEqual(['closed']);
  });

  it('creates no issue when asked not to', async () => {
    const { stand, gh } = await github();
    await runDrill(inputs({ issueOnFailure: false }), deps(workspace(DR), fail, { github: gh }));
    expect(stand.requests).toEqual([]);
  });
});
