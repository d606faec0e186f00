// Real hosts for the Ansible tests, without Docker: each is a copy of the cached Debian image (host-image.ts)
// booted with systemd as PID 1 in its own PID, mount, UTS, IPC and network namespaces (unshare + chroot),
// reached over a veth pair on a bridge of this machine, with sshd on its own address. stop() tears it
// down completely: the namespace's init is killed (and with it everything in the namespace), the veth goes
// with the namespace, and the root copy is removed. If the test process dies, the kernel kills the host too.
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
import { isPortOpen } from './free-port.js';
import { CACHE_ROOT, ensureHostImage } from './host-image.js';
import { onProcessExit, requireTool, runTool, waitForExit } from './tools.js';

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

export interface TestNetwork {
  bridge: string;
  /** This machine's address on the bridge (the hosts' gateway). */
  gateway: string;
  prefix: number;
  /** The next free host address. */
  nextAddress(): string;
  stop(): Promise<void>;
}

export interface TestHostOptions {
  name: string;
  /** A public key for the `spark` user (sudo without password) that Ansible logs in as. */
  authorizedKey: string;
}

export interface TestHost {
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

/** A bridge with a random private /24, for the hosts of one test file. */
export async function startTestNetwork(): Promise<TestNetwork> {
  const used = (await ip(['-o', '-4', 'addr', 'show'])).stdout;
  let third = 0;
  let second = 0;
  do {
    second = 200 + (randomBytes(1).readUInt8(0) % 50);
    third = randomBytes(1).readUInt8(0) % 250;
  } while (used.includes(` 10.${second}.${third}.`));
  const bridge = `sparkbr${randomBytes(3).toString('hex')}`;
  const base = `10.${second}.${third}`;
  await ip(['link', 'add', bridge, 'type', 'bridge']);
  const unregister = onProcessExit(() => {
    spawn('ip', ['link', 'del', bridge], { stdio: 'ignore' });
  });
  await ip(['addr', 'add', `${base}.1/24`, 'dev', bridge]);
  await ip(['link', 'set', bridge, 'up']);
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

async function waitFor(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  log: string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) {
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-30).join('\n') : '';
      throw new Error(`test host: timed out waiting for ${what}\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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

/** Copies the image, boots it, wires it to `network` and waits for sshd. */
export async function startTestHost(network: TestNetwork, options: TestHostOptions): Promise<TestHost> {
  const image = await ensureHostImage();
  const runs = join(CACHE_ROOT, 'test-hosts', 'running');
  mkdirSync(runs, { recursive: true });
  const dir = mkdtempSync(join(runs, `${options.name}-`));
  const root = join(dir, 'root');
  const log = join(dir, 'boot.log');
  const address = network.nextAddress();
  await runTool(requireTool('cp'), ['-a', '--reflink=auto', image, root], { timeoutMs: 10 * 60_000 });
  await prepareRoot(root, options.name, address, options.authorizedKey);

  const out = openSync(log, 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      requireTool('setpriv'),
      [
        '--pdeathsig',
        'SIGKILL',
        '--',
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
        root,
        options.name,
      ],
      { stdio: ['ignore', out, out] },
    );
  } finally {
    closeSync(out);
  }
  const outer = child.pid as number;
  let pid = 0;
  const kill = () => {
    for (const p of [pid, outer]) {
      try {
        if (p) process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const unregister = onProcessExit(kill);
  const stop = async () => {
    kill();
    await waitForExit(child, 30_000);
    // The kernel reaps the namespace asynchronously; the mounts go with it.
    await waitFor('the namespace to end', () => !existsSync(`/proc/${pid}`), 30_000, log).catch(
      () => undefined,
    );
    rmSync(dir, { recursive: true, force: true });
    unregister();
  };
  try {
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
    return {
      name: options.name,
      ip: address,
      root,
      pid,
      knownHostsLine: `${address} ${key[0]} ${key[1]}`,
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
