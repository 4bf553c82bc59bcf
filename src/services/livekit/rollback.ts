// LiveKit's rollback: when a change fails (typically LiveKit not healthy after a restart), put
// back what was observed before the apply — binary link, config, key file, unit — restart, and
// wait for health again; a `tailscale serve` endpoint it made or removed is undone too. The previous state needs no record of its own: it is the observation
// the plan was made from. Brew upgrades are not undone (Homebrew keeps no previous version).

import type { Effect, FileState, Step } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';
import { isSystemError } from '../../errors.js';
import type { Host } from '../../platform/host.js';
import type { ServiceSnapshot } from '../contract.js';
import { healthUrlOfConfig } from './render.js';

/** What puts the observed-before state back, for the steps that ran. Pure. */
export function rollbackEffects(before: ServiceSnapshot<LiveKitDesired, LiveKitObserved, LiveKitPaths>, touched: readonly Step[]): Effect[] {
  const o = before.observed;
  const serve = serveUndo(touched);
  // A first install has no previous working setup to go back to.
  if (o.binary.kind !== 'present' || !o.config.exists) return serve;
  const p = before.paths;
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
  out.unshift(...serve);
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

/**
 * The `tailscale serve` steps undone, last first: an endpoint made is removed (the last `on` may
 * be the step that failed, so one that is not there is fine), one vm removed is made again.
 */
function serveUndo(touched: readonly Step[]): Effect[] {
  const out: Effect[] = [];
  for (const { effect: e } of [...touched].reverse()) {
    if (e.kind !== 'tailscale-serve') continue;
    out.push(e.verb === 'on' ? { ...e, verb: 'off', absentOk: true } : { ...e, verb: 'on' });
  }
  return out;
}

/**
 * After a rollback to the previous version: the versions this apply installed (absent before it)
 * are gone again. Only when the link is back on a version that was there before, never the one
 * it points at.
 */
export async function removeFailedVersions(host: Host, before: ServiceSnapshot<LiveKitDesired, LiveKitObserved, LiveKitPaths>, touched: readonly Step[]): Promise<void> {
  const o = before.observed;
  if (o.binary.kind !== 'present' || o.binary.target === undefined) return;
  for (const { effect: e } of touched) {
    if (e.kind !== 'install-release' && e.kind !== 'install-script') continue;
    const dir = `${e.versionsDir}/${e.version}`;
    if (o.installedVersions.includes(e.version) || o.binary.target.startsWith(`${dir}/`) || e.versionsDir !== before.paths.versionsDir) continue;
    try {
      await host.remove(dir);
    } catch (err) {
      if (!isSystemError(err)) throw err; // a leftover costs disk space only; the failure is what to report
    }
  }
}
