// Rollback: when a change to a service fails, run the effects its kind computed (purely, from
// the observation the plan was made from) to put back what was there before. Only that service
// is touched: the others' changes stand.

import type { Effect } from '../model.js';
import type { Host } from '../platform/host.js';
import { runEffect, type EffectIo } from './effects.js';

export type RollbackOutcome =
  | { readonly kind: 'rolled-back'; readonly healthy: boolean }
  | { readonly kind: 'rollback-failed'; readonly why: string }
  | { readonly kind: 'nothing-to-restore' }
  | { readonly kind: 'disabled' }
  | { readonly kind: 'nothing-changed' }
  /** A second Ctrl-C asked to skip it: `done` of `of` restoring effects had run. */
  | { readonly kind: 'skipped'; readonly done: number; readonly of: number };

/** `skip` (a second Ctrl-C) stops the rollback between effects and cuts its health wait short. */
export async function rollback(host: Host, effects: readonly Effect[], io: EffectIo & { rollbackStart?(): void }, skip?: AbortSignal): Promise<RollbackOutcome> {
  if (effects.length === 0) return { kind: 'nothing-to-restore' };
  // A function, not the property: TypeScript would take `aborted` to stay false across the awaits.
  const skipped = () => skip?.aborted === true;
  if (skipped()) return { kind: 'skipped', done: 0, of: effects.length };
  io.rollbackStart?.();
  const effectIo: EffectIo = { ...io, ...(skip === undefined ? {} : { signal: skip }) };
  let done = 0;
  try {
    for (const e of effects) {
      if (skipped()) return { kind: 'skipped', done, of: effects.length };
      await runEffect(host, e, effectIo);
      done++;
    }
  } catch (e) {
    if (skipped()) return { kind: 'skipped', done, of: effects.length };
    return { kind: 'rollback-failed', why: e instanceof Error ? e.message : String(e) };
  }
  return { kind: 'rolled-back', healthy: effects.some((e) => e.kind === 'wait-healthy') };
}
