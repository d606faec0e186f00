/**
 * The one error type the actions raise on purpose. `reason` is stable and machine-readable: it is written to
 * the `failure-reason` output so workflows can branch on it. `message` tells a person what to do.
 */
export type FailureReason =
  | 'bad-input'
  | 'missing-tool'
  | 'command-failed'
  | 'github-api'
  | 'timeout'
  | 'internal'
  // Action-specific reasons (plan-changed, state-locked, restore-failed, ...) are plain strings too.
  | (string & {});

export class ActionError extends Error {
  override readonly name = 'ActionError';
  readonly reason: FailureReason;
  /** Extra lines for the job summary (never secrets). */
  readonly details: string[];

  constructor(reason: FailureReason, message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.details = options.details ?? [];
  }
}

export function isActionError(error: unknown): error is ActionError {
  return error instanceof ActionError;
}

/** Any thrown value as an ActionError; unexpected errors become `internal`. */
export function toActionError(error: unknown): ActionError {
  if (isActionError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ActionError('internal', message, { cause: error });
}

/** Shorthand for the most common failure: an input that is not allowed. Names the input and what is allowed. */
export function badInput(input: string, problem: string, allowed?: string): ActionError {
  const tail = allowed ? ` Allowed: ${allowed}.` : '';
  return new ActionError('bad-input', `Input '${input}' ${problem}.${tail}`);
}
