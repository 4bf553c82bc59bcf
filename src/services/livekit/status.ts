// `vm status` for LiveKit: what each resource looks like, from one snapshot. Read-only.

import type { ResourceKind, Step } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';
import { describeHealth } from '../../resources/health.js';
import type { ServiceSnapshot, ServiceStatusView, StatusOptions } from '../contract.js';
import { remoteUrl } from './expose.js';
import { healthUrl } from './render.js';

export function livekitStatus(s: ServiceSnapshot<LiveKitDesired, LiveKitObserved, LiveKitPaths>, opts: StatusOptions = {}): ServiceStatusView {
  const { desired: d, observed: lk, paths: p } = s;
  const secretsUnread = opts.secretsUnread === true;
  const rt = lk.runtime;
  const sup = lk.supervisor;
  // Without the secret the key file cannot be compared: its steps say nothing.
  const pending = (r: ResourceKind) => s.plan.steps.filter((st) => st.resource === r && !(secretsUnread && touches(st, p.keyFile)));
  const definitionFile = sup.kind === 'systemd' ? p.unitFile : sup.kind === 'launchd' ? p.plistFile : null;
  const configCurrent = pending('config').length === 0;
  const remote = d.expose === undefined ? undefined : remoteUrl(d, lk.tailnet);
  const json = {
    state: d.state,
    supervisor: { kind: sup.kind, why: sup.why },
    binary: {
      path: lk.binary.path,
      state: lk.binary.kind,
      version: lk.binary.kind === 'present' ? lk.binary.version : null,
      declared_version: d.version === '' ? null : d.version,
    },
    config: {
      path: p.config,
      key_file: p.keyFile,
      // null: livekit.yaml is up to date, but the key file could not be compared (a secret is unreadable).
      up_to_date: !configCurrent ? false : secretsUnread ? null : true,
      exists: lk.config.exists,
      key_file_exists: lk.keyFile.exists,
    },
    unit: {
      path: definitionFile,
      up_to_date: pending('unit').filter((st) => st.action !== 'enable' && st.action !== 'disable').length === 0,
      exists: lk.definition.exists,
      enabled: rt?.enabled ?? null,
    },
    running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' },
    healthy: lk.health.kind === 'healthy',
    url: healthUrl(d),
    // Where the user's other devices connect (expose): null when not exposed or not on the tailnet.
    remote_url: remote === undefined ? null : remote.ok ? remote.url : null,
    log: p.logFile,
    pending_steps: secretsUnread ? null : s.plan.steps.length,
    // Multi-node: the shared Redis (never its password) and this node's region.
    redis: d.redis === undefined ? null : { address: d.redis.address, reachable: lk.redis?.ok ?? null, error: lk.redis?.ok === false ? lk.redis.error : null },
    region: d.region ?? null,
    warnings: s.plan.warnings,
  };
  const health = describeHealth(lk.health, 'GET /', 'LiveKit');
  const enabled = rt?.enabled === undefined ? 'no autostart (process supervisor)' : rt.enabled ? 'enabled' : 'not enabled';
  const head = `${d.name}  (declared state: ${d.state}; supervisor: ${sup.kind === 'unavailable' ? `none: ${sup.why}` : `${sup.kind}, ${sup.why}`})`;
  const running = `  running  ${rt?.running === true ? `yes, pid ${rt.pid}` : `no (${json.running.state})`}`;
  const lines =
    d.state === 'absent'
      ? [head, ...absentLines(d, lk, p, definitionFile, running)]
      : [
          head,
          `  binary   ${binaryText(lk)}  ${lk.binary.path}${d.version !== '' ? `  (declared ${d.version})` : ''}`,
          `  config   ${!configCurrent ? 'out of date' : secretsUnread ? 'up to date; key file not checked (a secret cannot be read)' : 'up to date'}  ${p.config}`,
          `  unit     ${json.unit.up_to_date ? 'up to date' : 'out of date'}, ${enabled}${definitionFile === null ? '' : `  ${definitionFile}`}`,
          running,
          `  healthy  ${health}  ${json.url}`,
          ...(remote === undefined ? [] : [`  remote   ${remote.ok ? remote.url : remote.why}`]),
          ...(d.redis === undefined ? [] : [`  redis    ${lk.redis === undefined ? 'not checked' : lk.redis.ok ? 'reachable (PING → PONG)' : `not reachable (${lk.redis.error})`}  ${d.redis.address}`]),
          ...(d.region === undefined ? [] : [`  region   ${d.region}`]),
          `  log      ${p.logFile}`,
        ];
  return { json, lines };
}

/** With `state: absent` "up to date" would mislead: say what is still there and what is gone. */
function absentLines(d: LiveKitDesired, lk: LiveKitObserved, p: LiveKitPaths, definitionFile: string | null, running: string): string[] {
  const ours = d.install.method === 'release' || d.install.method === 'script';
  const binary = lk.binary.kind === 'absent' ? 'not installed' : ours ? `${binaryText(lk)}, still installed (vm apply removes it)` : `${binaryText(lk)}, not vm's to remove: it stays`;
  const files = [p.config, p.keyFile].filter((_, i) => (i === 0 ? lk.config.exists : lk.keyFile.exists));
  const config = files.length === 0 ? `removed  ${p.config}, ${p.keyFile}` : `still there (vm apply removes it)  ${files.join(', ')}`;
  const enabled = lk.runtime?.enabled === true ? ', still enabled' : '';
  const unit = definitionFile === null ? 'none (process supervisor)' : lk.definition.exists ? `still there (vm apply removes it)${enabled}  ${definitionFile}` : `removed${enabled}  ${definitionFile}`;
  const log = lk.logDirExists ? `kept  ${p.logDir}${d.removeData ? ' (remove_data: true: vm apply deletes it)' : ''}` : `none  ${p.logDir}`;
  return [`  binary   ${binary}  ${lk.binary.path}`, `  config   ${config}`, `  unit     ${unit}`, running, `  log      ${log}`];
}

function binaryText(lk: LiveKitObserved): string {
  return lk.binary.kind === 'present' ? lk.binary.version : lk.binary.kind === 'broken' ? `broken (${lk.binary.detail})` : 'not installed';
}

/** Whether a step writes or removes `path`. */
function touches(s: Step, path: string): boolean {
  return (s.effect.kind === 'write-file' || s.effect.kind === 'remove') && s.effect.path === path;
}
