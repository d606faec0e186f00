// Real hosts without Docker, for the Ansible tests and the local environment (terraform/local): each is a
// copy of the cached Debian image (host-image.ts) booted with systemd as PID 1 in its own PID, mount, UTS,
// IPC and network namespaces (unshare + chroot), reached over a veth pair on a bridge of this machine, with
// sshd on its own address. stop() tears it down completely: the namespace's init is killed (and with it
// everything in the namespace), the veth goes with the namespace, and the root copy is removed.
//
// A test's host dies with the test process (the kernel kills it). A detached host (the local environment's)
// outlives the process that started it: it records itself in <dir>/host.json, and stopHostAt(dir) ends it
// from any later process.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { isPortOpen } from '../../actions/lib/free-port.js';
import { CACHE_ROOT, ensureHostImage } from './host-image.js';
import { onProcessExit, processAlive, requireTool, runTool, waitFor } from './system-tools.js';

/** Mounts a booted systemd expects, then systemd itself as the namespace's PID 1. */
const BOOT_SCRIPT = `
set -e
R="$1"
mount --make-rprivate /
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t tmpfs -o mode=755 tmpfs "$R/sys/fs/cgroup"
if [ -d /sys/fs/cgroup/unified ] || ! grep -q cgroup2 /proc/filesystems; then
  mkdir -p "$R/sys/fs/cgroup/systemd"
  mount -t cgroup -o none,name=systemd cgroup "$R/sys/fs/cgroup/systemd"
else
  mount -t cgroup2 cgroup2 "$R/sys/fs/cgroup"
fi
mount -t tmpfs -o mode=755 tmpfs "$R/dev"
for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
ln -sf pts/ptmx "$R/dev/ptmx"
mount -t tmpfs tmpfs "$R/dev/shm"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
hostname "$2"
export container=spark-test-host
exec chroot "$R" /lib/systemd/systemd --system
`;

/** Services the image has installed; the roles enable what a host needs, so they start disabled. */
const DISABLED_UNITS = [
  'prometheus-node-exporter.service',
  'docker-registry.service',
  'postgresql.service',
  'cron.service',
  'unattended-upgrades.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'e2scrub_all.timer',
  'fstrim.timer',
];

export interface HostNetwork {
  bridge: string;
  /** This machine's address on the bridge (the hosts' gateway). */
  gateway: string;
  prefix: number;
  /** The next free host address. */
  nextAddress(): string;
  stop(): Promise<void>;
}

export interface HostOptions {
  name: string;
  /** A public key for the `spark` user (sudo without password) that Ansible logs in as. */
  authorizedKey: string;
  /** The host's address on the network. Default: the network's next free one. */
  ip?: string;
  /** The folder for the host's root, log and host.json; it must not exist yet. Default: a new one in the cache. */
  dir?: string;
  /** Keep running after this process ends (stop it with stopHostAt). Default: die with this process. */
  detached?: boolean;
}

/** What a booted host records about itself in <dir>/host.json. */
export interface HostRecord {
  name: string;
  ip: string;
  /** The namespace's PID 1 and the unshare process that holds it. */
  pid: number;
  outer: number;
  root: string;
  knownHostsLine: string;
}

export const HOST_RECORD = 'host.json';

export interface NamespaceHost {
  name: string;
  ip: string;
  /** The root filesystem, seen from this machine. */
  root: string;
  /** The namespace's PID 1 (systemd) as seen from this machine. */
  pid: number;
  /** `<ip> <type> <key>`, for a known_hosts file. */
  knownHostsLine: string;
  /** Runs a command inside the host (all its namespaces), as root. */
  run(argv: readonly string[], options?: { timeoutMs?: number }): Promise<{ stdout: string; stderr: string }>;
  stop(): Promise<void>;
}

async function ip(args: readonly string[]) {
  return runTool(requireTool('ip'), args, { timeoutMs: 30_000 });
}

/** Whether a network interface of this name exists. */
export async function linkExists(name: string): Promise<boolean> {
  return ip(['link', 'show', 'dev', name]).then(
    () => true,
    () => false,
  );
}

/** Creates `bridge` with this machine's address `gateway/prefix` on it, unless it is already there. */
export async function ensureBridge(bridge: string, gateway: string, prefix: number): Promise<void> {
  if (!(await linkExists(bridge))) await ip(['link', 'add', bridge, 'type', 'bridge']);
  const addresses = (await ip(['-o', '-4', 'addr', 'show', 'dev', bridge])).stdout;
  if (!addresses.includes(` ${gateway}/${prefix} `))
    await ip(['addr', 'add', `${gateway}/${prefix}`, 'dev', bridge]);
  await ip(['link', 'set', bridge, 'up']);
}

