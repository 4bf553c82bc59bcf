// A supervised process: the supervisor's definition (systemd unit or launchd plist; none for
// vm's own process supervisor), its loaded copy, enablement at login, running, and healthy.
// Planning these is the same for every kind of service; each kind brings the ServiceSpec, the
// rendered definition, its health URL and why a running process is stale. The supervisor's blocker
// and lingering warning (planSupervisor) and `state: absent` (planSupervisedAbsent) are shared too.
// Pure.
//
// A changed definition or file the process uses plans exactly one restart; a stopped service
// plans a start instead. Every start or restart is followed by a wait for health: a program may
// exit 0 on a config error (livekit-server does), so only the health check says it works.

import type { Effect, FileState, HealthCheck, HealthState, ResourceKind, RuntimeState, ServiceDesiredBase, ServiceName, ServicePaths, ServiceSpec, ServiceState, Step, StepAction, SupervisorKind, SupervisorState, SupervisorVerb } from '../model.js';
import type { ServicePlan } from '../services/contract.js';
import { describeCheck } from './health.js';
import { unbindable, type Holder } from './listening.js';
import { DEFINITION_DIR_MODE, DEFINITION_FILE_MODE, fileProblem, planWrite, PRIVATE_DIR_MODE, type Ownership } from './managed-file.js';
import type { SupervisedObserved } from './supervised-observe.js';

export interface SupervisedInput {
  readonly service: ServiceName;
  /** "LiveKit", "whisper", …: in reasons and warnings. */
  readonly title: string;
  readonly state: Exclude<ServiceState, 'absent'>;
  readonly autostart: boolean;
  readonly port: number;
  readonly kind: SupervisorKind;
  readonly svc: ServiceSpec;
  /** The unit or plist text (undefined for the process supervisor). */
  readonly definition: string | undefined;
  readonly observed: {
    readonly runtime: RuntimeState;
    readonly definition: FileState;
    readonly logDirMode: number | undefined;
    readonly health: HealthState;
  };
  /**
   * Ports the service needs and who holds each when that is not the managed process: a blocker
   * before anything starts (the program would exit with "address already in use").
   */
  readonly taken: ReadonlyArray<{ readonly holder: Holder | undefined; readonly what: string; readonly fix: string }>;
  /** Bind addresses this machine does not have (resources/listening.ts). */
  readonly unbindable: readonly string[];
  readonly logDir: string;
  readonly health: { readonly url: string; readonly check: HealthCheck; readonly timeoutMs: number; readonly resp?: { readonly address: string; readonly password?: string | undefined } };
  /** Why the running process no longer matches what is on disk (files the kind rewrites). */
  readonly restartBecause: readonly string[];
  /** Files the process uses, with their mtimes: one written after it started makes it stale. */
  readonly uses: ReadonlyArray<readonly [string, number | undefined]>;
}

/**
 * What every supervised kind's plan says first, whatever its state: no supervisor is a blocker,
 * and systemd without lingering stops the service at logout. The supervisor kind and the
 * ServiceSpec to plan with come back (both undefined without a supervisor).
 */
export function planSupervisor(
  out: ServicePlan,
  title: string,
  state: ServiceState,
  o: { readonly supervisor: SupervisorState; readonly lingering?: boolean | undefined },
  spec: (kind: SupervisorKind) => ServiceSpec,
): { readonly kind: SupervisorKind | undefined; readonly svc: ServiceSpec | undefined } {
  const sup = o.supervisor;
  const kind = sup.kind === 'unavailable' ? undefined : sup.kind;
  if (sup.kind === 'unavailable') out.blockers.push(`no supervisor for ${title}: ${sup.why}`);
  if (kind === 'systemd' && o.lingering === false && state !== 'absent') {
    out.warnings.push(`lingering is off: systemd stops your user services when you log out; run \`loginctl enable-linger $USER\` to keep ${title} running`);
  }
  return { kind, svc: kind === undefined ? undefined : spec(kind) };
}

