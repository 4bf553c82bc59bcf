// Per service: supervisor, binary, config, unit, running, healthy. Read-only, like plan.
//
// Status is what people run when something is wrong, so it shows what it can observe even when
// a secret cannot be read (an unset `{ env }` variable, a secret file others may read): it loads
// the file with secrets deferred, prints everything that needs no secret, then names each
// problem (file:line:col) and exits 1. `vm plan` and `vm apply` refuse such a file outright.

import { formatProblem } from '../../errors.js';
import type { HealthState, LiveKitDesired, LiveKitObserved, ResourceKind, ServicePaths, SpecProblem, Step } from '../../model.js';
import type { Observation } from '../../plan/plan.js';
import { nodeHost } from '../../platform/node-host.js';
import { snapshot, type Snapshot } from '../../reconcile.js';
import { healthUrl } from '../../services/livekit/render.js';
import { loadDesiredForReading } from '../../spec/load.js';
import { EXIT } from '../exit.js';
import { hint } from '../invocation.js';
import type { CliIo } from '../io.js';

export async function statusCommand(io: CliIo, o: { file?: string; json?: boolean }): Promise<number> {
  const { desired, secretProblems } = await loadDesiredForReading({ ...(o.file === undefined ? {} : { file: o.file }), cwd: io.cwd, env: io.env });
  const snap = await snapshot(nodeHost(io.env), desired);
  const lk = snap.observed.livekit;
  const d = desired.services.livekit;
  if (lk === undefined || d === undefined) {
    io.stdout.write(o.json === true ? `${JSON.stringify({ format_version: '1', services: {}, ...leftOverJson(snap.observed), notes: snap.plan.notes })}\n` : undeclared(snap));
    return EXIT.ok;
  }
  const view = livekitStatus(io, snap, d, lk, secretProblems.length > 0);
  if (o.json === true) {
    const problems = secretProblems.map((p) => ({ file: p.file, line: p.line, column: p.column, message: p.message }));
    io.stdout.write(`${JSON.stringify({ format_version: '1', services: { livekit: view.json }, ...(problems.length === 0 ? {} : { problems }) })}\n`);
  } else {
    io.stdout.write(view.text);
  }
  return reportSecretProblems(io, secretProblems);
}

function reportSecretProblems(io: CliIo, problems: readonly SpecProblem[]): number {
  if (problems.length === 0) return EXIT.ok;
  io.stderr.write(`${problems.map(formatProblem).join('\n')}\n`);
  const what = problems.length === 1 ? 'a secret' : `${problems.length} secrets`;
  io.stderr.write(`vm: ${what} in the file cannot be read: status shows what it could observe without; \`vm plan\` and \`vm apply\` refuse until it is fixed\n`);
  return EXIT.error;
}

function livekitStatus(io: CliIo, snap: Snapshot, d: LiveKitDesired, lk: LiveKitObserved, secretsUnread: boolean): { json: object; text: string } {
  const p = snap.paths.livekit;
  const rt = lk.runtime;
  const sup = lk.supervisor;
  // Without the secret the key file cannot be compared: its steps say nothing.
  const pending = (r: ResourceKind) => snap.plan.steps.filter((s) => s.resource === r && !(secretsUnread && touches(s, p.keyFile)));
  const definitionFile = sup.kind === 'systemd' ? p.unitFile : sup.kind === 'launchd' ? p.plistFile : null;
  const configCurrent = pending('config').length === 0;
  const status = {
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
      up_to_date: pending('unit').filter((s) => s.action !== 'enable' && s.action !== 'disable').length === 0,
      exists: lk.definition.exists,
      enabled: rt?.enabled ?? null,
    },
    running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' },
    healthy: lk.health.kind === 'healthy',
    url: healthUrl(d),
    log: p.logFile,
    pending_steps: secretsUnread ? null : snap.plan.steps.length,
    warnings: snap.plan.warnings,
  };
  const health = describeHealth(lk.health);
  const enabled = rt?.enabled === undefined ? 'no autostart (process supervisor)' : rt.enabled ? 'enabled' : 'not enabled';
  const steps = snap.plan.steps.length;
  const head = `livekit  (declared state: ${d.state}; supervisor: ${sup.kind === 'unavailable' ? `none: ${sup.why}` : `${sup.kind}, ${sup.why}`})`;
  const running = `  running  ${rt?.running === true ? `yes, pid ${rt.pid}` : `no (${status.running.state})`}`;
  const summary = secretsUnread
    ? 'not compared with the file: a secret cannot be read (see below)'
    : steps === 0
      ? d.state === 'absent' ? 'converged: livekit is not installed' : 'converged'
      : hint(io, `${steps} step(s) pending: run \`vm plan\` for details`);
  const lines =
    d.state === 'absent'
      ? [head, ...absentLines(d, lk, p, definitionFile, running)]
      : [
          head,
          `  binary   ${binaryText(lk)}  ${lk.binary.path}${d.version !== '' ? `  (declared ${d.version})` : ''}`,
          `  config   ${!configCurrent ? 'out of date' : secretsUnread ? 'up to date; key file not checked (a secret cannot be read)' : 'up to date'}  ${p.config}`,
          `  unit     ${status.unit.up_to_date ? 'up to date' : 'out of date'}, ${enabled}${definitionFile === null ? '' : `  ${definitionFile}`}`,
          running,
          `  healthy  ${health}  ${status.url}`,
          `  log      ${p.logFile}`,
        ];
  const text = [...lines, ...snap.plan.warnings.map((w) => `warning: ${w}`), summary, ''].join('\n');
  return { json: status, text };
}

/** With `state: absent` "up to date" would mislead: say what is still there and what is gone. */
function absentLines(d: LiveKitDesired, lk: LiveKitObserved, p: ServicePaths, definitionFile: string | null, running: string): string[] {
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

/** No LiveKit in the file: what vm left behind, above all a LiveKit still running. */
function undeclared(snap: Snapshot): string {
  const left = snap.observed.orphanRuntime;
  const files = snap.observed.orphans ?? [];
  const lines: string[] = [];
  if (left !== undefined && (left.runtime.running || files.length > 0)) {
    lines.push(`livekit  (not in the file; supervisor: ${left.supervisor.kind}, ${left.supervisor.why})`);
    lines.push(`  running  ${left.runtime.running ? `yes, pid ${left.runtime.pid}` : `no (${left.runtime.state})`}`);
  } else if (files.length === 0) {
    lines.push('no services declared');
  }
  if (files.length > 0) lines.push(`  files    ${files.join(', ')}`);
  return [...lines, ...snap.plan.notes.map((n) => `note: ${n}`), ''].join('\n');
}

function leftOverJson(o: Observation): object {
  const rt = o.orphanRuntime?.runtime;
  const files = o.orphans ?? [];
  if (rt?.running !== true && files.length === 0) return {};
  return { left_over: { livekit: { running: { active: rt?.running ?? false, pid: rt?.running === true ? rt.pid : null, state: rt?.state ?? 'unknown' }, files } } };
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
