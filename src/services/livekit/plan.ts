// LiveKit's planner: (desired, observed) → ordered steps. Pure: no I/O, no clock, no randomness
// (a fresh secret, if one is needed, is passed in).
//
// Order: binary → config → unit → running → healthy. A changed binary, config, key file or unit
// plans exactly one restart; a stopped service plans a start instead. Every start or restart is
// followed by a wait for health, because livekit-server exits 0 on a config error and only
// `GET /` → 200 OK says it works.

import type { Effect, FileState, LiveKitDesired, LiveKitObserved, ResourceKind, ServicePaths, Step, StepAction } from '../../model.js';
import { describeYamlChange } from '../../plan/describe-change.js';
import { describeKeyChanges, MIN_SECRET_LENGTH, readKeyFile, resolveKeys } from './keys.js';
import { healthUrl, redactKeyFile, renderConfig, renderKeyFile, renderUnit } from './render.js';

/** Secrets live in the key file and its directory: owner only. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
const UNIT_FILE_MODE = 0o644;
const UNIT_DIR_MODE = 0o755;

export interface PlanContext {
  readonly unitTemplate: string;
  /**
   * A new random secret, asked for only when a generated key has none on disk yet. Injected,
   * like a clock, so the planner stays deterministic under test; memoised by the caller so one
   * command uses one secret.
   */
  readonly freshSecret: () => string;
}

export interface ServicePlan {
  readonly steps: Step[];
  readonly blockers: string[];
  readonly warnings: string[];
}

