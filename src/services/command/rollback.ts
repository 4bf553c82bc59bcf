// Rollback of a supervised HTTP service: put its unit or plist back as it was, then restart it
// if it was running (and wait for health) or stop it. A model vm downloaded stays: it was
// checked against its sha256, and a second try should not download it again. Pure.

import type { Effect, HttpObserved, HttpServiceDesired, Step } from '../../model.js';
import type { ServiceSnapshot } from '../contract.js';
import type { HttpPaths } from './paths.js';

export function httpRollback(before: ServiceSnapshot<HttpServiceDesired, HttpObserved, HttpPaths>, touched: readonly Step[]): Effect[] {
  const o = before.observed;
  const out: Effect[] = [];
  let supervised: Extract<Effect, { kind: 'supervise' }> | undefined;
  let definitionTouched = false;
  for (const step of touched) {
    const e = step.effect;
    if (e.kind === 'write-file' && step.resource === 'unit') {
      definitionTouched = true;
      out.push(o.definition.exists ? { kind: 'write-file', path: e.path, content: o.definition.content, mode: o.definition.mode, dirMode: e.dirMode } : { kind: 'remove', path: e.path });
    } else if (e.kind === 'supervise') {
      supervised = e;
      if (e.verb === 'enable' || e.verb === 'disable') out.push({ ...e, verb: o.runtime?.enabled === true ? 'enable' : 'disable' });
    }
  }
  if (supervised === undefined) return out;
  const { supervisor, service } = supervised;
  if (definitionTouched) out.push({ kind: 'supervise', supervisor, verb: 'reload', service });
  const wait = before.plan.steps.map((s) => s.effect).find((e) => e.kind === 'wait-healthy');
  if (o.runtime?.running === true && (o.definition.exists || supervisor === 'process')) {
    out.push({ kind: 'supervise', supervisor, verb: 'restart', service });
    if (wait !== undefined) out.push(wait);
  } else {
    out.push({ kind: 'supervise', supervisor, verb: 'stop', service });
  }
  return out;
}
