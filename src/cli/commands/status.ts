// Per service: binary, config, unit, running, healthy. Read-only, like plan.

import type { ResourceKind } from '../../model.js';
import { snapshot } from '../../reconcile.js';
import { healthUrl } from '../../services/livekit/render.js';
import { loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

export async function statusCommand(io: CliIo, o: { file?: string; json?: boolean }): Promise<number> {
  const { desired, host } = await loadContext(io, o.file);
  const snap = await snapshot(host, desired);
  const lk = snap.observed.livekit;
  const d = desired.services.livekit;
  if (lk === undefined || d === undefined) {
    io.stdout.write(o.json === true ? `${JSON.stringify({ format_version: '1', services: {} })}\n` : 'no services declared\n');
    return EXIT.ok;
  }
  const pending = (r: ResourceKind) => snap.plan.steps.filter((s) => s.resource === r);
  const p = snap.paths.livekit;
  const unit = lk.unit;
  const running = unit !== undefined && unit.activeState === 'active' && unit.mainPid > 0;
  const status = {
    binary: {
      path: p.binary,
      state: lk.binary.kind,
      version: lk.binary.kind === 'present' ? lk.binary.version : null,
      declared_version: d.version === '' ? null : d.version,
    },
    config: { path: p.config, key_file: p.keyFile, up_to_date: pending('config').length === 0 },
    unit: {
      name: p.unitName,
      path: p.unitFile,
      up_to_date: pending('unit').filter((s) => s.action !== 'enable' && s.action !== 'disable').length === 0,
      enabled: lk.enabled,
    },
    running: { active: running, pid: running ? unit.mainPid : null, state: unit === undefined ? 'unknown' : `${unit.activeState}/${unit.subState}` },
    healthy: lk.health.kind === 'healthy',
    url: healthUrl(d),
    log: p.logFile,
    supervisor: lk.supervisor.kind,
    pending_steps: snap.plan.steps.length,
  };
  if (o.json === true) {
    io.stdout.write(`${JSON.stringify({ format_version: '1', services: { livekit: status } })}\n`);
    return EXIT.ok;
  }
  const health = lk.health.kind === 'healthy' ? 'yes' : lk.health.kind === 'starting' ? `starting (GET / → ${lk.health.status})` : `no (${lk.health.detail})`;
  const bin = lk.binary.kind === 'present' ? `${lk.binary.version}` : lk.binary.kind === 'broken' ? `broken (${lk.binary.detail})` : 'not installed';
  io.stdout.write(
    [
      `livekit  (supervisor: ${lk.supervisor.kind === 'systemd' ? 'systemd' : `none: ${lk.supervisor.why}`})`,
      `  binary   ${bin}  ${p.binary}${d.version !== '' ? `  (declared ${d.version})` : ''}`,
      `  config   ${status.config.up_to_date ? 'up to date' : 'out of date'}  ${p.config}`,
      `  unit     ${status.unit.up_to_date ? 'up to date' : 'out of date'}, ${status.unit.enabled ? 'enabled' : 'not enabled'}  ${p.unitFile}`,
      `  running  ${running ? `yes, pid ${unit.mainPid}` : `no (${status.running.state})`}`,
      `  healthy  ${health}  ${status.url}`,
      `  log      ${p.logFile}`,
      snap.plan.steps.length === 0 ? 'converged' : `${snap.plan.steps.length} step(s) pending: run \`vm plan\` for details`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
