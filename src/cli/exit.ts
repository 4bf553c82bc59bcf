// The one place errors become exit codes and messages. A user error is one clear line (and a
// hint), never a stack trace; anything else is a bug in vm and says so.

import { InterruptedError, isSystemError, SpecError, UserError } from '../errors.js';
import type { Output } from './io.js';

// 130 and 143 are what a shell reports for a process ended by SIGINT or SIGTERM (128 + signal):
// vm stopped because it was asked to, after undoing what it had started.
export const EXIT = { ok: 0, error: 1, changes: 2, internal: 70, sigint: 130, sigterm: 143 } as const;

/** `hint` rewrites "`vm …`" in the message and hint to the command that works here (invocation.ts). */
export function reportError(e: unknown, stderr: Output, hint: (text: string) => string = (s) => s): number {
  if (e instanceof SpecError) {
    stderr.write(`${e.message}\n`);
    stderr.write(`vm: ${e.problems.length === 1 ? 'the file has a problem' : `the file has ${e.problems.length} problems`}; nothing was changed\n`);
    return EXIT.error;
  }
  if (e instanceof InterruptedError) {
    stderr.write(`vm: ${e.message}\n`);
    if (e.hint !== undefined) stderr.write(`${e.hint.replace(/^/gm, '  ')}\n`);
    return e.signal === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
  }
  if (e instanceof UserError) {
    stderr.write(`vm: ${hint(e.message)}\n`);
    if (e.hint !== undefined) stderr.write(`${hint(e.hint).replace(/^/gm, '  ')}\n`);
    return EXIT.error;
  }
  if (isSystemError(e)) {
    // The machine said no (permissions, disk full, …): the user can act on that.
    stderr.write(`vm: ${e.message}\n`);
    return EXIT.error;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  stderr.write(`vm: internal error (this is a bug in vm, please report it): ${err.message}\n`);
  if (err.stack !== undefined) stderr.write(`${err.stack}\n`);
  return EXIT.internal;
}
