// launchd LaunchAgents (macOS), through `launchctl` in the user's GUI domain, gui/UID.
//
// launchd keeps the plist it bootstrapped and ignores edits to the file until the service is booted
// out and bootstrapped again; `launchctl print` names the file it loaded but not its content. So
// each bootstrap by vm records the sha256 of the plist it handed over (beside the PID file, in
// vm's run directory) and observe compares it with the file on disk. A hash rather than mtimes: an
// mtime says nothing about which bytes launchd read. No record (bootstrapped by hand, or the
// record deleted) counts as stale: the cost is one extra reload, never a stale copy left running.
//
// Starting at login: launchd bootstraps every plist in ~/Library/LaunchAgents at login unless the
// service is disabled (`launchctl disable`, an override kept outside the plist), and KeepAlive=true
// starts a job as soon as it is loaded, whatever RunAtLoad says. So `enabled` is "the plist is
// there and not disabled", and writing the plist enables it: whenever vm (re)loads the plist it
// also sets the override from svc.autostart, or `autostart: false` would still start at login.
// A disabled service cannot be bootstrapped: bootstrap lifts the override for that moment only.

import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { FileState, RuntimeState, ServiceSpec } from '../../model.js';
import { UserError } from '../../errors.js';
import type { ExecResult, Host } from '../host.js';
import type { Supervisor } from '../supervisor.js';

/** How long bootout may take: launchd sends SIGTERM, LiveKit drains, launchd's exit timeout is 20 s. */
const BOOTOUT_WAIT_MS = 30_000;

interface Printed {
  readonly bootstrapped: boolean;
  readonly path: string;
  readonly state: string;
  readonly pid: number;
}

export const launchdSupervisor: Supervisor = {
  kind: 'launchd',
  async observe(host, svc) {
    const target = await targetOf(host, svc);
    const [p, disabled, plist, record] = await Promise.all([print(host, target), isDisabled(host, target), readDefinition(host, svc), host.readFile(recordPath(svc))]);
    const stale = p.bootstrapped ? staleness(p, svc, plist, record) : undefined;
    const running = p.bootstrapped && p.state === 'running' && p.pid > 0;
    const state = !p.bootstrapped ? 'not loaded (launchd does not know the service)' : `${p.state || 'unknown'}${running ? ` (pid ${p.pid})` : ''}`;
    const enabled = plist.exists && !disabled;
    return { loaded: stale === undefined, loadDetail: stale ?? '', enabled, running, pid: running ? p.pid : 0, startedAtMs: undefined, state } satisfies RuntimeState;
  },
  async run(host, svc, verb) {
    const target = await targetOf(host, svc);
    const bootstrapped = async () => (await print(host, target)).bootstrapped;
    switch (verb) {
      case 'start':
        if (!(await bootstrapped())) await bootstrap(host, svc, target);
        // Without -k, kickstart leaves a running job alone.
        return must(host, ['kickstart', target.service]);
      case 'restart':
        // Not loaded: bootstrapping starts it (KeepAlive), so there is nothing old to kill.
        if (!(await bootstrapped())) return bootstrap(host, svc, target).then(() => must(host, ['kickstart', target.service]));
        return must(host, ['kickstart', '-k', target.service]);
      case 'reload':
        // Only a loaded service is reloaded: a stopped one stays stopped, and its next start
        // bootstraps the file on disk anyway. The override goes with the plist either way.
        if (!(await bootstrapped())) return setOverride(host, target, svc.autostart);
        await bootout(host, svc, target);
        return bootstrap(host, svc, target);
      case 'stop': // KeepAlive would start a killed LiveKit again: stopping means unloading
      case 'unload':
        if (await bootstrapped()) await bootout(host, svc, target);
        return host.remove(recordPath(svc));
      case 'enable':
      case 'disable':
        return must(host, [verb, target.service]);
    }
  },
};

interface Target {
  readonly domain: string;
  readonly service: string;
}

async function targetOf(host: Host, svc: ServiceSpec): Promise<Target> {
  let uid = process.getuid?.();
  if (uid === undefined) {
    const r = await host.exec('id', ['-u']);
    uid = Number(r.stdout.trim());
    if (r.code !== 0 || !Number.isInteger(uid)) throw new UserError('SUPERVISOR_UNAVAILABLE', 'cannot tell the user id (`id -u` failed)');
  }
  return { domain: `gui/${uid}`, service: `gui/${uid}/${svc.label}` };
}

/** Why launchd's copy differs from the plist on disk, or undefined when it is the same. */
function staleness(p: Printed, svc: ServiceSpec, plist: FileState, record: FileState): string | undefined {
  if (svc.definitionFile !== undefined && p.path !== svc.definitionFile) return `launchd loaded ${svc.label} from ${p.path || 'an unknown file'}`;
  if (!plist.exists) return 'launchd holds a plist that is no longer on disk';
  if (!record.exists) return 'launchd holds a copy of the plist that vm did not load';
  return record.content.trim() === sha256(plist.content) ? undefined : 'launchd has an older copy of the plist';
}