/** `state: absent` for the supervised process: stop, disable, remove the definition and unload it. The kind removes its own files. */
export function planSupervisedAbsent(steps: Step[], service: ServiceName, o: { readonly supervisor: SupervisorState; readonly runtime: RuntimeState | undefined; readonly definition: FileState }, svc: ServiceSpec | undefined): void {
  const kind = o.supervisor.kind;
  if (svc === undefined || kind === 'unavailable') return;
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect) => steps.push({ service, resource, action, reason, effect });
  const rt = o.runtime;
  if (rt?.running === true) add('running', 'stop', `state: absent, but pid ${rt.pid} is running`, supervise(kind, 'stop', svc));
  if (rt?.enabled === true) add('unit', 'disable', 'state: absent, but the service is enabled', supervise(kind, 'disable', svc));
  if (o.definition.exists && svc.definitionFile !== undefined) {
    add('unit', 'remove', `${svc.definitionFile}: state: absent`, { kind: 'remove', path: svc.definitionFile });
    add('unit', kind === 'systemd' ? 'daemon-reload' : 'reload', 'unit file removed', supervise(kind, 'unload', svc));
  }
}

/**
 * The SupervisedInput of a service on one port whose program vm never installs (every kind but
 * LiveKit): a foreign holder of that port blocks a start, and the process uses the program, the
 * kind's own files (`uses`), then its definition.
 */
export function programInput(
  d: ServiceDesiredBase,
  o: SupervisedObserved,
  i: Pick<SupervisedInput, 'state' | 'kind' | 'svc' | 'definition' | 'logDir' | 'health' | 'restartBecause' | 'uses'> & { readonly runtime: RuntimeState },
): SupervisedInput {
  return {
    service: d.name,
    title: d.name,
    state: i.state,
    autostart: d.autostart,
    port: d.port,
    kind: i.kind,
    svc: i.svc,
    definition: i.definition,
    observed: { runtime: i.runtime, definition: o.definition, logDirMode: o.logDirMode, health: o.health },
    logDir: i.logDir,
    health: i.health,
    restartBecause: i.restartBecause,
    taken: [{ holder: o.portHolder ?? (o.health.kind === 'foreign' ? o.health : undefined), what: `port ${d.port}`, fix: 'another port' }],
    unbindable: unbindable(d.name, d.bindAddresses, o.localAddresses),
    uses: [
      ['program', o.program.exists && o.program.kind === 'file' ? o.program.mtimeMs : undefined],
      ...i.uses,
      ['unit', o.definition.exists ? o.definition.mtimeMs : undefined],
    ],
  };
}

