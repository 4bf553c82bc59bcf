// `vm status` for a `redis` service. Read-only; never the password.

import type { ResourceKind } from '../../model.js';
import type { RedisDesired, RedisObserved } from './model.js';
import { describeHealth } from '../../resources/health.js';
import type { ServiceSnapshot, ServiceStatusView } from '../contract.js';
import { redisAddress, type RedisPaths } from './spec.js';

export function redisStatus(s: ServiceSnapshot<RedisDesired, RedisObserved, RedisPaths>): ServiceStatusView {
  const { desired: d, observed: o, paths: p } = s;
  const pending = (r: ResourceKind) => s.plan.steps.filter((st) => st.resource === r);
  const rt = o.runtime;
  const sup = o.supervisor;
  const definitionFile = sup.kind === 'systemd' ? p.unitFile : sup.kind === 'launchd' ? p.plistFile : null;
  const json = {
    kind: d.kind,
    state: d.state,
    supervisor: { kind: sup.kind, why: sup.why },
    program: { path: d.program, present: o.program.exists },
    config: { path: p.config, up_to_date: pending('config').length === 0, exists: o.config.exists },
    unit: { path: definitionFile, up_to_date: pending('unit').filter((st) => st.action !== 'enable' && st.action !== 'disable').length === 0, enabled: rt?.enabled ?? null },
    running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' },
    healthy: o.health.kind === 'healthy',
    address: redisAddress(d),
    password: d.password !== undefined,
    log: p.logFile,
    pending_steps: s.plan.steps.length,
    warnings: s.plan.warnings,
  };
  const enabled = rt?.enabled === undefined ? 'no autostart (process supervisor)' : rt.enabled ? 'enabled' : 'not enabled';
  const lines = [
    `${d.name}  (redis; declared state: ${d.state}; supervisor: ${sup.kind === 'unavailable' ? `none: ${sup.why}` : `${sup.kind}, ${sup.why}`})`,
    `  program  ${o.program.exists ? 'present' : 'missing'}  ${d.program}`,
    `  config   ${json.config.up_to_date ? 'up to date' : 'out of date'}  ${p.config}`,
    `  unit     ${json.unit.up_to_date ? 'up to date' : 'out of date'}, ${enabled}${definitionFile === null ? '' : `  ${definitionFile}`}`,
    `  running  ${rt?.running === true ? `yes, pid ${rt.pid}` : `no (${json.running.state})`}`,
    `  healthy  ${describeHealth(o.health, 'PING', d.name)}  redis://${json.address}${d.password === undefined ? '' : ' (password set)'}`,
    `  log      ${p.logFile}`,
  ];
  return { json, lines };
}
