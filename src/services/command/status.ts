// `vm status` for a supervised HTTP service. Read-only.

import type { ResourceKind } from '../../model.js';
import type { HttpObserved, HttpServiceDesired } from './model.js';
import { describeHealth } from '../../resources/health.js';
import type { ServiceSnapshot, ServiceStatusView } from '../contract.js';
import type { HttpPaths } from './paths.js';
import { httpHealthUrl } from './spec.js';

export function httpStatus(s: ServiceSnapshot<HttpServiceDesired, HttpObserved, HttpPaths>): ServiceStatusView {
  const { desired: d, observed: o, paths: p } = s;
  const pending = (r: ResourceKind) => s.plan.steps.filter((st) => st.resource === r);
  const rt = o.runtime;
  const sup = o.supervisor;
  const definitionFile = sup.kind === 'systemd' ? p.unitFile : sup.kind === 'launchd' ? p.plistFile : null;
  const gone = d.state === 'absent';
  const json = {
    kind: d.kind,
    state: d.state,
    supervisor: { kind: sup.kind, why: sup.why },
    program: { path: d.program, present: o.program.exists },
    model: d.model === undefined ? null : { path: d.model.path, present: o.model?.exists === true, downloaded: d.model.kind === 'download' },
    unit: {
      path: definitionFile,
      present: o.definition.exists || sup.kind === 'process',
      up_to_date: !gone && pending('unit').filter((st) => st.action !== 'enable' && st.action !== 'disable').length === 0,
      enabled: rt?.enabled ?? null,
    },
    running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' },
    healthy: o.health.kind === 'healthy',
    url: httpHealthUrl(d),
    log: p.logFile,
    pending_steps: s.plan.steps.length,
    warnings: s.plan.warnings,
  };
  const health = describeHealth(o.health, `GET ${d.health.path}`, d.name);
  const enabled = rt?.enabled === undefined ? 'no autostart (process supervisor)' : rt.enabled ? 'enabled' : 'not enabled';
  const unit = gone ? (o.definition.exists ? 'still present' : 'removed') : json.unit.up_to_date ? 'up to date' : 'out of date';
  const lines = [
    `${d.name}  (${d.kind}; declared state: ${d.state}; supervisor: ${sup.kind === 'unavailable' ? `none: ${sup.why}` : `${sup.kind}, ${sup.why}`})`,
    `  program  ${o.program.exists ? 'present' : 'missing'}  ${d.program}`,
    ...(d.model === undefined ? [] : [`  model    ${o.model?.exists === true ? 'present' : 'missing'}  ${d.model.path}`]),
    `  unit     ${unit}, ${enabled}${definitionFile === null ? '' : `  ${definitionFile}`}`,
    `  running  ${rt?.running === true ? `yes, pid ${rt.pid}` : `no (${json.running.state})`}`,
    `  healthy  ${health}  ${json.url}`,
    `  log      ${p.logFile}`,
  ];
  return { json, lines };
}
