// LiveKit's planner: (desired, observed) → ordered steps. Pure: no I/O, no clock; randomness (a
// fresh secret) is injected.
//
// Order: binary → config → unit → running → healthy. A binary, config, key file or unit created or
// changed under a running process plans exactly one restart; a stopped service plans a start instead. Every start or restart is
// followed by a wait for health, because livekit-server exits 0 on a config error and only
// `GET /` → 200 OK says it works. `state: absent` is planned in plan-absent.ts.

import type { Effect, FileState, LiveKitDesired, LiveKitObserved, ResourceKind, ServicePaths, ServiceSpec, Step, StepAction, SupervisorKind, SupervisorVerb } from '../../model.js';
import { describeYamlChange } from '../../plan/describe-change.js';
import { basename } from 'node:path';
import { describeKeyChanges, MIN_SECRET_LENGTH, readKeyFile, resolveKeys } from './keys.js';
import { ownership } from './ownership.js';
import { planAbsent } from './plan-absent.js';
import { planBinary } from './plan-binary.js';
import { healthUrl, redactKeyFile, renderConfig, renderKeyFile } from './render.js';
import { renderDefinition, serviceSpec } from './supervision.js';

/** Secrets live in the key file and its directory: owner only. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
const DEFINITION_FILE_MODE = 0o644;
const DEFINITION_DIR_MODE = 0o755;

export interface PlanContext {
  readonly unitTemplate: string;
  /**
   * A new random secret, asked for only when a generated key has none on disk yet. Injected,
   * like a clock, so the planner stays deterministic under test; memoised by the caller so one
   * command uses one secret.
   */
  readonly freshSecret: () => string;
  /** HMAC-SHA256(salt, data) in hex: digests for vm's record, fingerprints of secrets. */
  readonly hmac: (salt: string, data: string) => string;
  /** A new random salt, when vm has no record yet (memoised like freshSecret). */
  readonly freshSalt: () => string;
  /** --force: overwrite files at managed paths that vm never wrote (keeping a backup). */
  readonly force: boolean;
}

export interface ServicePlan {
  readonly steps: Step[];
  readonly blockers: string[];
  readonly warnings: string[];
  readonly notes: string[];
}

