// systemd user units. State comes from the unit's properties (showUnit: over D-Bus, or one
// `systemctl --user show`) plus the default.target.wants link: systemd caches UnitFileState, and
// after `systemctl --user disable` of a running unit `show` kept saying `enabled` while
// `is-enabled` said `disabled` (systemd 252).

import { dirname, join } from 'node:path';
import type { RuntimeState, ServiceSpec, SupervisorVerb, UnitState } from '../../model.js';
import { UserError } from '../../errors.js';
import type { Host } from '../host.js';
import type { Supervisor } from '../supervisor.js';
import { showUnit, systemctlVerb } from '../systemd.js';

export const systemdSupervisor: Supervisor = {
  kind: 'systemd',
  async observe(host, svc) {
    const [show, wants] = await Promise.all([showUnit(host, svc.label), host.stat(wantsLink(svc))]);
    if (!show.ok) throw new UserError('SUPERVISOR_UNAVAILABLE', show.why);
    return runtimeOf(show.unit, wants !== undefined);
  },
  async run(host, svc, verb) {
    if (verb === 'start' || verb === 'restart') {
      // A unit that hit its start limit refuses a manual start until its failure is reset.
      await systemctlVerb(host, 'reset-failed', svc.label);
    }
    const args = systemctlArgs(verb, svc);
    if (args === undefined) return;
    const r = await systemctlVerb(host, args.verb, args.unit);
    if (r.code !== 0) {
      const msg = (r.stderr.trim() || r.error || `exit ${r.code}`).split('\n')[0];
      throw new UserError('STEP_FAILED', `systemctl --user ${args.verb} failed: ${msg}`);
    }
  },
};

function systemctlArgs(verb: SupervisorVerb, svc: ServiceSpec): { verb: Parameters<typeof systemctlVerb>[1]; unit?: string } | undefined {
  switch (verb) {
    case 'reload':
    case 'unload': // the unit file is gone: reloading drops it
      return { verb: 'daemon-reload' };
    case 'enable':
    case 'disable':
    case 'start':
    case 'restart':
    case 'stop':
      return { verb, unit: svc.label };
  }
}

export function runtimeOf(u: UnitState, enabled: boolean): RuntimeState {
  const running = u.activeState === 'active' && u.mainPid > 0;
  const loaded = u.loadState === 'loaded' && !u.needDaemonReload;
  const loadDetail = u.needDaemonReload ? 'systemd has an older copy of the unit file' : u.loadState === 'loaded' ? '' : `systemd has not loaded the unit (${u.loadState || 'unknown'})`;
  const sub = u.subState !== '' && u.subState !== u.activeState ? ` (${u.subState})` : '';
  return { loaded, loadDetail, enabled, running, pid: running ? u.mainPid : 0, startedAtMs: running ? u.startedAtMs : undefined, state: `${u.activeState || 'unknown'}${sub}` };
}

function wantsLink(svc: ServiceSpec): string {
  return join(dirname(svc.definitionFile ?? ''), 'default.target.wants', svc.label);
}
