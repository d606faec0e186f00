/**
 * Scratch places for a drill: directories and child processes that must be gone when the drill ends, whether
 * it passed, failed or timed out. Everything is registered as it is made and undone in reverse order.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signalGroup, trackGroup } from '../../lib/process-groups.js';

type Undo = { what: string; run: () => Promise<void> | void };

export class Scratch {
  private readonly undo: Undo[] = [];
  readonly root: string;

  constructor(parent: string = process.env.RUNNER_TEMP || tmpdir()) {
    this.root = mkdtempSync(join(parent, 'spark-drill-'));
    this.undo.push({
      what: `remove ${this.root}`,
      run: () => rmSync(this.root, { recursive: true, force: true }),
    });
  }

  /** A new empty directory under the scratch root. */
  dir(prefix: string): string {
    return mkdtempSync(join(this.root, `${prefix.replace(/[^\w.-]/g, '_')}-`));
  }

  /**
   * A new empty directory under the system's temp dir, removed at cleanup: for Unix sockets, whose path may
   * not exceed 107 bytes, which a scratch root under a deep RUNNER_TEMP can.
   */
  shortDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), `${prefix.replace(/[^\w.-]/g, '_')}-`));
    this.undo.push({ what: `remove ${dir}`, run: () => rmSync(dir, { recursive: true, force: true }) });
    return dir;
  }

  /** Registers any cleanup step (for example deleting a Kubernetes namespace). */
  onCleanup(what: string, run: () => Promise<void> | void): void {
    this.undo.push({ what, run });
  }

  /** Registers a child process to be stopped: SIGTERM to its group, SIGKILL after `graceMs`. */
  track(child: ChildProcess, what: string, graceMs = 10_000): void {
    // Also stopped if the job is cancelled before the drill can clean up.
    const untrack = trackGroup(child.pid);
    this.onCleanup(`stop ${what}`, async () => {
      await stopProcess(child, graceMs);
      untrack();
    });
  }

  /** Runs every cleanup step, newest first; returns the ones that failed (never throws). */
  async cleanup(): Promise<string[]> {
    const failed: string[] = [];
    while (this.undo.length > 0) {
      const step = this.undo.pop() as Undo;
      try {
        await step.run();
      } catch (error) {
        failed.push(`${step.what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failed;
  }
}

function signal(child: ChildProcess, sig: NodeJS.Signals) {
  signalGroup(child.pid, sig);
  try {
    child.kill(sig);
  } catch {
    // gone
  }
}

export async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(child, 'SIGTERM');
  const timer = setTimeout(() => signal(child, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
