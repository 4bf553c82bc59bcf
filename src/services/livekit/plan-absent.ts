// `state: absent`: stop, disable, and remove what vm put there. Pure.
// Logs stay unless `remove_data: true`; a Homebrew or install.path binary is never removed.

import type { Effect, ResourceKind, ServiceSpec, Step, StepAction } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';
import { planSupervisedAbsent } from '../../resources/supervised.js';

export interface AbsentPlan {
  readonly steps: Step[];
  readonly notes: string[];
}

export function planAbsent(d: LiveKitDesired, o: LiveKitObserved, paths: LiveKitPaths, svc: ServiceSpec | undefined): AbsentPlan {
  const steps: Step[] = [];
  const notes: string[] = [];
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect) => steps.push({ service: d.name, resource, action, reason, effect });

  planSupervisedAbsent(steps, d.name, o, svc);
  if (o.config.exists) add('config', 'remove', `${paths.config}: state: absent`, { kind: 'remove', path: paths.config });
  if (o.keyFile.exists) add('config', 'remove', `${paths.keyFile}: state: absent (the API keys go with it)`, { kind: 'remove', path: paths.keyFile });

  const m = d.install.method;
  if (m === 'release' || m === 'script') {
    const installed = o.installedVersions.length > 0 || o.binary.kind !== 'absent';
    if (installed) {
      const what = o.installedVersions.length > 0 ? `livekit-server ${o.installedVersions.join(', ')}` : 'livekit-server';
      add('binary', 'remove', `${what} installed by vm: state: absent`, { kind: 'remove', path: paths.binary });
      if (o.installedVersions.length > 0) add('binary', 'remove', `${paths.versionsDir}: state: absent`, { kind: 'remove', path: paths.versionsDir });
    }
  } else if (o.binary.kind !== 'absent') {
    notes.push(`the ${m === 'brew' ? 'Homebrew' : 'install.path'} binary ${o.binary.path} is not vm's to remove: it stays`);
  }

  if (o.logDirExists) {
    if (d.removeData) add('data', 'remove', `${paths.logDir}: state: absent with remove_data: true`, { kind: 'remove', path: paths.logDir });
    else notes.push(`logs are kept in ${paths.logDir} (remove_data: true deletes them)`);
  }
  return { steps, notes };
}
