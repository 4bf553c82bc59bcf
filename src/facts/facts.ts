// What is observed once per snapshot and shared by every service: which supervisor runs them
// here (and why), whether systemd keeps user services after logout, the host's name, this
// machine on its tailnet. Services' observers ask for these; each is asked at most once per
// snapshot, and only when someone needs it (a plan without `expose` never runs tailscale).

import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { RuntimeState, ServiceSpec, SupervisorKind, SupervisorState, TailnetState } from '../model.js';
import type { Host } from '../platform/host.js';
import { supervisorFor } from '../platform/supervisor.js';

export interface Facts {
  /**
   * The supervisor chosen for this machine, and what it knows of `spec`'s service. The choice is
   * made by the first caller, whose own runtime read doubles as the probe (a systemd user
   * manager that answers), so a plan of one service waits for one round trip, not two.
   */
  supervise(spec: (kind: SupervisorKind) => ServiceSpec): Promise<{ supervisor: SupervisorState; runtime: RuntimeState | undefined }>;
  /** systemd only: whether lingering is on; undefined when unknown or not Linux. */
  lingering(): Promise<boolean | undefined>;
  /** The host name (VOICEMODE_HOSTNAME replaces the detected one: containers, tests). */
  readonly hostname: string;
  /** This machine on its tailnet (`tailscale status --json`), asked on the first call only. */
  tailnet(): Promise<TailnetState>;
}

export function observeFacts(host: Host, wanted: 'auto' | SupervisorKind, hostname: string): Facts {
  let decided: Promise<SupervisorState> | undefined;
  let lingering: Promise<boolean | undefined> | undefined;
  let tailnet: Promise<TailnetState> | undefined;
  const tryKind = async (kind: SupervisorKind, why: string, spec: (k: SupervisorKind) => ServiceSpec) => {
    try {
      const runtime = await (await supervisorFor(kind)).observe(host, spec(kind));
      return { supervisor: { kind, why } as SupervisorState, runtime };
    } catch (e) {
      if (e instanceof UserError && e.code === 'SUPERVISOR_UNAVAILABLE') return { supervisor: { kind: 'unavailable', wanted, why: e.message } as SupervisorState, runtime: undefined };
      throw e;
    }
  };
  const choose = async (spec: (k: SupervisorKind) => ServiceSpec) => {
    if (wanted !== 'auto') return tryKind(wanted, `supervisor: ${wanted} in the file`, spec);
    if (host.platform === 'darwin') return tryKind('launchd', 'auto: macOS', spec);
    const systemd = await tryKind('systemd', 'auto: a systemd user manager answers', spec);
    if (systemd.supervisor.kind !== 'unavailable') return systemd;
    return tryKind('process', `auto: no systemd user manager (${systemd.supervisor.why}); vm supervises the process itself`, spec);
  };
  return {
    hostname,
    async supervise(spec) {
      if (decided === undefined) {
        const first = choose(spec);
        decided = first.then((r) => r.supervisor);
        return first;
      }
      const sup = await decided;
      if (sup.kind === 'unavailable') return { supervisor: sup, runtime: undefined };
      const r = await tryKind(sup.kind, sup.why, spec);
      return r;
    },
    lingering: () => (lingering ??= host.platform === 'linux' ? observeLingering(host) : Promise.resolve(undefined)),
    // Loaded on first use too: most plans never ask.
    tailnet: () => (tailnet ??= import('./tailnet.js').then((t) => t.observeTailnet(host))),
  };
}

/** logind keeps one file per lingering user; no logind (containers, WSL) → unknown. */
async function observeLingering(host: Host): Promise<boolean | undefined> {
  const user = host.env['USER'] ?? host.env['LOGNAME'];
  if (user === undefined || (await host.stat('/var/lib/systemd/linger')) === undefined) return undefined;
  return (await host.stat(join('/var/lib/systemd/linger', user))) !== undefined;
}
