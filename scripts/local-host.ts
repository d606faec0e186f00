/**
 * The local environment's "hypervisor": boots and stops the hosts of environments/local.yaml on this machine,
 * with the same namespace hosts the Ansible tests use (lib/namespace-host.ts). terraform/local calls it from
 * its create-time and destroy-time local-exec provisioners; `npm run rehearse` uses `list`.
 *
 *   local-host.ts network-up   --bridge B --gateway G --prefix P
 *   local-host.ts network-down --bridge B
 *   local-host.ts create  --name N --ip A --bridge B --gateway G --prefix P   (key in SPARK_HOST_AUTHORIZED_KEY)
 *   local-host.ts destroy --name N
 *   local-host.ts list
 *
 * Each host lives in <local dir>/hosts/<name>: its root filesystem, boot log and host.json. Must run as root.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_HOSTS_DIR } from './lib/local-paths.js';
import { ensureBridge, removeBridge, runningHostAt, startHost, stopHostAt } from './lib/namespace-host.js';

const USAGE = `usage: local-host.ts network-up --bridge B --gateway G --prefix P
       local-host.ts network-down --bridge B
       local-host.ts create --name N --ip A --bridge B --gateway G --prefix P
       local-host.ts destroy --name N
       local-host.ts list
create reads the spark user's public key from SPARK_HOST_AUTHORIZED_KEY. Runs as root.`;

class UsageError extends Error {}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const BRIDGE = /^[a-z][a-z0-9]{0,14}$/;

function option(
  values: Record<string, string | boolean | undefined>,
  name: string,
  pattern: RegExp,
  allowed: string,
) {
  const value = values[name];
  if (typeof value !== 'string') throw new UsageError(`--${name} is required`);
  if (!pattern.test(value)) throw new UsageError(`--${name} is '${value}'; allowed: ${allowed}`);
  return value;
}

function prefixOption(values: Record<string, string | boolean | undefined>) {
  const prefix = Number(option(values, 'prefix', /^\d{1,2}$/, 'a prefix length from 8 to 30'));
  if (prefix < 8 || prefix > 30) throw new UsageError(`--prefix is ${prefix}; allowed: 8 to 30`);
  return prefix;
}

const say = (line: string) => process.stdout.write(`local-host: ${line}\n`);

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      ip: { type: 'string' },
      bridge: { type: 'string' },
      gateway: { type: 'string' },
      prefix: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const [command, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (process.getuid?.() !== 0) throw new UsageError('must run as root (it creates namespaces and a bridge)');
  const name = () => option(values, 'name', NAME, 'a host name of a-z, 0-9 and -');
  const bridge = () => option(values, 'bridge', BRIDGE, 'a-z and 0-9, at most 15 characters');
  const address = (key: 'ip' | 'gateway') =>
    option(values, key, IPV4, 'an IPv4 address such as 10.250.77.11');
  switch (command) {
    case 'network-up': {
      const [b, gateway, prefix] = [bridge(), address('gateway'), prefixOption(values)];
      await ensureBridge(b, gateway, prefix);
      say(`bridge ${b} is up with ${gateway}/${prefix}`);
      return;
    }
    case 'network-down': {
      const b = bridge();
      await removeBridge(b);
      say(`bridge ${b} is gone`);
      return;
    }
    case 'create': {
      const [host, ip, b, gateway, prefix] = [
        name(),
        address('ip'),
        bridge(),
        address('gateway'),
        prefixOption(values),
      ];
      const key = process.env.SPARK_HOST_AUTHORIZED_KEY?.trim();
      if (!key)
        throw new UsageError(
          'SPARK_HOST_AUTHORIZED_KEY is empty; give the public key the spark user accepts',
        );
      const dir = join(LOCAL_HOSTS_DIR, host);
      // Terraform creates only what its state lacks: a host left from a lost state is replaced, not doubled.
      if (existsSync(dir)) {
        say(`${host}: replacing what was left in ${dir}`);
        await stopHostAt(dir);
      }
      say(`${host}: booting at ${ip} on ${b}`);
      await ensureBridge(b, gateway, prefix);
      const booted = await startHost(
        { bridge: b, gateway, prefix },
        { name: host, ip, authorizedKey: key, dir, detached: true },
      );
      say(`${host}: up at ${booted.ip}, systemd pid ${booted.pid}, sshd answering`);
      return;
    }
    case 'destroy': {
      const host = name();
      const stopped = await stopHostAt(join(LOCAL_HOSTS_DIR, host));
      say(stopped ? `${host}: stopped and its disk deleted` : `${host}: was not running`);
      return;
    }
    case 'list': {
      const names = existsSync(LOCAL_HOSTS_DIR) ? readdirSync(LOCAL_HOSTS_DIR).sort() : [];
      for (const host of names) {
        const record = runningHostAt(join(LOCAL_HOSTS_DIR, host));
        process.stdout.write(`${host}\t${record ? `${record.ip}\trunning` : '-\tstopped'}\n`);
      }
      return;
    }
    default:
      throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`local-host: ${message}\n`);
  if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
