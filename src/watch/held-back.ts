// Which changes the watch holds back: a service's plan moves towards a desired state whose last
// try failed and was rolled back (src/apply/failure-record.ts). Retrying it on every resync would
// restart the working LiveKit and download the failed release each time, only to roll back
// again. Only that service waits: the others are healed as usual (src/plan/withhold.ts). A save
// of the file (or of a file it references) is someone asking again, so a `file` trigger tries;
// so does `vm apply`. Pure.

import { failureNote } from '../apply/failure-record.js';
import type { Snapshot } from '../reconcile.js';

export interface HeldBack {
  /** The same failure gives the same key: the watch tells it once, not every resync. */
  readonly key: string;
  readonly service: string;
  readonly message: string;
}

/** Every service whose change waits, in the file's order ([] on a save: it tries again). */
export function heldBack(snap: Snapshot, trigger: 'start' | 'file' | 'interval' | 'signal'): HeldBack[] {
  if (trigger === 'file') return [];
  return snap.services.flatMap((s) => {
    const failed = s.attempt?.failedBefore;
    if (failed === undefined) return [];
    return [{ key: `${failed.digest} ${failed.at}`, service: failed.service, message: `${failed.service}: ${failureNote(failed)}; vm watch holds it back until the file (or a file it references) is saved again` }];
  });
}

/** The services of heldBack, for src/plan/withhold.ts. */
export function heldNames(snap: Snapshot, trigger: 'start' | 'file' | 'interval' | 'signal'): ReadonlySet<string> {
  return new Set(heldBack(snap, trigger).map((h) => h.service));
}
