// The supervisor port: what vm asks of systemd, launchd or a plain supervised process. The
// planner only sees RuntimeState; apply only calls `run`. Adapters live in ./supervisors/.

import type { RuntimeState, ServiceSpec, SupervisorKind, SupervisorVerb } from '../model.js';
import type { Host } from './host.js';
import { systemdSupervisor } from './supervisors/systemd.js';

export interface Supervisor {
  readonly kind: SupervisorKind;
  /** Never changes anything. */
  observe(host: Host, svc: ServiceSpec): Promise<RuntimeState>;
  /** Carries out one verb; throws a UserError saying what the supervisor answered. Idempotent. */
  run(host: Host, svc: ServiceSpec, verb: SupervisorVerb): Promise<void>;
}

/**
 * systemd, the common case, is loaded with the plan; launchd and process code only when used.
 */
export async function supervisorFor(kind: SupervisorKind): Promise<Supervisor> {
  switch (kind) {
    case 'systemd':
      return systemdSupervisor;
    case 'launchd':
      return (await import('./supervisors/launchd.js')).launchdSupervisor;
    case 'process':
      return (await import('./supervisors/process.js')).processSupervisor;
  }
}
