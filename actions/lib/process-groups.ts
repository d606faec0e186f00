/**
 * Process groups this action started and that still run. When the job is cancelled (the runner sends SIGINT,
 * then SIGTERM) or the action exits, they are stopped too, so no program keeps a state lock, a port or a
 * server alive after the step.
 */
const live = new Set<number>();
let installed = false;

/** Sends `signal` to the whole process group led by `pid`. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function install() {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const pid of live) signalGroup(pid, 'SIGTERM');
      setTimeout(() => {
        for (const pid of live) signalGroup(pid, 'SIGKILL');
        process.exit(sig === 'SIGINT' ? 130 : 143);
      }, 5_000).unref();
    });
  }
  process.once('exit', () => {
    for (const pid of live) signalGroup(pid, 'SIGKILL');
  });
}

/** Remembers a process group (its leader was spawned `detached`); returns the function that forgets it. */
export function trackGroup(pid: number | undefined): () => void {
  if (!pid) return () => {};
  install();
  live.add(pid);
  return () => live.delete(pid);
}
