// Whether the watch holds a change back: the plan moves towards a desired state whose last try
// failed and was rolled back (src/apply/failure-record.ts). Retrying it on every resync would
// restart the working LiveKit and download the failed release each time, only to roll back
// again. A save of the file (or of a file it references) is someone asking again, so a `file`
// trigger tries; so does `vm apply`. Pure.

import { failureNote } from '../apply/failure-record.js';
import type { Snapshot } from '../reconcile.js';

export interface HeldBack {
  /** The same failure gives the same key: the watch tells it once, not every resync. */
  readonly key: string;
  readonly service: string;
  readonly message: string;
}

export function heldBack(snap: Snapshot, trigger: 'start' | 'file' | 'interval' | 'signal'): HeldBack | undefined {
  if (trigger === 'file') return undefined;
  // One service's failed change holds the plan back (its steps are in it); the others' healing
  // waits with it, until the file is saved or `vm apply` runs (README: vm watch).
  const failed = snap.services.map((s) => s.attempt?.failedBefore).find((f) => f !== undefined);
  if (failed === undefined) return undefined;
  return {
    key: `${failed.digest} ${failed.at}`,
    service: failed.service,
    message: `${failed.service}: ${failureNote(failed)}; vm watch holds it back until the file (or a file it references) is saved again`,
  };
}
