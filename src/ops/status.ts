// What `vm status` observes, as data: every declared service's status view (its kind's view plus,
// for services with clients, the client checks) and the `vm status --json` object built from
// them. `vm status` prints it; the web page's `GET /api/status` serves it. Read-only, like plan.

import type { SpecProblem } from '../model.js';
import type { Host } from '../platform/host.js';
import { snapshot, type Snapshot } from '../reconcile.js';
import type { ServiceStatusView } from '../services/contract.js';
import { kindOf } from '../services/registry.js';
import { clientStatus } from './client-status.js';

export interface StatusReport {
  readonly snap: Snapshot;
  readonly views: readonly { readonly name: string; readonly view: ServiceStatusView }[];
  /** The `vm status --json` object (no secret in it). */
  readonly json: Readonly<Record<string, unknown>>;
}

/** `secretProblems`: secrets that could not be read; the client checks are then skipped. */
export async function statusReport(host: Host, desired: Parameters<typeof snapshot>[1], secretProblems: readonly SpecProblem[]): Promise<StatusReport> {
  const snap = await snapshot(host, desired);
  const secretsUnread = secretProblems.length > 0;
  // Services with clients (LiveKit) add their URL, key name and the room API and token checks.
  const clients = secretsUnread ? new Map() : await clientStatus(host, snap);
  const views = snap.services.map((s) => {
    const view = kindOf(s.desired).status(s, { secretsUnread });
    const c = clients.get(s.name);
    return { name: s.name, view: c === undefined ? view : { json: { ...view.json, ...c.json }, lines: [...view.lines, ...c.lines] } };
  });
  const problems = secretProblems.map((p) => ({ file: p.file, line: p.line, column: p.column, message: p.message }));
  const json = {
    format_version: '1',
    services: Object.fromEntries(views.map((v) => [v.name, v.view.json])),
    ...leftOverJson(snap),
    ...(views.length === 0 ? { notes: snap.plan.notes } : {}),
    ...(problems.length === 0 ? {} : { problems }),
  };
  return { snap, views, json };
}

function leftOverJson(snap: Snapshot): object {
  if (snap.leftovers.length === 0) return {};
  const left = snap.leftovers.map((l) => {
    const rt = l.runtime?.runtime;
    return [l.name, { running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' }, files: l.files }] as const;
  });
  return { left_over: Object.fromEntries(left) };
}
