// `vm watch --install-service`: run `vm watch` itself under the user's supervisor (a systemd user
// unit, or a LaunchAgent on macOS), so reconciliation survives logout and reboot. The same
// ServiceSpec and adapters as every service's; no secret is involved (vm reads them itself).

import { join } from 'node:path';
import type { DesiredState, Roots, ServiceSpec, SupervisorKind } from '../model.js';
import { UserError } from '../errors.js';
import type { Host } from '../platform/host.js';
import { supervisorFor } from '../platform/supervisor.js';
import { observeFacts } from '../facts/facts.js';
import { renderPlist } from '../resources/plist.js';
import { renderUnit } from '../resources/unit.js';

const UNIT = 'voicemode-watch.service';
const LABEL = 'com.voicemode.watch';

export function watchServiceSpec(kind: SupervisorKind, paths: Roots, vmBin: string, specFile: string): ServiceSpec {
  return {
    name: 'vm-watch',
    label: kind === 'systemd' ? UNIT : LABEL,
    // node itself, with vm's entry point: no reliance on PATH inside the service.
    binary: process.execPath,
    args: [vmBin, 'watch', '--file', specFile],
    logFile: join(paths.voicemodeHome, 'logs', 'vm', 'watch.log'),
    definitionFile: kind === 'systemd' ? join(paths.xdgConfigHome, 'systemd', 'user', UNIT) : join(paths.home, 'Library', 'LaunchAgents', `${LABEL}.plist`),
    pidFile: join(paths.voicemodeHome, 'run', 'watch.pid'),
    autostart: true,
  };
}

export interface Installed {
  readonly message: string;
  /** `{ env }` secrets the service will not see; printed as warnings, the service is installed anyway. */
  readonly warnings: readonly string[];
}

export async function installWatchService(host: Host, desired: DesiredState, paths: Roots, vmBin: string, unitTemplate: string): Promise<Installed> {
  if (desired.source.kind !== 'file') {
    throw new UserError('USAGE', 'vm watch --install-service needs a desired-state file to watch', 'run `vm init` to write one, then pass it with --file');
  }
  const { kind, svc } = await supervised(host, desired, paths, vmBin, desired.source.path);
  const warnings = kind === 'systemd' ? await missingFromUserManager(host, desired.secretEnv ?? [], svc.label) : [];
  const text = kind === 'systemd' ? renderUnit(unitTemplate, svc) : renderPlist(svc);
  await host.mkdirp(join(paths.voicemodeHome, 'logs', 'vm'), 0o700);
  await host.writeFileAtomic(svc.definitionFile ?? '', text, 0o644, 0o755);
  const sup = await supervisorFor(kind);
  for (const verb of ['reload', 'enable', 'restart'] as const) await sup.run(host, svc, verb);
  return { message: `${svc.definitionFile} installed and started under ${kind}: vm watch now runs at login (log: ${svc.logFile})`, warnings };
}

/**
 * A service gets the user manager's environment, not the shell's: a `{ env: NAME }` secret set
 * only in the shell is missing there, and the watch would refuse the file on every cycle. Warns
 * (naming the variable, never a value) rather than refuses: a drop-in's Environment= or a later
 * set-environment can still supply it.
 */
async function missingFromUserManager(host: Host, names: readonly string[], unit: string): Promise<string[]> {
  if (names.length === 0) return [];
  const r = await host.exec('systemctl', ['--user', 'show-environment'], { timeoutMs: 10_000 });
  const fixes = (name: string) =>
    `keep the secret in a file instead ({ file: ~/.config/voicemode/livekit.secret }, chmod 600), ` +
    `or run \`systemctl --user set-environment ${name}=…\` and then \`systemctl --user restart ${unit}\``;
  if (r.code !== 0) {
    const why = (r.error ?? r.stderr.trim().split('\n')[0]) || `exit ${r.code}`;
    return names.map((n) => `cannot read the systemd user manager's environment (${why}) to check that ${n} is set there; vm watch as a service sees only that environment: ${fixes(n)}`);
  }
  // One NAME=VALUE per line; only the names are looked at.
  const set = new Set(r.stdout.split('\n').map((l) => l.slice(0, l.indexOf('='))).filter((n) => n !== ''));
  return names
    .filter((n) => !set.has(n))
    .map((n) => `the file reads a secret from the environment variable ${n}, which the systemd user manager's environment lacks: vm watch as a service will not find it and will not apply the file. Either ${fixes(n)}`);
}

export async function uninstallWatchService(host: Host, desired: DesiredState, paths: Roots, vmBin: string): Promise<string> {
  const { kind, svc } = await supervised(host, desired, paths, vmBin, desired.source.kind === 'file' ? desired.source.path : '');
  const sup = await supervisorFor(kind);
  // Stop the watcher only; the services keep running as they are.
  for (const verb of ['stop', 'disable'] as const) await sup.run(host, svc, verb);
  await host.remove(svc.definitionFile ?? '');
  await sup.run(host, svc, 'unload');
  return `${svc.definitionFile} removed; LiveKit keeps running as it is`;
}

async function supervised(host: Host, desired: DesiredState, paths: Roots, vmBin: string, specFile: string): Promise<{ kind: 'systemd' | 'launchd'; svc: ServiceSpec }> {
  const found = await observeFacts(host, desired.supervisor, '').supervise((k) => watchServiceSpec(k, paths, vmBin, specFile));
  const kind = found.supervisor.kind;
  if (kind !== 'systemd' && kind !== 'launchd') {
    throw new UserError('SUPERVISOR_UNAVAILABLE', `vm watch --install-service needs systemd or launchd (${found.supervisor.why})`, 'without either, start `vm watch` from your shell profile or a terminal multiplexer');
  }
  return { kind, svc: watchServiceSpec(kind, paths, vmBin, specFile) };
}
