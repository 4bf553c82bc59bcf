// A snapshot with some services' changes left out: what `vm watch` applies while it holds back
// a change that failed and was rolled back (src/watch/held-back.ts). The other services' steps,
// and the client files' (they follow the services as they are), are taken as planned. Pure.

import type { ServiceName } from '../model.js';
import type { Snapshot } from '../reconcile.js';

export function withholding(snap: Snapshot, held: ReadonlySet<ServiceName>): Snapshot {
  if (held.size === 0) return snap;
  const keep = <T extends { readonly service: ServiceName }>(steps: readonly T[]): T[] => steps.filter((s) => !held.has(s.service));
  return {
    ...snap,
    services: snap.services.map((s) => (held.has(s.name) ? { ...s, plan: { ...s.plan, steps: [] } } : s)),
    clients: { ...snap.clients, steps: keep(snap.clients.steps) },
    plan: { ...snap.plan, steps: keep(snap.plan.steps) },
  };
}
