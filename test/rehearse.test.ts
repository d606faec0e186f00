// `npm run rehearse` end to end, as a newcomer runs it: real hosts, real Terraform with state in PostgreSQL,
// real Ansible, a real drill. A --keep run, then removing a host from the environment really destroys it,
// then a plain run that reuses what was kept, recreates the missing host, and leaves nothing running.
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { isPortOpen } from '../actions/lib/free-port.js';
import { LOCAL_DIR, LOCAL_HOSTS_DIR, LOCAL_SSH_KEY } from '../scripts/lib/local-paths.js';
import { connectionString, ETCD, PLATFORM_DB, STATE_DB } from '../scripts/lib/local-services.js';
import { requireTool, runTool } from '../scripts/lib/system-tools.js';
import { repoRoot } from './support/action-runner.js';

interface Report {
  passed: boolean;
  dir: string;
  plan?: { add: number; change: number; replace: number; destroy: number };
  hosts: { name: string; ip: string; role: string }[];
  check?: { failed: number; unreachable: number };
  configure?: { ok: number; changed: number; failed: number; unreachable: number };
  drill?: { status: string; rtoSeconds: number; rpoSeconds: number };
  steps: { name: string; ok: boolean }[];
}

const local = parseYaml(readFileSync(join(repoRoot, 'environments/local.yaml'), 'utf8')) as {
  network: { bridge: string; gateway: string };
  hosts: { name: string; ip: string }[];
};
const hostNames = local.hosts.map((h) => h.name).sort();
const gateway = local.network.gateway;