export function planSupervised(out: ServicePlan, i: SupervisedInput, own: Ownership): void {
  const { kind, svc } = i;
  const rt = i.observed.runtime;
  const restartBecause = [...i.restartBecause];
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect): void => {
    out.steps.push({ service: i.service, resource, action, reason, effect });
  };
  const unitWord = kind === 'systemd' ? 'unit' : 'plist';

  if (i.observed.logDirMode === undefined) {
    // Neither systemd (append:) nor launchd creates the log's directory; the start would fail.
    add('unit', 'create', `${i.logDir}: log directory missing`, { kind: 'mkdir', path: i.logDir, mode: PRIVATE_DIR_MODE });
    // A running process keeps writing into the deleted file: only a restart reopens the log.
    if (rt.running) restartBecause.push('log directory was removed');
  }
  let definitionWhy: string | undefined;
  if (i.definition !== undefined && svc.definitionFile !== undefined) {
    definitionWhy = fileProblem(i.observed.definition, i.definition, DEFINITION_FILE_MODE, () => `${unitWord} changed`);
    if (definitionWhy !== undefined) {
      planWrite(out, i.service, 'unit', definitionWhy, { path: svc.definitionFile, observed: i.observed.definition, content: i.definition, mode: DEFINITION_FILE_MODE, dirMode: DEFINITION_DIR_MODE }, own);
      restartBecause.push(i.observed.definition.exists ? `${unitWord} changed` : `${unitWord} created`);
    }
  }
  if (definitionWhy !== undefined || !rt.loaded) {
    add('unit', kind === 'systemd' ? 'daemon-reload' : 'reload', definitionWhy !== undefined ? `${unitWord} file written` : rt.loadDetail, supervise(kind, 'reload', svc));
    if (definitionWhy === undefined) restartBecause.push('definition reloaded');
  }
  if (rt.enabled === undefined) {
    if (i.autostart) out.warnings.push(`the process supervisor cannot start ${i.title} at login (autostart needs systemd or launchd); until you log in and run vm, ${i.title} is not running`);
  } else if (i.autostart !== rt.enabled) {
    add('unit', i.autostart ? 'enable' : 'disable', `autostart: ${i.autostart} but the service is ${rt.enabled ? 'enabled' : 'not enabled'}`, supervise(kind, i.autostart ? 'enable' : 'disable', svc));
  }

  const wait: Effect = { kind: 'wait-healthy', url: i.health.url, check: i.health.check, timeoutMs: i.health.timeoutMs, supervisor: kind, service: svc, ...(i.health.resp === undefined ? {} : { resp: i.health.resp }) };
  const waitWhy = `wait until ${describeCheck(i.health.check, i.health.url)} (up to ${i.health.timeoutMs / 1000}s)`;
  if (i.state === 'stopped') {
    if (rt.running) add('running', 'stop', `state: stopped, but pid ${rt.pid} is running`, supervise(kind, 'stop', svc));
    return;
  }
  // The program would fail to listen (livekit-server prints "address already in use" and exits
  // 0): say who holds the port instead. A foreign server there answers the health check, so
  // without this a start would look healthy.
  const taken = i.taken.filter((t) => t.holder !== undefined && !(rt.running && t.holder.pid === rt.pid));
  if (taken.length > 0) {
    for (const { holder, what, fix } of taken) {
      const who = holder === undefined ? '' : holder.pid > 0 ? `pid ${holder.pid} (${holder.command})` : holder.command;
      out.blockers.push(`${what} is in use by ${who}, not by vm's ${i.title}: ${i.title} cannot listen there; stop that process or choose ${fix}`);
    }
    out.blockers.push(...i.unbindable);
    return;
  }
  if (rt.running && restartBecause.length === 0) restartBecause.push(...staleness(i.uses, rt.startedAtMs, rt.pid));
  const health = i.observed.health;
  if (!rt.running) {
    // Not running now, but a supervisor may start it on its own before this step runs (systemd's
    // Restart= timer after a crash, `activating (auto-restart)`): then `start` is a no-op and the
    // process keeps the setup from before this plan's writes. `restart` starts it either way.
    const verb: SupervisorVerb = restartBecause.length > 0 || rt.state.includes('auto-restart') ? 'restart' : 'start';
    add('running', 'start', `not running: ${rt.state}`, supervise(kind, verb, svc));
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (restartBecause.length > 0 && kind === 'launchd' && out.steps.some((s) => s.action === 'reload')) {
    // For launchd a reload is bootout + bootstrap: the job already restarts with the new setup.
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (restartBecause.length > 0) {
    add('running', 'restart', `pid ${rt.pid} must restart to use the new setup: ${restartBecause.join(', ')}`, supervise(kind, 'restart', svc));
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (health.kind === 'unhealthy') {
    add('running', 'restart', `pid ${rt.pid} is running but not healthy: ${health.detail}`, supervise(kind, 'restart', svc));
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (health.kind === 'starting') {
    add('healthy', 'wait-healthy', `still starting (${i.health.check.protocol === 'resp' ? 'PING → LOADING' : `GET ${new URL(i.health.url).pathname} → ${health.status}`}); ${waitWhy}`, wait);
  }
  // A missing bind address fails only a start: a process already listening keeps its sockets.
  const starts = out.steps.some((s) => s.resource === 'running' || s.resource === 'healthy');
  (starts ? out.blockers : out.warnings).push(...i.unbindable.map((w) => (starts ? w : `${w} (${i.title} runs now, but would not start again)`)));
}

/** `vm restart`: one restart through the supervisor, then the same wait for health a plan takes. */
export function restartAndWait(kind: SupervisorKind, svc: ServiceSpec, health: SupervisedInput['health']): Effect[] {
  return [
    supervise(kind, 'restart', svc),
    { kind: 'wait-healthy', url: health.url, check: health.check, timeoutMs: health.timeoutMs, supervisor: kind, service: svc, ...(health.resp === undefined ? {} : { resp: health.resp }) },
  ];
}

export function supervise(kind: SupervisorKind, verb: SupervisorVerb, service: ServiceSpec): Effect {
  return { kind: 'supervise', supervisor: kind, verb, service };
}

/**
 * Files written after the running process started: it runs an older setup even though every
 * file is right (e.g. vm was killed between writing the config and restarting). Level-triggered:
 * the next plan sees it without remembering what the last run did.
 */
function staleness(uses: SupervisedInput['uses'], startedAtMs: number | undefined, pid: number): string[] {
  if (startedAtMs === undefined) return [];
  return uses.filter(([, m]) => m !== undefined && m > startedAtMs).map(([name]) => `${name} written after pid ${pid} started`);
}

/**
 * A ServiceSpec from a service's paths alone, to ask the supervisor about a service the file no
 * longer declares (its unit, LaunchAgent or PID file: which program it ran does not matter).
 */
export function specFromPaths(name: ServiceName, p: ServicePaths, kind: SupervisorKind): ServiceSpec {
  return {
    name,
    label: kind === 'systemd' ? p.unitName : p.launchdLabel,
    binary: '',
    args: [],
    logFile: p.logFile,
    definitionFile: kind === 'systemd' ? p.unitFile : kind === 'launchd' ? p.plistFile : undefined,
    pidFile: p.pidFile,
    autostart: false,
  };
}

/**
 * The rollback of a supervised service, for the steps that ran: each file it wrote put back as
 * `previousOf` says it was (or removed when it was absent; undefined: not this rollback's to
 * restore), the enablement as it was, a reload when the definition changed, then the process
 * restarted (and its health waited for) when it was running, or stopped. Pure.
 */
export function rollbackSupervised(
  o: { readonly definition: FileState; readonly runtime: RuntimeState | undefined },
  planned: readonly Step[],
  touched: readonly Step[],
  previousOf: (step: Step) => FileState | undefined,
): Effect[] {
  const out: Effect[] = [];
  let supervised: Extract<Effect, { kind: 'supervise' }> | undefined;
  let definitionTouched = false;
  for (const step of touched) {
    const e = step.effect;
    if (e.kind === 'write-file') {
      const was = previousOf(step);
      if (was === undefined) continue;
      if (step.resource === 'unit') definitionTouched = true;
      out.push(was.exists ? { kind: 'write-file', path: e.path, content: was.content, mode: was.mode, dirMode: e.dirMode } : { kind: 'remove', path: e.path });
    } else if (e.kind === 'supervise') {
      supervised = e;
      if (e.verb === 'enable' || e.verb === 'disable') out.push({ ...e, verb: o.runtime?.enabled === true ? 'enable' : 'disable' });
    }
  }
  if (supervised === undefined) return out;
  const { supervisor, service } = supervised;
  if (definitionTouched) out.push({ kind: 'supervise', supervisor, verb: 'reload', service });
  const wait = planned.map((s) => s.effect).find((e) => e.kind === 'wait-healthy');
  if (o.runtime?.running === true && (o.definition.exists || supervisor === 'process')) {
    out.push({ kind: 'supervise', supervisor, verb: 'restart', service });
    if (wait !== undefined) out.push(wait);
  } else {
    out.push({ kind: 'supervise', supervisor, verb: 'stop', service });
  }
  return out;
}
