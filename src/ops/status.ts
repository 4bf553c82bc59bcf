// `vm status` as data: per service what its kind observes, plus (for services with clients) the
// client checks, what the file no longer declares, and the secrets that could not be read. The
// CLI draws it (or prints `json`), the MCP server returns `json`. Read-only, like plan.

import type { SpecProblem } from '../model.js';
import type { Host } from '../platform/host.js';
import { snapshot, type Snapshot } from '../reconcile.js';
import type { ServiceStatusView } from '../services/contract.js';
import { kindOf } from '../services/registry.js';
import type { ReadableDesired } from '../spec/load.js';
import { clientStatus } from './client-status.js';

export interface StatusReport {
  readonly snap: Snapshot;
  readonly views: ReadonlyArray<{ readonly name: string; readonly view: ServiceStatusView }>;
  readonly secretProblems: readonly SpecProblem[];
  /** The `vm status --json` object. */
  readonly json: Readonly<Record<string, unknown>>;
}

export async function statusReport(host: Host, loaded: ReadableDesired): Promise<StatusReport> {
  const { desired, secretProblems } = loaded;
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
  return { snap, views, secretProblems, json };
}

function leftOverJson(snap: Snapshot): object {
  if (snap.leftovers.length === 0) return {};
  const left = snap.leftovers.map((l) => {
    const rt = l.runtime?.runtime;
    return [l.name, { running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' }, files: l.files }] as const;
  });
  return { left_over: Object.fromEntries(left) };
}