function rehearse(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      join(repoRoot, 'node_modules/.bin/tsx'),
      [join(repoRoot, 'scripts/rehearse.ts'), ...args],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** The report of the run whose output this is (its folder is named in the report's Files line). */
function reportOf(stdout: string): Report {
  const dir = /^Files: +(\S+)\/ /m.exec(stdout)?.[1];
  if (!dir) throw new Error(`no Files line in:\n${stdout.slice(-3000)}`);
  return JSON.parse(readFileSync(join(repoRoot, dir, 'report.json'), 'utf8')) as Report;
}

const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

async function bridgeExists(): Promise<boolean> {
  return runTool(requireTool('ip'), ['link', 'show', 'dev', local.network.bridge]).then(
    () => true,
    () => false,
  );
}

async function localProcesses(): Promise<string[]> {
  return (await runTool('ps', ['-eo', 'args='])).stdout
    .split('\n')
    .filter((line) => line.includes(LOCAL_DIR) && !line.startsWith('ps '));
}

const workspaces: string[] = [];
afterAll(async () => {
  // Whatever a failed assertion left behind.
  if (existsSync(LOCAL_HOSTS_DIR) || (await bridgeExists())) await rehearse(['--down']);
  for (const dir of workspaces) rmSync(dir, { recursive: true, force: true });
}, 300_000);

describe('npm run rehearse', () => {
  it('explains its options and what is real with --help', async () => {
    const { code, stdout } = await rehearse(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--keep');
    expect(stdout).toContain('--down');
    expect(stdout).toMatch(/Left to the real platform: Proxmox.*GitHub API.*Kubernetes and Argo CD/s);
  });

  it('refuses an unknown option, names the allowed ones, and changes nothing', async () => {
    const before = [listing(LOCAL_DIR), listing(join(repoRoot, 'rehearsal'))];
    const { code, stderr } = await rehearse(['--fast']);
    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--fast'");
    expect(stderr).toContain('usage: npm run rehearse [-- --keep | --down | --help]');
    // Refused before anything started: no service, host or rehearsal folder.
    expect([listing(LOCAL_DIR), listing(join(repoRoot, 'rehearsal'))]).toEqual(before);
  });

  it(
    'runs with --keep, destroys a host removed from the environment, then runs again and cleans up',
    async () => {
      // 1. --keep: everything passes, and the hosts and services stay up.
      const kept = await rehearse(['--keep']);
      const first = reportOf(kept.stdout);
      expect(kept.code, kept.stdout.slice(-4000)).toBe(0);
      expect(first.passed).toBe(true);
      expect(first.hosts.map((h) => h.name).sort()).toEqual(hostNames);
      expect(first.configure).toMatchObject({ failed: 0, unreachable: 0 });
      expect(first.check).toMatchObject({ failed: 0, unreachable: 0 });
      expect(first.drill?.status).toBe('pass');
      for (const step of [
        'plan-infra',
        'apply-infra',
        'configure-hosts (check)',
        'configure-hosts',
        'dr-drill',
      ]) {
        expect(first.steps.find((s) => s.name === step)?.ok, step).toBe(true);
        expect(
          existsSync(
            join(repoRoot, first.dir, step.replace(/[^a-z0-9-]+/g, '-').replace(/-$/, ''), 'summary.md'),
          ),
        ).toBe(true);
      }
      expect(readFileSync(join(repoRoot, first.dir, 'dr-drill', 'summary.md'), 'utf8')).toContain(
        'DR drill passed',
      );
      expect(kept.stdout).toContain('Kept running (--keep)');
      for (const host of local.hosts) {
        expect(await isPortOpen(22, host.ip), host.name).toBe(true);
        expect(kept.stdout).toContain(`spark@${host.ip}`);
      }
      for (const port of [STATE_DB.port, PLATFORM_DB.port, ETCD.clientPort])
        expect(await isPortOpen(port, '127.0.0.1')).toBe(true);

      // 2. The same root on a copy of the repository whose local.yaml lacks the executor: applying it destroys that
      // host for real (its destroy-time provisioner), and leaves the others alone.
      const removed = local.hosts.find((h) => h.name.includes('executor')) as { name: string; ip: string };
      const workspace = mkdtempSync(join(tmpdir(), 'spark-rehearse-'));
      workspaces.push(workspace);
      cpSync(join(repoRoot, 'terraform'), join(workspace, 'terraform'), {
        recursive: true,
        filter: (src) => !src.includes('.terraform'),
      });
      for (const dir of ['scripts', 'node_modules']) symlinkSync(join(repoRoot, dir), join(workspace, dir));
      const env = readFileSync(join(repoRoot, 'environments/local.yaml'), 'utf8');
      const shrunk = env.replace(
        new RegExp(`\\n  - name: ${removed.name}\\n(?:    .*\\n|\\n(?!  - ))*`),
        '\n',
      );
      expect(shrunk).not.toContain(removed.name);
      cpSync(join(repoRoot, 'environments'), join(workspace, 'environments'), { recursive: true });
      writeFileSync(join(workspace, 'environments/local.yaml'), shrunk);
      const terraform = requireTool('terraform');
      const tfEnv = {
        ...process.env,
        TF_VAR_ssh_public_keys: JSON.stringify([readFileSync(`${LOCAL_SSH_KEY}.pub`, 'utf8').trim()]),
      };
      const chdir = `-chdir=${join(workspace, 'terraform/local')}`;
      await runTool(
        terraform,
        [
          chdir,
          'init',
          '-input=false',
          `-backend-config=conn_str=${connectionString(STATE_DB)}`,
          '-backend-config=schema_name=terraform_local',
        ],
        { env: tfEnv, timeoutMs: 120_000 },
      );
      const applied = await runTool(
        terraform,
        [chdir, 'apply', '-auto-approve', '-input=false', '-no-color'],
        {
          env: tfEnv,
          timeoutMs: 300_000,
        },
      );
      expect(applied.stdout).toContain(`terraform_data.host["${removed.name}"]: Destruction complete`);
      expect(applied.stdout).toContain('0 added, 0 changed, 1 destroyed');
      expect(await isPortOpen(22, removed.ip)).toBe(false);
      expect(existsSync(join(LOCAL_HOSTS_DIR, removed.name))).toBe(false);
      for (const host of local.hosts.filter((h) => h !== removed))
        expect(await isPortOpen(22, host.ip)).toBe(true);

      // 3. A plain run reuses the kept services and hosts, makes the missing host again, passes, and cleans up.
      const plain = await rehearse([]);
      const second = reportOf(plain.stdout);
      expect(plain.code, plain.stdout.slice(-4000)).toBe(0);
      expect(second.passed).toBe(true);
      expect(second.plan).toEqual({ add: 1, change: 0, replace: 0, destroy: 0 });
      expect(second.hosts.map((h) => h.name).sort()).toEqual(hostNames);
      expect(second.configure).toMatchObject({ failed: 0, unreachable: 0 });
      expect(second.drill?.status).toBe('pass');
      expect(plain.stdout).toContain('reusing state-db');
      expect(plain.stdout).toContain('nothing left running');

      // Nothing left: no host, bridge, server or process of the local environment.
      expect(existsSync(LOCAL_HOSTS_DIR)).toBe(false);
      expect(await bridgeExists()).toBe(false);
      // (No port probe here: without the bridge, a connection to a host's address leaves by the default route.)
      expect((await runTool(requireTool('ip'), ['-o', '-4', 'addr', 'show'])).stdout).not.toContain(
        ` ${gateway}/`,
      );
      for (const port of [STATE_DB.port, PLATFORM_DB.port, ETCD.clientPort])
        expect(await isPortOpen(port, '127.0.0.1')).toBe(false);
      expect(await localProcesses()).toEqual([]);
      expect(readdirSync(LOCAL_DIR).sort()).toEqual(['ssh']);
    },
    40 * 60_000,
  );
});
