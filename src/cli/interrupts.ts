// SIGINT/SIGTERM while vm changes the machine. Node's default would end the process on the spot:
// a new version half-in, no rollback, a stale apply lock. Instead the first signal asks to stop
// after the step under way and roll back; the second to skip the rollback. Either way the caller
// goes on to release the lock and exit with 130 (SIGINT) or 143 (SIGTERM).

import type { StopSignal } from '../errors.js';

export interface Interrupts {
  /** Aborted at the first signal; its reason is the signal's name. */
  readonly stop: AbortSignal;
  /** Aborted at the second. */
  readonly skipRollback: AbortSignal;
  /** Gives the signals back to node's default. */
  dispose(): void;
}

export function trapInterrupts(on: { first(signal: StopSignal): void; second(signal: StopSignal): void }): Interrupts {
  const stop = new AbortController();
  const skip = new AbortController();
  const handle = (signal: StopSignal) => {
    if (!stop.signal.aborted) {
      stop.abort(signal);
      on.first(signal);
    } else if (!skip.signal.aborted) {
      skip.abort(signal);
      on.second(signal);
    }
    // A third one changes nothing: the lock is about to be released and vm to exit.
  };
  const onInt = () => handle('SIGINT');
  const onTerm = () => handle('SIGTERM');
  process.on('SIGINT', onInt).on('SIGTERM', onTerm);
  return {
    stop: stop.signal,
    skipRollback: skip.signal,
    dispose: () => {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
    },
  };
}

export const STOPPING = 'stopping after this step… (Ctrl-C again to skip the rollback)';
export const SKIPPING = 'skipping the rollback: what was applied stays as it is; run `vm apply` to finish it';
