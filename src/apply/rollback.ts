// Rollback: when a change fails (typically LiveKit not healthy after a restart), put back what
// was observed before the apply — binary link, config, key file, unit — restart, and wait for
// health again. The previous state needs no record of its own: it is the observation the plan
// was made from. Brew upgrades are not undone (Homebrew keeps no previous version to go back to).

import type { Effect, FileState, Step } from '../model.js';
import type { Host } from '../platform/host.js';
import type { Snapshot } from '../reconcile.js';
import { healthUrlOfConfig } from '../services/livekit/render.js';
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
export async function rollback(host: Host, before: Snapshot, touched: readonly Step[], io: EffectIo & { rollbackStart?(): void }, skip?: AbortSignal): Promise<RollbackOutcome> {
  const effects = rollbackEffects(before, touched);
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

/** What puts the observed-before state back, for the steps that ran. Pure. */
export function rollbackEffects(before: Snapshot, touched: readonly Step[]): Effect[] {
  const o = before.observed.livekit;
  // A first install has no previous working setup to go back to.
  if (o === undefined || o.binary.kind !== 'present' || !o.config.exists) return [];
  const p = before.paths.livekit;
  const previous = new Map<string, FileState>([
    [p.config, o.config],
    [p.keyFile, o.keyFile],
  ]);
  const out: Effect[] = [];
  let supervised: Extract<Effect, { kind: 'supervise' }> | undefined;
  let definitionTouched = false;
  for (const step of touched) {
    const e = step.effect;
    if (e.kind === 'write-file') {
      const was = previous.get(e.path) ?? (step.resource === 'unit' ? o.definition : undefined);
      if (step.resource === 'unit') definitionTouched = true;
      if (was === undefined) continue;
      out.push(was.exists ? { kind: 'write-file', path: e.path, content: was.content, mode: was.mode, dirMode: e.dirMode } : { kind: 'remove', path: e.path });
    } else if ((e.kind === 'install-release' || e.kind === 'install-script') && o.binary.target !== undefined) {
      out.push({ kind: 'switch-link', link: e.link, target: o.binary.target });
    } else if (e.kind === 'supervise') {
      supervised = e;
      if (e.verb === 'enable' || e.verb === 'disable') {
        out.push({ ...e, verb: o.runtime?.enabled === true ? 'enable' : 'disable' });
      }
    }
  }
  const plannedWait = before.plan.steps.map((s) => s.effect).find((e) => e.kind === 'wait-healthy');
  if (supervised === undefined) return out;
  const { supervisor, service } = supervised;
  if (definitionTouched) out.push({ kind: 'supervise', supervisor, verb: 'reload', service });
  if (o.runtime?.running === true) {
    out.push({ kind: 'supervise', supervisor, verb: 'restart', service });
    // Health is asked where the restored config listens, not where the failed one did.
    const url = healthUrlOfConfig(o.config.content);
    if (plannedWait?.kind === 'wait-healthy' && url !== undefined) out.push({ ...plannedWait, url });
  } else {
    out.push({ kind: 'supervise', supervisor, verb: 'stop', service });
  }
  return out;
}