async function bootstrap(host: Host, svc: ServiceSpec, target: Target): Promise<void> {
  const plist = await readDefinition(host, svc);
  if (!plist.exists || svc.definitionFile === undefined) throw new UserError('STEP_FAILED', `cannot load ${svc.label}: ${svc.definitionFile ?? 'its plist'} is missing`);
  const disabled = await isDisabled(host, target);
  if (disabled) await must(host, ['enable', target.service]);
  try {
    await must(host, ['bootstrap', target.domain, svc.definitionFile]);
  } finally {
    // Disabling a loaded job leaves it running: it only keeps launchd from loading it at login.
    if (!svc.autostart) await must(host, ['disable', target.service]);
  }
  await host.writeFileAtomic(recordPath(svc), `${sha256(plist.content)}\n`, 0o600, 0o700);
}

async function setOverride(host: Host, target: Target, autostart: boolean): Promise<void> {
  if ((await isDisabled(host, target)) === autostart) await must(host, [autostart ? 'enable' : 'disable', target.service]);
}

async function bootout(host: Host, svc: ServiceSpec, target: Target): Promise<void> {
  const r = await launchctl(host, ['bootout', target.service]);
  // launchd may still be tearing the job down when bootout returns; a bootstrap now would fail.
  const end = host.now() + BOOTOUT_WAIT_MS;
  while ((await print(host, target)).bootstrapped) {
    if (r.code !== 0) throw failed(['bootout', target.service], r);
    if (host.now() > end) throw new UserError('STEP_FAILED', `launchd still holds ${svc.label} ${BOOTOUT_WAIT_MS / 1000} s after bootout`);
    await host.sleep(100);
  }
  await host.remove(recordPath(svc));
}

async function print(host: Host, target: Target): Promise<Printed> {
  const r = await launchctl(host, ['print', target.service]);
  if (r.code !== 0) {
    if (/could not find service/i.test(r.stderr + r.stdout)) return { bootstrapped: false, path: '', state: '', pid: 0 };
    throw new UserError('SUPERVISOR_UNAVAILABLE', `launchctl print ${target.service} failed: ${firstLine(r)}`);
  }
  // The service's own properties are indented by one tab; deeper lines belong to nested blocks.
  const props = new Map<string, string>();
  for (const m of r.stdout.matchAll(/^\t([^\t=][^=]*?) = (.*)$/gm)) if (m[1] !== undefined && !props.has(m[1])) props.set(m[1], m[2] ?? '');
  return { bootstrapped: true, path: props.get('path') ?? '', state: props.get('state') ?? '', pid: Number(props.get('pid') ?? 0) || 0 };
}

async function isDisabled(host: Host, target: Target): Promise<boolean> {
  const r = await launchctl(host, ['print-disabled', target.domain]);
  if (r.code !== 0) throw new UserError('SUPERVISOR_UNAVAILABLE', `launchctl print-disabled ${target.domain} failed: ${firstLine(r)}`);
  // `"label" => disabled` (macOS 13+) or `"label" => true` (older).
  const label = target.service.slice(target.service.lastIndexOf('/') + 1);
  const m = new RegExp(`^\\s*"${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}" => (\\w+)`, 'm').exec(r.stdout);
  return m?.[1] === 'disabled' || m?.[1] === 'true';
}

async function launchctl(host: Host, args: readonly string[]): Promise<ExecResult> {
  const r = await host.exec('launchctl', args, { timeoutMs: 60_000 });
  if (r.code === 127) throw new UserError('SUPERVISOR_UNAVAILABLE', `launchctl was not found (${r.error ?? 'not on PATH'})`);
  return r;
}

async function must(host: Host, args: readonly string[]): Promise<void> {
  const r = await launchctl(host, args);
  if (r.code !== 0) throw failed(args, r);
}

function failed(args: readonly string[], r: ExecResult): UserError {
  return new UserError('STEP_FAILED', `launchctl ${args.join(' ')} failed: ${firstLine(r)}`);
}

function firstLine(r: ExecResult): string {
  return (r.stderr.trim() || r.stdout.trim() || r.error || `exit ${r.code}`).split('\n')[0] ?? '';
}

function readDefinition(host: Host, svc: ServiceSpec): Promise<FileState> {
  return svc.definitionFile === undefined ? Promise.resolve({ exists: false }) : host.readFile(svc.definitionFile);
}

/** vm's record of the plist it bootstrapped: runtime state, like the PID file beside it. */
function recordPath(svc: ServiceSpec): string {
  return join(dirname(svc.pidFile), `${svc.label}.plist.sha256`);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
