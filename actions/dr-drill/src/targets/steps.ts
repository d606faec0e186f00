/**
 * What every target's drill is made of: phases that are timed and recorded (with a status line at least
 * every 30 s while they run), failures that carry the drill's failure kind, and waits that end on the drill's
 * overall timeout.
 */
import { ActionError } from '../../../lib/errors.js';
import { withHeartbeat } from '../../../lib/progress.js';
import type { SecretMasker } from '../../../lib/secrets.js';
import type { DrillContext, Phase, TargetFailure, TargetResult } from '../types.js';

/** A drill step that failed, with the kind of failure the report gives it. */
export class DrillFailure extends Error {
  constructor(
    readonly failure: TargetFailure,
    message: string,
  ) {
    super(message);
  }
}

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Waits `ms`, or less when the drill is aborted. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) {
      done();
      return;
    }
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    };
    const timer = setTimeout(finish, ms);
    signal.addEventListener('abort', finish, { once: true });
  });
}

/** Rejects with a `timeout` failure as soon as `signal` aborts (the work itself ends by its own time limit). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted)
    return Promise.reject(new DrillFailure('timeout', `The drill timed out before ${what}.`));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DrillFailure('timeout', `The drill timed out while ${what}.`));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export interface PhaseOptions {
  name: string;
  ctx: DrillContext;
  result: TargetResult;
  /** Status line interval while a phase runs. Default 30 s. */
  heartbeatMs?: number;
  /** Extra words for the status line (for example the Restore's phase). */
  status?: () => string;
  /** Called as each phase starts. */
  onStart?: () => void;
  /** How an unexpected error is told. Default: its message. */
  explain?: (error: unknown, phase: string) => string;
}

export type PhaseRunner = <T>(
  name: string,
  failure: TargetFailure,
  work: () => Promise<T>,
  detail?: (value: T) => string | undefined,
) => Promise<T>;

/**
 * Runs named phases of one target: each is timed and appended to `result.phases` (details masked), and a
 * failure becomes a DrillFailure of the phase's kind, or `timeout` when the drill was aborted meanwhile.
 */
export function phaseRunner(options: PhaseOptions): PhaseRunner {
  const { ctx, result } = options;
  const prefix = `[${options.name}]`;
  const explain = options.explain ?? ((error: unknown) => errorText(error));
  return async (name, failure, work, detail) => {
    const startedAt = ctx.now();
    options.onStart?.();
    ctx.log(`${prefix} ${name} …`);
    const record = (ok: boolean, text: string | undefined) => {
      const entry: Phase = { name, startedAt, endedAt: ctx.now(), ok };
      if (text) entry.detail = ctx.masker.mask(text);
      result.phases.push(entry);
    };
    try {
      if (ctx.signal.aborted) throw new DrillFailure('timeout', `The drill timed out before ${name}.`);
      const value = await withHeartbeat(name, work, {
        intervalMs: options.heartbeatMs ?? 30_000,
        log: (line) => ctx.log(ctx.masker.mask(`${prefix} ${line}`)),
        ...(options.status ? { status: options.status } : {}),
        clock: ctx,
      });
      record(true, detail?.(value));
      return value;
    } catch (error) {
      let failed: DrillFailure;
      if (error instanceof DrillFailure && (error.failure === 'timeout' || !ctx.signal.aborted))
        failed = error;
      else if (ctx.signal.aborted)
        failed = new DrillFailure('timeout', `The drill timed out during ${name}: ${errorText(error)}`);
      else if (error instanceof ActionError && error.reason === 'timeout')
        failed = new DrillFailure('timeout', error.message);
      else failed = new DrillFailure(failure, explain(error, name));
      record(false, failed.message);
      throw failed;
    }
  };
}

/** Ends a target's drill on a DrillFailure: the result says which kind and why. Anything else is rethrown. */
export function failedWith(result: TargetResult, error: unknown, masker: SecretMasker): TargetResult {
  if (!(error instanceof DrillFailure)) throw error;
  result.failure = error.failure;
  result.message = masker.mask(`${result.name}: ${error.message}`);
  return result;
}
