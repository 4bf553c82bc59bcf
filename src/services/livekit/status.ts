// `vm status` for LiveKit: what each resource looks like, from one snapshot. Read-only.

import type { LiveKitDesired, LiveKitObserved, LiveKitPaths, ResourceKind } from '../../model.js';
import type { ServiceSnapshot, ServiceStatusView } from '../contract.js';
import { healthUrl } from './render.js';

export function livekitStatus(s: ServiceSnapshot<LiveKitDesired, LiveKitObserved, LiveKitPaths>): ServiceStatusView {
  const { desired: d, observed: lk, paths: p } = s;
  const pending = (r: ResourceKind) => s.plan.steps.filter((st) => st.resource === r);
  const rt = lk.runtime;
  const sup = lk.supervisor;
  const definitionFile = sup.kind === 'systemd' ? p.unitFile : sup.kind === 'launchd' ? p.plistFile : null;
  const json = {
    state: d.state,
    supervisor: { kind: sup.kind, why: sup.why },
    binary: {
      path: lk.binary.path,
      state: lk.binary.kind,
      version: lk.binary.kind === 'present' ? lk.binary.version : null,
      declared_version: d.version === '' ? null : d.version,
    },
    config: { path: p.config, key_file: p.keyFile, up_to_date: pending('config').length === 0 },
    unit: {
      path: definitionFile,
      up_to_date: pending('unit').filter((st) => st.action !== 'enable' && st.action !== 'disable').length === 0,
      enabled: rt?.enabled ?? null,
    },
    running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' },
    healthy: lk.health.kind === 'healthy',
    url: healthUrl(d),
    log: p.logFile,
    pending_steps: s.plan.steps.length,
    warnings: s.plan.warnings,
  };
  const health = lk.health.kind === 'healthy' ? 'yes' : lk.health.kind === 'starting' ? `starting (GET / → ${lk.health.status})` : `no (${lk.health.detail})`;
  const bin = lk.binary.kind === 'present' ? lk.binary.version : lk.binary.kind === 'broken' ? `broken (${lk.binary.detail})` : 'not installed';
  const enabled = rt?.enabled === undefined ? 'no autostart (process supervisor)' : rt.enabled ? 'enabled' : 'not enabled';
  const lines = [
    `${d.name}  (declared state: ${d.state}; supervisor: ${sup.kind === 'unavailable' ? `none: ${sup.why}` : `${sup.kind}, ${sup.why}`})`,
    `  binary   ${bin}  ${lk.binary.path}${d.version !== '' ? `  (declared ${d.version})` : ''}`,
    `  config   ${json.config.up_to_date ? 'up to date' : 'out of date'}  ${p.config}`,
    `  unit     ${json.unit.up_to_date ? 'up to date' : 'out of date'}, ${enabled}${definitionFile === null ? '' : `  ${definitionFile}`}`,
    `  running  ${rt?.running === true ? `yes, pid ${rt.pid}` : `no (${json.running.state})`}`,
    `  healthy  ${health}  ${json.url}`,
    `  log      ${p.logFile}`,
  ];
  return { json, lines };
}
