// A real single-member etcd for tests, on free loopback client and peer ports, data in a fresh temp dir.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { etcdctlEnv, isEtcdHealthy, singleMemberArgs } from '../../actions/lib/etcd-member.js';
import {
  hasExited,
  makeServerTempDir,
  onProcessExit,
  requireTool,
  runTool,
  spawnDaemon,
  stopDaemon,
} from '../../scripts/lib/system-tools.js';
import { freePort } from './free-port.js';

export interface EtcdServer {
  /** e.g. http://127.0.0.1:41234 */
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly name: string;
  /** etcd's process id. */
  readonly pid: number;
  readonly dataDir: string;
  /** etcd's own log (zap, JSON lines). */
  readonly logFile: string;
  /** Runs etcdctl (API v3) against this server; returns stdout. */
  etcdctl(args: readonly string[]): Promise<string>;
  /** Stops etcd and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a fresh etcd. Always pair with stop(); a process exit without it still kills the server. */
export async function startEtcd(): Promise<EtcdServer> {
  const etcd = requireTool('etcd');
  const etcdctlPath = requireTool('etcdctl');
  const baseDir = makeServerTempDir('spark-etcd-');
  let removeExitHook = onProcessExit(() => rmSync(baseDir, { recursive: true, force: true }));
  try {
    const dataDir = join(baseDir, 'data');
    const logFile = join(baseDir, 'etcd.log');
    const name = 'spark-test';
    for (let attempt = 1; ; attempt++) {
      const clientUrl = `http://127.0.0.1:${await freePort()}`;
      const peerUrl = `http://127.0.0.1:${await freePort()}`;
      rmSync(dataDir, { recursive: true, force: true });
      const child = spawnDaemon(
        etcd,
        [
          ...singleMemberArgs({ name, dataDir, clientUrl, peerUrl }),
          '--initial-cluster-state',
          'new',
          '--initial-cluster-token',
          `spark-test-${process.pid}-${attempt}`,
          '--logger',
          'zap',
          '--log-outputs',
          'stderr',
        ],
        { cwd: baseDir, logFile, parentDeathSignal: 'SIGTERM' },
      );
      removeExitHook();
      removeExitHook = onProcessExit(() => {
        if (!hasExited(child)) child.kill('SIGKILL');
        rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
      });

      let state: 'ready' | 'died' | 'timeout' = 'timeout';
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (hasExited(child)) {
          state = 'died';
          break;
        }
        if (await isEtcdHealthy(clientUrl)) {
          state = 'ready';
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (state !== 'ready') {
        await stopDaemon(child, 'SIGKILL', 5_000);
        const log = tail(logFile);
        if (state === 'died' && attempt < 3 && /address already in use/i.test(log)) continue;
        throw new Error(`etcd did not start (${state}) at ${clientUrl}; log ${logFile}:\n${log}`);
      }

      let stopped = false;
      return {
        clientUrl,
        peerUrl,
        name,
        pid: child.pid ?? -1,
        dataDir,
        logFile,
        async etcdctl(args) {
          const { stdout } = await runTool(etcdctlPath, ['--endpoints', clientUrl, ...args], {
            env: etcdctlEnv(),
          });
          return stdout;
        },
        async stop() {
          if (stopped) return;
          stopped = true;
          await stopDaemon(child, 'SIGTERM');
          rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
          removeExitHook();
        },
      };
    }
  } catch (error) {
    rmSync(baseDir, { recursive: true, force: true, maxRetries: 5 });
    removeExitHook();
    throw error;
  }
}