/** Removes `bridge` if it exists (its hosts' veths go with their namespaces). */
export async function removeBridge(bridge: string): Promise<void> {
  if (await linkExists(bridge)) await ip(['link', 'del', bridge]);
}

/**
 * A bridge with a random private /24 (10.200.0.0 to 10.249.255.0) for the hosts of one test file. The local
 * environment's network (environments/local.yaml) lies outside that range.
 */
export async function startHostNetwork(): Promise<HostNetwork> {
  const used = (await ip(['-o', '-4', 'addr', 'show'])).stdout;
  let third = 0;
  let second = 0;
  do {
    second = 200 + (randomBytes(1).readUInt8(0) % 50);
    third = randomBytes(1).readUInt8(0) % 250;
  } while (used.includes(` 10.${second}.${third}.`));
  const bridge = `sparkbr${randomBytes(3).toString('hex')}`;
  const base = `10.${second}.${third}`;
  const unregister = onProcessExit(() => {
    spawn('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  });
  await ensureBridge(bridge, `${base}.1`, 24);
  let next = 10;
  return {
    bridge,
    gateway: `${base}.1`,
    prefix: 24,
    nextAddress: () => `${base}.${next++}`,
    async stop() {
      await ip(['link', 'del', bridge]).catch(() => undefined);
      unregister();
    },
  };
}

async function prepareRoot(root: string, name: string, ip: string, authorizedKey: string) {
  const inRoot = (argv: string[]) => runTool(requireTool('chroot'), [root, ...argv], { timeoutMs: 60_000 });
  writeFileSync(join(root, 'etc/hostname'), `${name}\n`);
  writeFileSync(join(root, 'etc/hosts'), `127.0.0.1 localhost\n${ip} ${name}\n`);
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  writeFileSync(join(root, 'etc/machine-id'), `${randomBytes(16).toString('hex')}\n`);
  await inRoot(['/bin/sh', '-c', 'rm -f /etc/ssh/ssh_host_* && ssh-keygen -A']);
  await inRoot(['useradd', '--create-home', '--shell', '/bin/bash', '--groups', 'sudo', 'spark']);
  writeFileSync(join(root, 'etc/sudoers.d/spark'), 'spark ALL=(ALL) NOPASSWD:ALL\n', { mode: 0o440 });
  mkdirSync(join(root, 'home/spark/.ssh'), { recursive: true });
  writeFileSync(join(root, 'home/spark/.ssh/authorized_keys'), `${authorizedKey.trim()}\n`, { mode: 0o600 });
  await inRoot(['chown', '-R', 'spark:spark', '/home/spark/.ssh']);
  await inRoot(['chmod', '700', '/home/spark/.ssh']);
  await inRoot(['systemctl', 'disable', '--quiet', ...DISABLED_UNITS]);
  await inRoot(['systemctl', 'mask', '--quiet', 'getty@tty1.service', 'console-getty.service']);
}

function killAll(pids: readonly number[]) {
  for (const p of pids) {
    try {
      if (p > 0) process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kills the host's namespace, waits for the kernel to reap it (its mounts and veth go with it), removes `dir`. */
async function endHost(pids: readonly number[], dir: string, log: string) {
  killAll(pids);
  for (const pid of pids) {
    await waitFor('the namespace to end', () => !processAlive(pid), 30_000, log).catch(() => undefined);
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Stops the host recorded in `dir` (by a detached startHost) and removes `dir`. Returns false when there was
 * no such host, so destroying twice is harmless.
 */
export async function stopHostAt(dir: string): Promise<boolean> {
  const recordPath = join(dir, HOST_RECORD);
  if (!existsSync(recordPath)) {
    const existed = existsSync(dir);
    rmSync(dir, { recursive: true, force: true });
    return existed;
  }
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as HostRecord;
  await endHost([record.pid, record.outer], dir, join(dir, 'boot.log'));
  return true;
}

/** The record of the host in `dir`, if it is there and its init is still running. */
export function runningHostAt(dir: string): HostRecord | undefined {
  const recordPath = join(dir, HOST_RECORD);
  if (!existsSync(recordPath)) return undefined;
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as HostRecord;
  return processAlive(record.pid) ? record : undefined;
}

function bootCommand(detached: boolean): string[] {
  const unshare = [
    requireTool('unshare'),
    '--pid',
    '--mount',
    '--uts',
    '--ipc',
    '--net',
    '--fork',
    '--kill-child',
    '--',
    '/bin/sh',
    '-c',
    BOOT_SCRIPT,
    'boot',
  ];
  return detached ? unshare : [requireTool('setpriv'), '--pdeathsig', 'SIGKILL', '--', ...unshare];
}

/** Where a host is wired: a bridge of this machine and its address on it. */
export type HostLink = Pick<HostNetwork, 'bridge' | 'gateway' | 'prefix'> &
  Partial<Pick<HostNetwork, 'nextAddress'>>;

/** Copies the image, boots it, wires it to `network` and waits for sshd. */
export async function startHost(network: HostLink, options: HostOptions): Promise<NamespaceHost> {
  const address = options.ip ?? network.nextAddress?.();
  if (address === undefined)
    throw new Error(`host ${options.name}: no ip given and the network hands out none`);
  const image = await ensureHostImage();
  let dir: string;
  if (options.dir !== undefined) {
    if (existsSync(options.dir)) throw new Error(`host ${options.name}: ${options.dir} already exists`);
    mkdirSync(options.dir, { recursive: true });
    dir = options.dir;
  } else {
    const runs = join(CACHE_ROOT, 'test-hosts', 'running');
    mkdirSync(runs, { recursive: true });
    dir = mkdtempSync(join(runs, `${options.name}-`));
  }
  const detached = options.detached === true;
  const root = join(dir, 'root');
  const log = join(dir, 'boot.log');
  let outer = 0;
  let pid = 0;
  let unregister: () => unknown = () => undefined;
  const stop = async () => {
    await endHost([pid, outer], dir, log);
    unregister();
  };
  try {
    await runTool(requireTool('cp'), ['-a', '--reflink=auto', image, root], { timeoutMs: 10 * 60_000 });
    await prepareRoot(root, options.name, address, options.authorizedKey);

    const out = openSync(log, 'a');
    let child: ChildProcess;
    try {
      const [file, ...args] = bootCommand(detached);
      child = spawn(file as string, [...args, root, options.name], { stdio: ['ignore', out, out], detached });
    } finally {
      closeSync(out);
    }
    outer = child.pid as number;
    if (detached) child.unref();
    else unregister = onProcessExit(() => killAll([pid, outer]));
    await waitFor(
      "the namespace's init",
      () => {
        const children = `/proc/${outer}/task/${outer}/children`;
        const text = existsSync(children) ? readFileSync(children, 'utf8').trim() : '';
        pid = Number(text.split(/\s+/)[0] ?? 0);
        return pid > 0;
      },
      30_000,
      log,
    );
    const hostSide = `vh${randomBytes(4).toString('hex')}`;
    const inner = `vc${randomBytes(4).toString('hex')}`;
    await ip(['link', 'add', hostSide, 'type', 'veth', 'peer', 'name', inner]);
    await ip(['link', 'set', hostSide, 'master', network.bridge, 'up']);
    await ip(['link', 'set', inner, 'netns', String(pid)]);
    const nsenter = requireTool('nsenter');
    const inNet = (args: string[]) => runTool(nsenter, ['--target', String(pid), '--net', 'ip', ...args]);
    await inNet(['link', 'set', 'lo', 'up']);
    await inNet(['link', 'set', inner, 'name', 'eth0']);
    await inNet(['addr', 'add', `${address}/${network.prefix}`, 'dev', 'eth0']);
    await inNet(['link', 'set', 'eth0', 'up']);
    await inNet(['route', 'add', 'default', 'via', network.gateway]);
    await waitFor(`sshd on ${address}:22`, () => isPortOpen(22, address), 90_000, log);
    const key = readFileSync(join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), 'utf8').trim().split(/\s+/);
    const record: HostRecord = {
      name: options.name,
      ip: address,
      pid,
      outer,
      root,
      knownHostsLine: `${address} ${key[0]} ${key[1]}`,
    };
    writeFileSync(join(dir, HOST_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    return {
      ...record,
      run: (argv, runOptions = {}) =>
        runTool(nsenter, ['--target', String(pid), '--all', '--root', '--wd', '--', ...argv], {
          timeoutMs: runOptions.timeoutMs ?? 60_000,
        }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
