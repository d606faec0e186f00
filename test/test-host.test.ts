// The test hosts themselves: booted with systemd as PID 1 in their own namespaces, reachable over SSH on
// their own addresses, and gone without a trace after stop().
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HostNetwork,
  type NamespaceHost,
  startHost,
  startHostNetwork,
} from '../scripts/lib/namespace-host.js';
import { requireTool, runTool } from '../scripts/lib/system-tools.js';
import { tempDir } from './support/temp-dir.js';

let network: HostNetwork;
let hosts: NamespaceHost[] = [];
let dir = '';

async function ssh(host: NamespaceHost, command: string) {
  return runTool(requireTool('ssh'), [
    '-i',
    join(dir, 'id_ed25519'),
    '-o',
    `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    `spark@${host.ip}`,
    command,
  ]);
}

beforeAll(async () => {
  dir = tempDir('spark-test-host-');
  await runTool(requireTool('ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id_ed25519')]);
  const key = readFileSync(join(dir, 'id_ed25519.pub'), 'utf8');
  network = await startHostNetwork();
  hosts = await Promise.all(
    ['spark-alpha', 'spark-beta'].map((name) => startHost(network, { name, authorizedKey: key })),
  );
  writeFileSync(join(dir, 'known_hosts'), `${hosts.map((h) => h.knownHostsLine).join('\n')}\n`);
}, 1_800_000);

afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  await network?.stop();
});

describe('a test host', () => {
  it('runs systemd as PID 1 and answers over SSH with its own name and host key', async () => {
    for (const host of hosts) {
      expect((await ssh(host, 'hostname')).stdout.trim()).toBe(host.name);
      expect((await ssh(host, 'ps -o comm= -p 1')).stdout.trim()).toBe('systemd');
      expect((await ssh(host, 'sudo -n id -u')).stdout.trim()).toBe('0');
      const state = await host
        .run(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 120_000 })
        .catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
      expect(['running', 'degraded']).toContain(state.stdout.trim());
    }
    expect(hosts[0]?.knownHostsLine).not.toBe(hosts[1]?.knownHostsLine);
  }, 300_000);

  it('has its own network: the hosts reach each other, and nothing else listens on their addresses', async () => {
    const [alpha, beta] = hosts as [NamespaceHost, NamespaceHost];
    await ssh(alpha, `bash -c 'exec 3<>/dev/tcp/${beta.ip}/22 && echo reached'`).then((r) =>
      expect(r.stdout).toContain('reached'),
    );
    expect((await alpha.run(['ip', '-o', '-4', 'addr', 'show', 'eth0'])).stdout).toContain(`${alpha.ip}/24`);
  }, 120_000);

  it('leaves nothing behind when stopped', async () => {
    const host = hosts.pop() as NamespaceHost;
    await host.stop();
    expect(existsSync(`/proc/${host.pid}`)).toBe(false);
    expect(existsSync(host.root)).toBe(false);
    const links = (await runTool(requireTool('ip'), ['-o', 'link', 'show', 'master', network.bridge])).stdout;
    expect(links.trim().split('\n').filter(Boolean)).toHaveLength(1);
  }, 120_000);
});
