// Typed errors. The CLI maps them to exit codes in one place (src/cli/exit.ts).
//
// UserError: something the person can fix (a bad file, a missing binary, a refused download).
// It prints one clear line (plus an optional hint), never a stack trace.
// Anything else that escapes is a bug in vm and is reported as such.

import type { SpecProblem } from './model.js';

export type UserErrorCode =
  | 'SPEC_INVALID'
  | 'SPEC_UNREADABLE'
  | 'USAGE'
  | 'NOT_A_TTY'
  | 'ABORTED'
  | 'INTERRUPTED'
  | 'SUPERVISOR_UNAVAILABLE'
  | 'INSTALL_FAILED'
  | 'CHECKSUM_MISMATCH'
  | 'BINARY_UNUSABLE'
  | 'STEP_FAILED'
  | 'NOT_CONVERGED'
  | 'UNHEALTHY'
  | 'FILE_EXISTS'
  | 'LOCK_TIMEOUT'
  /** No server to hand a client: the local one is not healthy and no fallback answers. */
  | 'NO_CONNECTION';

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly code: UserErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The signals that stop an apply. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The person stopped vm (Ctrl-C, SIGTERM); exits 130 or 143 like a shell (src/cli/exit.ts). */
export class InterruptedError extends UserError {
  constructor(
    readonly signal: StopSignal,
    message: string,
    hint?: string,
  ) {
    super('INTERRUPTED', message, hint);
  }
}

/** The signal an AbortController was aborted with (its reason), SIGTERM when it names none. */
export function stopSignalOf(signal: AbortSignal | undefined): StopSignal {
  return signal?.reason === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
}

/** The desired-state file has problems; each is located (file:line:col). Nothing was changed. */
export class SpecError extends UserError {
  constructor(readonly problems: readonly SpecProblem[]) {
    super('SPEC_INVALID', problems.map(formatProblem).join('\n'));
  }
}

export function formatProblem(p: SpecProblem): string {
  const at = p.pointer === '' ? '' : ` (at ${p.pointer})`;
  return `${p.file}:${p.line}:${p.column}: ${p.message}${at}`;
}

/** fs and process errors (EACCES, ENOSPC, …) are the machine's, not bugs in vm: the user can act on them. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}
