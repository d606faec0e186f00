// The root filesystem every test host boots from: a debootstrapped Debian with systemd, sshd, Python for
// Ansible, and the packages the roles manage (installed ahead, since the hosts have no route to a mirror).
// Built once per package list and cached outside the checkout, so later runs and fresh clones reuse it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, runTool } from './system-tools.js';

export const SUITE = 'bookworm';
export const MIRROR = process.env.SPARK_DEBIAN_MIRROR || 'http://deb.debian.org/debian';

/** What the roles need on a host. Changing the list builds a new image. */
export const IMAGE_PACKAGES = [
  'systemd',
  'systemd-sysv',
  'systemd-timesyncd',
  'dbus',
  'openssh-server',
  'sudo',
  'python3',
  'python3-apt',
  'iproute2',
  'ufw',
  'iptables',
  'unattended-upgrades',
  'prometheus-node-exporter',
  'docker-registry',
  'apache2-utils',
  'openssl',
  'ca-certificates',
  'postgresql-15',
  'etcd-client',
  'cron',
  'less',
] as const;

export const CACHE_ROOT = process.env.SPARK_TEST_CACHE || '/var/cache/spark-infra';

export function imageKey(packages: readonly string[] = IMAGE_PACKAGES): string {
  return createHash('sha256')
    .update(JSON.stringify({ suite: SUITE, packages: [...packages].sort(), format: 1 }))
    .digest('hex')
    .slice(0, 12);
}

/** The cached root of the image for `packages`, built first if missing (about 5 minutes, once). */
export async function ensureHostImage(packages: readonly string[] = IMAGE_PACKAGES): Promise<string> {
  const dir = join(CACHE_ROOT, 'test-hosts', `${SUITE}-${imageKey(packages)}`);
  const rootfs = join(dir, 'rootfs');
  if (existsSync(join(dir, 'complete'))) return rootfs;
  const debootstrap = requireTool('debootstrap');
  mkdirSync(dir, { recursive: true });
  // Several test files may ask at once: the first to create the lock folder builds, the others wait.
  const lock = join(dir, 'building');
  let building = false;
  try {
    mkdirSync(lock);
    building = true;
  } catch {
    const deadline = Date.now() + 20 * 60_000;
    while (!existsSync(join(dir, 'complete'))) {
      if (Date.now() > deadline)
        throw new Error(`waited 20 min for another process to build ${rootfs}; remove ${lock} if it died`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    return rootfs;
  }
  try {
    const partial = join(dir, 'rootfs.partial');
    rmSync(partial, { recursive: true, force: true });
    await runTool(
      debootstrap,
      ['--variant=minbase', `--include=${packages.join(',')}`, SUITE, partial, MIRROR],
      { timeoutMs: 30 * 60_000 },
    );
    rmSync(rootfs, { recursive: true, force: true });
    renameSync(partial, rootfs);
    writeFileSync(join(dir, 'complete'), `${new Date().toISOString()}\n`);
    return rootfs;
  } finally {
    if (building) rmSync(lock, { recursive: true, force: true });
  }
}