export function planLiveKit(d: LiveKitDesired, o: LiveKitObserved, paths: ServicePaths, ctx: PlanContext): ServicePlan {
  const out: ServicePlan = { steps: [], blockers: [], warnings: [], notes: [] };
  const sup = o.supervisor;
  const kind = sup.kind === 'unavailable' ? undefined : sup.kind;
  // brew's binary path is what observe found from `brew --prefix`.
  const svc = kind === undefined ? undefined : serviceSpec(d, paths, kind, d.install.method === 'brew' ? o.binary.path : paths.binary);
  if (sup.kind === 'unavailable') out.blockers.push(`no supervisor for LiveKit: ${sup.why}`);
  if (kind === 'systemd' && o.lingering === false && d.state !== 'absent') {
    out.warnings.push('lingering is off: systemd stops your user services when you log out; run `loginctl enable-linger $USER` to keep LiveKit running');
  }

  if (d.state === 'absent') {
    const a = planAbsent(d, o, paths, svc);
    return { ...out, steps: a.steps, notes: [...out.notes, ...a.notes] };
  }
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect): void => {
    out.steps.push({ service: 'livekit', resource, action, reason, effect });
  };
  /** Why the running process no longer matches what is on disk. */
  const restartBecause: string[] = [];
  const salt = o.written.salt ?? ctx.freshSalt();
  // A short salted fingerprint shows that a secret changed without showing it.
  const fingerprint = (secret: string) => ctx.hmac(salt, `secret:${secret}`).slice(0, 8);
  /** Plans a managed file's write, or a blocker when the file there is not vm's to overwrite. */
  const managed = (resource: ResourceKind, why: string, f: ManagedFile): void => {
    const digest = (content: string) => ctx.hmac(salt, content);
    const own = f.observed.exists && f.observed.content !== f.content ? ownership(f.path, f.observed, o.written, digest) : 'ours';
    if (own === 'foreign' && !ctx.force) {
      out.blockers.push(`${f.path} exists and was not written by vm: vm does not overwrite it without --force (which keeps it as ${basename(f.path)}.vm-backup-TIMESTAMP)`);
      return;
    }
    const keep = own === 'hand-edited' || own === 'foreign';
    const kept = keep ? `; ${own === 'foreign' ? 'not written by vm (--force)' : 'edited by hand'}: the current file is kept as ${basename(f.path)}.vm-backup-TIMESTAMP` : '';
    const step = fileStep(resource, why + kept, f);
    out.steps.push({ ...step, effect: { ...(step.effect as Extract<Effect, { kind: 'write-file' }>), ...(keep ? { backup: true } : {}), record: { stateFile: paths.writtenRecord, salt, digest: digest(f.content) } } });
  };

  // 1. binary
  const bin = planBinary(d, o, paths);
  out.blockers.push(...bin.blockers);
  out.warnings.push(...bin.warnings);
  if (bin.step !== undefined) add('binary', 'install', bin.step.reason, bin.step.effect);
  if (bin.restartBecause !== undefined) restartBecause.push(bin.restartBecause);

  // 2. config and key file
  const keys = resolveKeys(d.keys, o.keyFile, ctx.freshSecret);
  for (const [k, v] of Object.entries(keys.entries)) {
    if (v.length < MIN_SECRET_LENGTH) out.warnings.push(`keys.${k}: secret is shorter than ${MIN_SECRET_LENGTH} characters; LiveKit will log that it is too short`);
  }
  const config = renderConfig(d, paths);
  const configWhy = fileProblem(o.config, config, PRIVATE_FILE_MODE, (before) => `config changed: ${describeYamlChange(before, config)}`);
  if (configWhy !== undefined) {
    managed('config', configWhy, { path: paths.config, observed: o.config, content: config, mode: PRIVATE_FILE_MODE, dirMode: PRIVATE_DIR_MODE });
    // Created or changed, a file the running process uses is newer than it: restart (a created
    // one too, or the next look finds "config written after pid N started").
    restartBecause.push(o.config.exists ? 'config changed' : 'config created');
  }
  const keyFile = renderKeyFile(keys.entries);
  let keyWhy = fileProblem(o.keyFile, keyFile, PRIVATE_FILE_MODE, () => describeKeyChanges(readKeyFile(o.keyFile), keys.entries, fingerprint).join(', ') || 'edited by hand (comments or formatting)');
  if (keyWhy === undefined && o.keyDirMode !== undefined && o.keyDirMode !== PRIVATE_DIR_MODE) {
    keyWhy = `directory mode ${octal(o.keyDirMode)} → ${octal(PRIVATE_DIR_MODE)}`;
  }
  if (keyWhy !== undefined) {
    if (keys.generated === 'new') keyWhy += `; generating a new secret for ${Object.keys(keys.entries).join(', ')}`;
    const before = readKeyFile(o.keyFile);
    const shown = { before: before === undefined ? undefined : redactKeyFile(before), after: redactKeyFile(keys.entries) };
    managed('config', keyWhy, { path: paths.keyFile, observed: o.keyFile, content: keyFile, mode: PRIVATE_FILE_MODE, dirMode: PRIVATE_DIR_MODE, shown });
    restartBecause.push(o.keyFile.exists ? 'key file changed' : 'key file created');
  }
  if (kind === undefined || svc === undefined || o.runtime === undefined) return out; // the blocker says why

  // 3. unit: log directory, the supervisor's definition, its loaded copy, enablement
  if (o.logDirMode === undefined) {
    // Neither systemd (append:) nor launchd creates the log's directory; the start would fail.
    add('unit', 'create', `${paths.logDir}: log directory missing`, { kind: 'mkdir', path: paths.logDir, mode: PRIVATE_DIR_MODE });
    // A running LiveKit keeps writing into the deleted file: only a restart reopens the log.
    if (o.runtime?.running === true) restartBecause.push('log directory was removed');
  }
  const rt = o.runtime;
  const definition = renderDefinition(kind, svc, ctx.unitTemplate);
  let definitionWhy: string | undefined;
  if (definition !== undefined && svc.definitionFile !== undefined) {
    definitionWhy = fileProblem(o.definition, definition, DEFINITION_FILE_MODE, () => `${kind === 'systemd' ? 'unit' : 'plist'} changed`);
    if (definitionWhy !== undefined) {
      managed('unit', definitionWhy, { path: svc.definitionFile, observed: o.definition, content: definition, mode: DEFINITION_FILE_MODE, dirMode: DEFINITION_DIR_MODE });
      restartBecause.push(`${kind === 'systemd' ? 'unit' : 'plist'} ${o.definition.exists ? 'changed' : 'created'}`);
    }
  }
  if (definitionWhy !== undefined || !rt.loaded) {
    add('unit', kind === 'systemd' ? 'daemon-reload' : 'reload', definitionWhy !== undefined ? `${kind === 'systemd' ? 'unit' : 'plist'} file written` : rt.loadDetail, supervise(kind, 'reload', svc));
    if (definitionWhy === undefined) restartBecause.push('definition reloaded');
  }
  if (rt.enabled === undefined) {
    if (d.autostart) out.warnings.push('the process supervisor cannot start LiveKit at login (autostart needs systemd or launchd); until you log in and run vm, LiveKit is not running');
  } else if (d.autostart !== rt.enabled) {
    add('unit', d.autostart ? 'enable' : 'disable', `autostart: ${d.autostart} but the service is ${rt.enabled ? 'enabled' : 'not enabled'}`, supervise(kind, d.autostart ? 'enable' : 'disable', svc));
  }

  // 4. running, 5. healthy
  const wait: Effect = { kind: 'wait-healthy', url: healthUrl(d), timeoutMs: d.health.timeoutMs, supervisor: kind, service: svc };
  const waitWhy = `wait until GET ${healthUrl(d)} answers 200 OK (up to ${d.health.timeoutMs / 1000}s)`;
  if (d.state === 'stopped') {
    if (rt.running) add('running', 'stop', `state: stopped, but pid ${rt.pid} is running`, supervise(kind, 'stop', svc));
    return out;
  }
  const holder = o.portHolder;
  if (holder !== undefined && !(rt.running && holder.pid === rt.pid)) {
    // LiveKit would print "address already in use" and exit 0: say who holds the port instead.
    out.blockers.push(`port ${d.port} is in use by ${holder.pid > 0 ? `pid ${holder.pid} (${holder.command})` : holder.command}: LiveKit cannot listen there; stop that process or choose another port`);
    return out;
  }
  if (rt.running && restartBecause.length === 0) restartBecause.push(...staleness(o, rt.startedAtMs, rt.pid));
  if (!rt.running) {
    add('running', 'start', `not running: ${rt.state}`, supervise(kind, 'start', svc));
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (restartBecause.length > 0 && kind === 'launchd' && out.steps.some((s) => s.action === 'reload')) {
    // For launchd a reload is bootout + bootstrap: the job already restarts with the new setup.
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (restartBecause.length > 0) {
    add('running', 'restart', `pid ${rt.pid} runs an old setup: ${restartBecause.join(', ')}`, supervise(kind, 'restart', svc));
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (o.health.kind === 'unhealthy') {
    add('running', 'restart', `pid ${rt.pid} is running but not healthy: ${o.health.detail}`, supervise(kind, 'restart', svc));
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (o.health.kind === 'starting') {
    add('healthy', 'wait-healthy', `still starting (GET / → ${o.health.status}); ${waitWhy}`, wait);
  }
  return out;
}

function supervise(kind: SupervisorKind, verb: SupervisorVerb, service: ServiceSpec): Effect {
  return { kind: 'supervise', supervisor: kind, verb, service };
}

/** Why `observed` differs from `want` (content or mode), or undefined when it matches. */
function fileProblem(observed: FileState, want: string, mode: number, describe: (before: string) => string): string | undefined {
  if (!observed.exists) return 'missing';
  if (observed.content !== want) return describe(observed.content);
  if (observed.mode !== mode) return `mode ${octal(observed.mode)} → ${octal(mode)}`;
  return undefined;
}

/**
 * Files written after the running process started: it runs an older setup even though every
 * file is right (e.g. vm was killed between writing the config and restarting). Level-triggered:
 * the next plan sees it without remembering what the last run did.
 */
function staleness(o: LiveKitObserved, startedAtMs: number | undefined, pid: number): string[] {
  if (startedAtMs === undefined) return [];
  const files: Array<[string, number | undefined]> = [
    ['binary', o.binary.kind === 'present' ? o.binary.mtimeMs : undefined],
    ['config', o.config.exists ? o.config.mtimeMs : undefined],
    ['key file', o.keyFile.exists ? o.keyFile.mtimeMs : undefined],
    ['unit', o.definition.exists ? o.definition.mtimeMs : undefined],
  ];
  return files.filter(([, m]) => m !== undefined && m > startedAtMs).map(([name]) => `${name} written after pid ${pid} started`);
}

interface ManagedFile {
  readonly path: string;
  readonly observed: FileState;
  readonly content: string;
  readonly mode: number;
  readonly dirMode: number;
  /** What the user is shown instead of the content, when it holds secrets. */
  readonly shown?: { readonly before: string | undefined; readonly after: string };
}

/** The step that (re)writes a managed file, with the diff the user sees. */
function fileStep(resource: ResourceKind, why: string, f: ManagedFile): Step {
  return {
    service: 'livekit',
    resource,
    action: f.observed.exists ? 'update' : 'create',
    reason: `${f.path}: ${why}`,
    effect: { kind: 'write-file', path: f.path, content: f.content, mode: f.mode, dirMode: f.dirMode },
    change: { path: f.path, ...(f.shown ?? { before: f.observed.exists ? f.observed.content : undefined, after: f.content }) },
  };
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
