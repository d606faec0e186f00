// configure-hosts end to end: the bundled action, run as the runner runs it, applies the real playbooks over
// SSH to two real test hosts (systemd as PID 1 in their own namespaces), then checks the hosts themselves.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HostNetwork,
  type NamespaceHost,
  startHost,
  startHostNetwork,
} from '../scripts/lib/namespace-host.js';
import { requireTool, runTool } from '../scripts/lib/system-tools.js';
import { type ActionRun, runActionBundle } from './support/action-runner.js';
import { isPortOpen } from './support/free-port.js';
import { DEFAULT_REPO, type GitHubApi, startGitHubApi } from './support/github-api.js';
import { tempDir } from './support/temp-dir.js';

const VAULT_PASSWORD = 'Vault-Pw-Planted-9931';
const REGISTRY_PASSWORD = 'Registry-Pw-Planted-4412';
const WIREGUARD_KEY = 'WgPlantedPrivateKey0000000000000000000000000=';
const TOKEN = 'ghs_ConfigureToken0001';
const PR = 21;

let network: HostNetwork;
let hosts: NamespaceHost[] = [];
let api: GitHubApi;
let dir = '';
let sshKey = '';
let inventory = '';
let knownHosts = '';
let subnet = '';

function configure(
  inputs: Record<string, string> = {},
  options: { eventName?: string } = {},
): Promise<ActionRun> {
  const eventName = options.eventName ?? 'push';
  return runActionBundle('configure-hosts', {
    apiUrl: api.url,
    repository: DEFAULT_REPO,
    eventName,
    event:
      eventName === 'pull_request' ? { pull_request: { number: PR, head: { sha: 'c'.repeat(40) } } } : {},
    timeoutMs: 600_000,
    inputs: {
      environment: 'production',
      // The layers that need nothing but Debian's packages run for real; site.yml is dry-run below.
      playbook: 'ansible/playbooks/foundation.yml',
      inventory,
      'known-hosts': knownHosts,
      'ssh-private-key': sshKey,
      'vault-password': VAULT_PASSWORD,
      'github-token': TOKEN,
      'extra-vars': `spark_internal_networks: ["${subnet}"]`,
      ...inputs,
    },
  });
}

function expectNoSecrets(result: ActionRun) {
  const everything = [
    result.everythingWritten(),
    ...api.state.repo(DEFAULT_REPO).comments.map((c) => c.body),
  ].join('\n');
  const keyBody = sshKey.split('\n')[1] ?? '';
  for (const secret of [VAULT_PASSWORD, REGISTRY_PASSWORD, TOKEN, keyBody, WIREGUARD_KEY]) {
    expect(secret.length).toBeGreaterThan(10);
    const at = everything.indexOf(secret);
    expect(
      at === -1 ? '' : `found ${secret.slice(0, 8)}… in: ${everything.slice(Math.max(0, at - 200), at)}`,
    ).toBe('');
  }
}

const [observer, executor] = [() => hosts[0] as NamespaceHost, () => hosts[1] as NamespaceHost];

