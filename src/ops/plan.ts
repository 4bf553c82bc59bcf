// `vm plan` as data: observe, plan, and the `vm plan --json` object. The CLI renders `snap` for
// people or prints `json`; the MCP server returns `json`. Read-only.

import type { DesiredState, PlanJson } from '../model.js';
import { planToJson } from '../plan/plan.js';
import type { Host } from '../platform/host.js';
import { planContext, snapshot, type Snapshot } from '../reconcile.js';

export interface PlanReport {
  readonly snap: Snapshot;
  readonly json: PlanJson;
}

export async function planReport(host: Host, desired: DesiredState, opts: { readonly force?: boolean } = {}): Promise<PlanReport> {
  const snap = await snapshot(host, desired, planContext({ force: opts.force === true }));
  return { snap, json: planToJson(snap.plan) };
}
