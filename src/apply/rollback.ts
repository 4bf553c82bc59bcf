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
  | { readonly kind: 'nothing-changed' };

export async function rollback(host: Host, effects: readonly Effect[], io: EffectIo & { rollbackStart?(): void }): Promise<RollbackOutcome> {
  if (effects.length === 0) return { kind: 'nothing-to-restore' };
  io.rollbackStart?.();
  try {
    for (const e of effects) await runEffect(host, e, io);
  } catch (e) {
    return { kind: 'rollback-failed', why: e instanceof Error ? e.message : String(e) };
  }
  return { kind: 'rolled-back', healthy: effects.some((e) => e.kind === 'wait-healthy') };
}