beforeAll(async () => {
  requireTool('ansible-playbook');
  dir = tempDir('spark-configure-');
  await runTool(requireTool('ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')]);
  sshKey = readFileSync(join(dir, 'id_ed25519'), 'utf8');
  const publicKey = readFileSync(join(dir, 'id_ed25519.pub'), 'utf8');
  network = await startHostNetwork();
  subnet = `${network.gateway.replace(/\.1$/, '.0')}/${network.prefix}`;
  hosts = await Promise.all(
    ['spark-observer', 'spark-executor-01'].map((name) =>
      startHost(network, { name, authorizedKey: publicKey }),
    ),
  );
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${hosts.map((h) => h.knownHostsLine).join('\n')}\n`);
  inventory = join(dir, 'inventory.yml');
  writeFileSync(
    inventory,
    [
      'all:',
      '  hosts:',
      ...hosts.flatMap((h) => [`    ${h.name}:`, `      ansible_host: ${h.ip}`]),
      '  children:',
      '    monitoring:',
      '      hosts:',
      '        spark-observer:',
      '    worker:',
      '      hosts:',
      '        spark-executor-01:',
      '    registry:',
      '      hosts:',
      '        spark-executor-01:',
      '    platform_db:',
      '      hosts:',
      '        spark-observer:',
      '',
    ].join('\n'),
  );
  // The registry's users come from an Ansible Vault file beside the inventory, encrypted with the planted password.
  mkdirSync(join(dir, 'group_vars', 'registry'), { recursive: true });
  const vault = join(dir, 'group_vars', 'registry', 'vault.yml');
  writeFileSync(
    vault,
    `vault_registry_htpasswd_users:\n  - name: spark-ci\n    password: ${REGISTRY_PASSWORD}\n`,
  );
  writeFileSync(join(dir, 'vault-pass'), VAULT_PASSWORD);
  await runTool(requireTool('ansible-vault'), [
    'encrypt',
    '--vault-password-file',
    join(dir, 'vault-pass'),
    vault,
  ]);
  expect(readFileSync(vault, 'utf8')).toMatch(/^\$ANSIBLE_VAULT;1.1;AES256/);
  api = await startGitHubApi({
    repos: { [DEFAULT_REPO]: { pulls: [{ number: PR, headSha: 'c'.repeat(40) }] } },
  });
}, 1_800_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await network?.stop();
  await api?.close();
});

describe('configure-hosts on real hosts', () => {
  it('in check mode on a pull request changes nothing and comments what would change', async () => {
    const result = await configure({}, { eventName: 'pull_request' });
    expect(result.outputs['failure-reason']).toBe('');
    expect(result.exitCode).toBe(0);
    expect(Number(result.outputs.changed)).toBeGreaterThan(0);
    expect(await isPortOpen(9100, observer().ip)).toBe(false);
    expect((await observer().run(['ufw', 'status'])).stdout).toContain('Status: inactive');
    const comment = api.state.comments(DEFAULT_REPO, PR)[0]?.body ?? '';
    expect(comment).toMatch(/^<!-- spark:configure-hosts:production /);
    expect(comment).toContain('Ansible dry run (check + diff)');
    expect(comment).toContain('#### Would change');
    expect(comment).toContain(
      '<summary>spark-observer: hardening : Configure sshd for keys only and no root login</summary>',
    );
    expect(comment).toContain('+PermitRootLogin no');
    expect(comment).toContain('+++ /etc/default/prometheus-node-exporter');
    expect(comment).not.toContain('.ansible/tmp');
    expectNoSecrets(result);
  }, 600_000);

  it('for real configures both hosts, with counts that match the recap', async () => {
    const result = await configure();
    expect(result.outputs['failure-reason']).toBe('');
    expect(result.exitCode).toBe(0);
    const perHost = JSON.parse(result.outputs['hosts-json'] as string) as Record<
      string,
      { changed: number; failed: number }
    >;
    expect(Object.keys(perHost).sort()).toEqual(['spark-executor-01', 'spark-observer']);
    expect(Number(result.outputs.changed)).toBe(Object.values(perHost).reduce((n, h) => n + h.changed, 0));
    expect(Number(result.outputs.failed)).toBe(0);
    expect(result.summary).toContain('| 🟡 `spark-observer` |');
    expectNoSecrets(result);
  }, 600_000);

  it('leaves working hosts: node-exporter answers on 9100, sshd takes keys only, UFW blocks what was not opened', async () => {
    for (const host of hosts) {
      const metrics = await fetch(`http://${host.ip}:9100/metrics`).then((r) => r.text());
      expect(metrics).toContain('node_cpu_seconds_total');
      expect((await host.run(['sshd', '-T'])).stdout).toMatch(/^permitrootlogin no$/m);
      expect((await host.run(['sshd', '-T'])).stdout).toMatch(/^passwordauthentication no$/m);
    }
    const host = executor();
    await host.run(['sh', '-c', 'nohup python3 -m http.server 8080 >/dev/null 2>&1 &']);
    await host.run([
      'python3',
      '-c',
      'import socket,time\nfor _ in range(50):\n  try:\n    socket.create_connection(("127.0.0.1",8080),1); break\n  except OSError: time.sleep(0.1)\nelse: raise SystemExit(1)',
    ]);
    expect(await isPortOpen(8080, host.ip)).toBe(false);
    expect(await isPortOpen(22, host.ip)).toBe(true);
    // The executor opens no monitoring ports; the observer does, to the internal network only.
    expect((await host.run(['ufw', 'status'])).stdout).not.toContain('9090');
    expect((await observer().run(['ufw', 'status'])).stdout).toMatch(
      new RegExp(`9090/tcp +ALLOW +${subnet.replace(/\./g, '\\.')}`),
    );
  }, 120_000);

  it('runs the registry with TLS and the users from the vault', async () => {
    const host = executor();
    const ca = readFileSync(join(host.root, 'etc/docker/registry/tls/registry.crt'), 'utf8');
    const get = (auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: host.ip,
            port: 5000,
            path: '/v2/',
            ca,
            servername: host.name,
            headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await get()).toBe(401);
    expect(await get('spark-ci:wrong')).toBe(401);
    expect(await get(`spark-ci:${REGISTRY_PASSWORD}`)).toBe(200);
  }, 60_000);

  it("archives the platform database's WAL and takes base backups where the DR drill looks", async () => {
    const host = observer();
    const sql = (query: string) => host.run(['su', 'postgres', '-c', `psql -XAtc "${query}"`]);
    expect((await host.run(['systemctl', 'is-enabled', 'spark-pg-basebackup.timer'])).stdout.trim()).toBe(
      'enabled',
    );
    await sql('CREATE TABLE IF NOT EXISTS drill(id int); INSERT INTO drill VALUES (1)');
    const segment = (await sql('SELECT pg_walfile_name(pg_switch_wal())')).stdout.trim();
    const archived = join(host.root, 'srv/backup/pg/wal', segment);
    const deadline = Date.now() + 60_000;
    while (!existsSync(archived) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(archived)).toBe(true);
    await host.run(['systemctl', 'start', 'spark-pg-basebackup.service'], { timeoutMs: 120_000 });
    const backups = readdirSync(join(host.root, 'srv/backup/pg/base'));
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^\d{8}T\d{6}Z$/);
    expect(existsSync(join(host.root, 'srv/backup/pg/base', backups[0] as string, 'backup_manifest'))).toBe(
      true,
    );
  }, 180_000);

  it('is idempotent: a second run changes nothing', async () => {
    const result = await configure();
    expect(result.exitCode).toBe(0);
    expect(result.outputs.changed).toBe('0');
  }, 600_000);

  it('dry-runs every other layer (Kubernetes, monitoring, logging, runner, VPN) with their downloads left out', async () => {
    const wide = join(dir, 'wide.yml');
    const groups: Record<string, string[]> = {
      control_plane: ['spark-observer'],
      monitoring: ['spark-observer'],
      logging: ['spark-observer'],
      vpn: ['spark-observer'],
      worker: ['spark-executor-01'],
      ci_runner: ['spark-executor-01'],
    };
    writeFileSync(
      wide,
      [
        'all:',
        '  hosts:',
        ...hosts.flatMap((h) => [`    ${h.name}:`, `      ansible_host: ${h.ip}`]),
        '  children:',
        ...Object.entries(groups).flatMap(([group, members]) => [
          `    ${group}:`,
          '      hosts:',
          ...members.map((m) => `        ${m}:`),
        ]),
        '',
      ].join('\n'),
    );
    const result = await configure({
      playbook: 'ansible/playbooks/site.yml',
      inventory: wide,
      check: 'true',
      'skip-tags': 'download',
      'extra-vars': `{spark_internal_networks: ["${subnet}"], vault_wireguard_private_keys: {spark-observer: ${WIREGUARD_KEY}}}`,
    });
    expect(result.outputs['failure-reason']).toBe('');
    expect(result.exitCode).toBe(0);
    expect(Number(result.outputs.changed)).toBeGreaterThan(0);
    expect(result.summary).toContain('containerd : Configure containerd');
    expect(result.summary).toContain('wireguard : Configure the interface');
    for (const path of [
      'etc/containerd/config.toml',
      'etc/wireguard/wg0.conf',
      'etc/sysctl.d/99-kubernetes.conf',
    ]) {
      expect(existsSync(join(observer().root, path)) || existsSync(join(executor().root, path))).toBe(false);
    }
    expectNoSecrets(result);
  }, 600_000);

  it('reports a failing task with failed-tasks, the failed host and an annotation', async () => {
    const result = await configure({ playbook: 'test/fixtures/ansible/failing.yml' });
    expect(result.outputs['failure-reason']).toBe('failed-tasks');
    expect(result.outputs['failed-hosts']).toBe('spark-executor-01');
    const annotation = result.annotations.find(
      (a) => a.properties.title === 'spark-executor-01: Fail on the executor',
    );
    expect(annotation?.properties.file).toBe('test/fixtures/ansible/failing.yml');
    expect(result.summary).toContain('**failed** `spark-executor-01`: Fail on the executor');
  }, 300_000);

  it('reports an unreachable host', async () => {
    const lost = join(dir, 'lost.yml');
    writeFileSync(
      lost,
      `all:\n  hosts:\n    spark-lost:\n      ansible_host: ${network.gateway.replace(/\.1$/, '.250')}\n`,
    );
    const result = await configure({ inventory: lost, 'host-key-checking': 'true' });
    expect(result.outputs['failure-reason']).toBe('unreachable');
    expect(result.outputs['failed-hosts']).toBe('spark-lost');
    expectNoSecrets(result);
  }, 300_000);

  it('refuses a missing known-hosts file before touching any host', async () => {
    const result = await configure({ 'known-hosts': join(dir, 'no-such-known-hosts') });
    expect(result.outputs['failure-reason']).toBe('bad-input');
    expect(result.log).toContain("Input 'known-hosts' is");
    expect(result.log).toContain('which does not exist');
    expect(result.log).not.toContain('ansible-playbook');
  }, 60_000);
});