export function planLiveKit(d: LiveKitDesired, o: LiveKitObserved, paths: ServicePaths, ctx: PlanContext): ServicePlan {
  const out: ServicePlan = { steps: [], blockers: [], warnings: [] };
  const lk = o;
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect): void => {
    out.steps.push({ service: 'livekit', resource, action, reason, effect });
  };
  /** Why the running process no longer matches what is on disk. */
  const restartBecause: string[] = [];

  if (o.supervisor.kind === 'unavailable') {
    out.blockers.push(
      `no service manager for LiveKit: ${o.supervisor.why}. vm needs a systemd user session ` +
        '(`systemctl --user`); the plain-process supervisor comes in a later version.',
    );
  }

  // 1. binary
  const bin = lk.binary;
  if (d.install.method === 'path') {
    const p = d.install.path;
    if (bin.kind === 'absent') out.blockers.push(`install.path ${p} does not exist (vm never installs or changes a path binary)`);
    else if (bin.kind === 'broken') out.blockers.push(`install.path ${p} does not run: ${bin.detail}`);
    else if (d.version !== '' && bin.version !== d.version) {
      out.blockers.push(`install.path ${p} is livekit-server ${bin.version}, but version ${d.version} is declared`);
    }
  } else {
    const why =
      bin.kind === 'absent' ? 'not installed' : bin.kind === 'broken' ? `binary does not run (${bin.detail})` : bin.version !== d.version ? `version ${bin.version} → ${d.version}` : undefined;
    if (why !== undefined) {
      add('binary', 'install', `${why}: livekit-server ${d.version} from ${d.install.baseUrl}`, {
        kind: 'install-release',
        version: d.version,
        baseUrl: d.install.baseUrl,
        versionsDir: paths.versionsDir,
        link: paths.binary,
      });
      // Whatever the reason, a running process still runs the old file: restart it.
      restartBecause.push(bin.kind === 'present' ? `version ${bin.version} → ${d.version}` : 'binary reinstalled');
    }
  }

  // 2. config and key file
  const keys = resolveKeys(d.keys, lk.keyFile, ctx.freshSecret);
  for (const [k, v] of Object.entries(keys.entries)) {
    if (v.length < MIN_SECRET_LENGTH) out.warnings.push(`keys.${k}: secret is shorter than ${MIN_SECRET_LENGTH} characters; LiveKit will log that it is too short`);
  }
  const config = renderConfig(d, paths);
  const configWhy = fileProblem(lk.config, config, PRIVATE_FILE_MODE, (before) => `config changed: ${describeYamlChange(before, config)}`);
  if (configWhy !== undefined) {
    out.steps.push(fileStep('config', configWhy, { path: paths.config, observed: lk.config, content: config, mode: PRIVATE_FILE_MODE, dirMode: PRIVATE_DIR_MODE }));
    if (lk.config.exists) restartBecause.push('config changed');
  }

  const keyFile = renderKeyFile(keys.entries);
  let keyWhy = fileProblem(lk.keyFile, keyFile, PRIVATE_FILE_MODE, () =>
    describeKeyChanges(readKeyFile(lk.keyFile), keys.entries).join(', ') || 'edited by hand (comments or formatting)',
  );
  if (keyWhy === undefined && lk.keyDirMode !== undefined && lk.keyDirMode !== PRIVATE_DIR_MODE) {
    keyWhy = `directory mode ${octal(lk.keyDirMode)} → ${octal(PRIVATE_DIR_MODE)}`;
  }
  if (keyWhy !== undefined) {
    if (keys.generated === 'new') keyWhy += `; generating a new secret for ${Object.keys(keys.entries).join(', ')}`;
    const before = readKeyFile(lk.keyFile);
    const shown = { before: before === undefined ? undefined : redactKeyFile(before), after: redactKeyFile(keys.entries) };
    out.steps.push(fileStep('config', keyWhy, { path: paths.keyFile, observed: lk.keyFile, content: keyFile, mode: PRIVATE_FILE_MODE, dirMode: PRIVATE_DIR_MODE, shown }));
    if (lk.keyFile.exists) restartBecause.push('key file changed');
  }

  // 3. unit: log directory, unit file, systemd's copy of it, enablement
  if (lk.logDirMode === undefined) {
    // systemd does not create the directory of an `append:` path; the start would fail.
    add('unit', 'create', `${paths.logDir}: log directory missing`, { kind: 'mkdir', path: paths.logDir, mode: PRIVATE_DIR_MODE });
  }
  const unitText = renderUnit(ctx.unitTemplate, paths.binary, paths);
  const unitWhy = fileProblem(lk.unitFile, unitText, UNIT_FILE_MODE, () => 'unit changed');
  const unit = lk.unit;
  if (unitWhy !== undefined) {
    out.steps.push(fileStep('unit', unitWhy, { path: paths.unitFile, observed: lk.unitFile, content: unitText, mode: UNIT_FILE_MODE, dirMode: UNIT_DIR_MODE }));
    if (lk.unitFile.exists) restartBecause.push('unit changed');
  }
  if (unit !== undefined) {
    const notLoaded = unit.loadState !== 'loaded';
    if (unitWhy !== undefined || unit.needDaemonReload || notLoaded) {
      const why = unitWhy !== undefined ? 'unit file written' : unit.needDaemonReload ? 'systemd has an older copy of the unit file' : 'systemd has not loaded the unit';
      add('unit', 'daemon-reload', why, { kind: 'systemctl', verb: 'daemon-reload', unit: paths.unitName });
      if (unit.needDaemonReload && unitWhy === undefined) restartBecause.push('unit reloaded');
    }
    if (d.autostart && !lk.enabled) {
      add('unit', 'enable', 'autostart: true but the unit is not enabled', { kind: 'systemctl', verb: 'enable', unit: paths.unitName });
    } else if (!d.autostart && lk.enabled) {
      add('unit', 'disable', 'autostart: false but the unit is enabled', { kind: 'systemctl', verb: 'disable', unit: paths.unitName });
    }
  }

  // 4. running, 5. healthy
  const running = unit !== undefined && unit.activeState === 'active' && unit.mainPid > 0;
  if (running) restartBecause.push(...staleness(o, unit.startedAtMs, unit.mainPid, restartBecause.length > 0));
  const wait: Effect = { kind: 'wait-healthy', url: healthUrl(d), timeoutMs: d.health.timeoutMs, unit: paths.unitName };
  const waitWhy = `wait until GET ${healthUrl(d)} answers 200 OK (up to ${d.health.timeoutMs / 1000}s)`;
  if (unit === undefined) return out; // no supervisor: the blocker says why
  if (!running) {
    const state = unit.activeState === '' ? 'not loaded' : `${unit.activeState}${unit.subState !== '' && unit.subState !== unit.activeState ? ` (${unit.subState})` : ''}`;
    add('running', 'start', `not running: ${state}`, { kind: 'systemctl', verb: 'start', unit: paths.unitName });
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (restartBecause.length > 0) {
    add('running', 'restart', `pid ${unit.mainPid} runs an old setup: ${restartBecause.join(', ')}`, { kind: 'systemctl', verb: 'restart', unit: paths.unitName });
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (lk.health.kind === 'unhealthy') {
    add('running', 'restart', `pid ${unit.mainPid} is running but not healthy: ${lk.health.detail}`, { kind: 'systemctl', verb: 'restart', unit: paths.unitName });
    add('healthy', 'wait-healthy', waitWhy, wait);
  } else if (lk.health.kind === 'starting') {
    add('healthy', 'wait-healthy', `still starting (GET / → ${lk.health.status}); ${waitWhy}`, wait);
  }
  return out;
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
function staleness(o: LiveKitObserved, startedAtMs: number | undefined, pid: number, alreadyRestarting: boolean): string[] {
  if (startedAtMs === undefined || alreadyRestarting) return [];
  const lk = o;
  const files: Array<[string, number | undefined]> = [
    ['binary', lk.binary.kind === 'present' ? lk.binary.mtimeMs : undefined],
    ['config', lk.config.exists ? lk.config.mtimeMs : undefined],
    ['key file', lk.keyFile.exists ? lk.keyFile.mtimeMs : undefined],
    ['unit', lk.unitFile.exists ? lk.unitFile.mtimeMs : undefined],
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
