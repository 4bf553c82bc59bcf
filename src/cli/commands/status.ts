// Per service: supervisor, binary, config, unit, running, healthy. Read-only, like plan.

import type { HealthState, ResourceKind } from '../../model.js';
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
    io.stdout.write(o.json === true ? `${JSON.stringify({ format_version: '1', services: {}, notes: snap.plan.notes })}\n` : `no services declared\n${snap.plan.notes.map((n) => `note: ${n}\n`).join('')}`);
    return EXIT.ok;
  }
  const pending = (r: ResourceKind) => snap.plan.steps.filter((s) => s.resource === r);
  const p = snap.paths.livekit;
  const rt = lk.runtime;
  const sup = lk.supervisor;
  const definitionFile = sup.kind === 'systemd' ? p.unitFile : sup.kind === 'launchd' ? p.plistFile : null;
  const status = {
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
      up_to_date: pending('unit').filter((s) => s.action !== 'enable' && s.action !== 'disable').length === 0,
      enabled: rt?.enabled ?? null,
    },
    running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' },
    healthy: lk.health.kind === 'healthy',
    url: healthUrl(d),
    log: p.logFile,
    pending_steps: snap.plan.steps.length,
    warnings: snap.plan.warnings,
  };
  if (o.json === true) {
    io.stdout.write(`${JSON.stringify({ format_version: '1', services: { livekit: status } })}\n`);
    return EXIT.ok;
  }
  const health = describeHealth(lk.health);
  const bin = lk.binary.kind === 'present' ? lk.binary.version : lk.binary.kind === 'broken' ? `broken (${lk.binary.detail})` : 'not installed';
  const enabled = rt?.enabled === undefined ? 'no autostart (process supervisor)' : rt.enabled ? 'enabled' : 'not enabled';
  io.stdout.write(
    [
      `livekit  (declared state: ${d.state}; supervisor: ${sup.kind === 'unavailable' ? `none: ${sup.why}` : `${sup.kind}, ${sup.why}`})`,
      `  binary   ${bin}  ${lk.binary.path}${d.version !== '' ? `  (declared ${d.version})` : ''}`,
      `  config   ${status.config.up_to_date ? 'up to date' : 'out of date'}  ${p.config}`,
      `  unit     ${status.unit.up_to_date ? 'up to date' : 'out of date'}, ${enabled}${definitionFile === null ? '' : `  ${definitionFile}`}`,
      `  running  ${rt?.running === true ? `yes, pid ${rt.pid}` : `no (${status.running.state})`}`,
      `  healthy  ${health}  ${status.url}`,
      `  log      ${p.logFile}`,
      ...snap.plan.warnings.map((w) => `warning: ${w}`),
      snap.plan.steps.length === 0 ? 'converged' : `${snap.plan.steps.length} step(s) pending: run \`vm plan\` for details`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}

function describeHealth(h: HealthState): string {
  switch (h.kind) {
    case 'healthy': return 'yes';
    case 'starting': return `starting (GET / → ${h.status})`;
    case 'unhealthy': return `no (${h.detail})`;
    // Another LiveKit answers OK too: never "yes" for an answer that is not vm's LiveKit's.
    case 'foreign': return `no (the port is held by ${h.pid > 0 ? `pid ${h.pid} (${h.command})` : h.command}, not by vm's LiveKit)`;
  }
}
