// `vm start|stop|enable|disable|install|uninstall [SERVICE]` and `vm restart [SERVICE]`, as
// data for every front end (the CLI, the MCP `service` tool, the web page).
//
// The verbs change the machine by changing the file: they set services.NAME.state (or
// autostart) in voicemode.services.yaml, keeping every other byte (spec/edit.ts), refuse to
// write a result that does not validate, write it atomically, then apply through the one
// locked-apply flow. The file stays the single source of truth: a `vm stop` survives the next
// `vm apply` and `vm watch`. `restart` is the one verb that edits nothing: one restart through
// the supervisor, under the apply lock, and a wait for health.

import * as fs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runEffect } from '../apply/effects.js';
import { UserError } from '../errors.js';
import type { DesiredState, ServiceDesired } from '../model.js';
import type { Host } from '../platform/host.js';
import { applyLockPath, acquireLock, type LockHolder } from '../platform/lock.js';
import { resolveRoots } from '../paths.js';
import { planContext, snapshot, type Snapshot } from '../reconcile.js';
import { kindOf, DEFAULT_SERVICE } from '../services/registry.js';
import { discoverSpec } from '../spec/discover.js';
import { hasServiceKey, redactSpecText, setServiceKeys, type EditValue } from '../spec/edit.js';
import { loadDesired, validateText } from '../spec/load.js';
import type { Env } from '../spec/normalise.js';
import { runApply, type ApplyOutcome, type ApplyRequest } from './apply.js';

export const VERBS = ['start', 'stop', 'enable', 'disable', 'install', 'uninstall'] as const;
export type Verb = (typeof VERBS)[number];


/** What each verb sets under services.NAME. */
export function verbEdits(verb: Verb, removeData = false): Array<readonly [string, EditValue]> {
  switch (verb) {
    case 'start':
    case 'install':
      return [['state', 'running']];
    case 'stop':
      return [['state', 'stopped']];
    case 'enable':
      return [['autostart', true]];
    case 'disable':
      return [['autostart', false]];
    case 'uninstall':
      return removeData ? [['state', 'absent'], ['remove_data', true]] : [['state', 'absent']];
  }
}

export interface VerbTarget {
  /** -f/--file, if given (else the usual search). */
  readonly file?: string;
  readonly cwd: string;
  readonly env: Env;
  readonly service?: string;
}

export interface VerbPreview {
  readonly service: string;
  readonly verb: Verb;
  /** The file edited (absolute). */
  readonly file: string;
  /** What the verb sets, as `key: value`. */
  readonly set: Readonly<Record<string, EditValue>>;
  /** Whether the file changes (false: it says so already). */
  readonly changed: boolean;
  /** A unified diff of the file, secrets shown as `(sensitive)`; '' when unchanged. */
  readonly diff: string;
  /** The desired state the edited file declares. */
  readonly desired: DesiredState;
  /** Internal: the edited text, written by runVerb. */
  readonly text: string;
}

/**
 * The edit a verb makes, checked and not yet written. Refuses (UserError) the built-in default
 * (there is no file to edit), a file that does not validate (SpecError, located), an unknown
 * service, and an edit whose result would not validate.
 */
export async function previewVerb(t: VerbTarget, verb: Verb, opts: { readonly removeData?: boolean } = {}): Promise<VerbPreview> {
  const source = await discoverSpec(t);
  if (source.kind === 'default') {
    throw new UserError('USAGE', `no voicemode.services.yaml to edit: vm ${verb} changes the file, and vm is using the built-in default`, 'run `vm init` first to write it, then try again');
  }
  // The file as it is must be valid: an invalid file is never touched (all its problems, located).
  const current = await loadDesired(t);
  const service = t.service ?? DEFAULT_SERVICE;
  const declared = current.services[service];
  if (declared === undefined) throw unknownService(service, current);
  const path = source.path;
  const before = await fs.readFile(path, 'utf8');
  // A key the file leaves out already means its default (state: running, autostart as the state
  // implies): nothing to add when that default is what the verb asks for.
  const wanted = verbEdits(verb, opts.removeData === true).filter(([k, v]) => !(!hasServiceKey(before, service, k) && effective(declared, k) === v));
  const edit = setServiceKeys(before, service, wanted);
  const set = Object.fromEntries(verbEdits(verb, opts.removeData === true));
  if (!edit.changed) return { service, verb, file: path, set, changed: false, diff: '', desired: current, text: before };
  // The result must validate too (e.g. `state: absent` needs nothing, but a schema may say more).
  const desired = validateText(edit.text, path, t.env, { source });
  return { service, verb, file: path, set, changed: true, diff: await specDiff(path, before, edit.text), desired, text: edit.text };
}

export interface RunVerbRequest extends VerbTarget, Pick<ApplyRequest, 'host' | 'lockTimeoutMs' | 'signal' | 'reporter' | 'events'> {
  readonly verb: Verb;
  readonly removeData?: boolean;
  /**
   * Asked before the file is written, with the edit and the plan it leads to (the CLI asks on a
   * terminal); false: nothing is written or applied. Not given: go ahead.
   */
  readonly decide?: (preview: VerbPreview, plan: Snapshot) => boolean | Promise<boolean>;
}

export interface VerbResult {
  readonly service: string;
  readonly verb: Verb;
  readonly file: string;
  readonly set: Readonly<Record<string, EditValue>>;
  readonly changed: boolean;
  readonly diff: string;
  /** The apply that followed. */
  readonly applied: ApplyOutcome;
}

/** previewVerb, then (when `decide` agrees) write the file atomically and apply it, locked. */
export async function runVerb(r: RunVerbRequest): Promise<VerbResult> {
  const preview = await previewVerb(r, r.verb, { removeData: r.removeData === true });
  const ctx = planContext();
  if (r.decide !== undefined) {
    const plan = await snapshot(r.host, preview.desired, ctx);
    if (!(await r.decide(preview, plan))) throw new UserError('ABORTED', `not done: not confirmed; ${preview.file} was not changed`);
  }
  if (preview.changed) await writeSpecFile(preview.file, preview.text);
  const { host, lockTimeoutMs, signal, reporter, events } = r;
  const applied = await runApply({ host, desired: preview.desired, ctx, lockTimeoutMs, signal, reporter, events });
  const { service, verb, file, set, changed, diff } = preview;
  return { service, verb, file, set, changed, diff, applied };
}

/**
 * Writes the user's file atomically: a temp file beside it (through a symlink: beside its
 * target, so a dotfiles link stays a link), its mode kept, fsync, rename.
 */
export async function writeSpecFile(path: string, text: string): Promise<void> {
  const real = await fs.realpath(path);
  const mode = (await fs.stat(real)).mode & 0o7777;
  const tmp = join(dirname(real), `.${basename(real)}.vm-tmp-${process.pid}`);
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.chmod(mode);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await fs.rename(tmp, real);
}

export interface RestartResult {
  readonly service: string;
  readonly pidBefore: number | null;
  readonly pidAfter: number | null;
  /** The health URL that answered. */
  readonly url: string;
}

/** A restart after which the service did not become healthy; `logTail` is what it logged meanwhile. */
export class RestartFailedError extends UserError {
  constructor(
    message: string,
    readonly logTail: readonly string[],
    hint = 'see `vm logs` and `vm status`',
  ) {
    super('UNHEALTHY', message, hint);
  }
}

export interface RestartRequest {
  readonly host: Host;
  readonly desired: DesiredState;
  readonly service?: string;
  readonly lockTimeoutMs: number;
  readonly signal?: AbortSignal;
  readonly onLockWait?: (holder: LockHolder) => void;
}

/**
 * Restarts a running service once, through its supervisor and under the apply lock (no apply
 * runs meanwhile), and waits for its health. The file is not edited. A service the file says is
 * not running is refused: `vm start` is the verb for that.
 */
export async function restartService(r: RestartRequest): Promise<RestartResult> {
  const name = r.service ?? DEFAULT_SERVICE;
  const d = r.desired.services[name];
  if (d === undefined) throw unknownService(name, r.desired);
  if (d.state !== 'running') throw new UserError('USAGE', `the file says ${name} is ${d.state}: restart is for a running service`, `\`vm start ${name}\` starts it`);
  // The apply lock: no apply (nor the watch) changes the service while it restarts.
  const lock = await acquireLock(applyLockPath(resolveRoots(r.host.env).voicemodeHome), {
    timeoutMs: r.lockTimeoutMs,
    ...(r.signal === undefined ? {} : { signal: r.signal }),
    ...(r.onLockWait === undefined ? {} : { onWait: r.onLockWait }),
  });
  try {
    const snap = await snapshot(r.host, r.desired);
    const s = snap.services.find((x) => x.name === name);
    if (s === undefined) throw unknownService(name, r.desired);
    const kind = kindOf(s.desired);
    const effects = kind.restartEffects(s);
    const title = kind.title(name);
    if (effects.length === 0) {
      const sup = s.observed.supervisor;
      throw new UserError('SUPERVISOR_UNAVAILABLE', `cannot restart ${title}: ${sup.kind === 'unavailable' ? sup.why : 'no supervisor'}`);
    }
    const pidBefore = s.observed.runtime?.running === true ? s.observed.runtime.pid : null;
    const logFile = s.paths.logFile;
    const from = (await r.host.stat(logFile))?.size ?? 0;
    let url = '';
    for (const e of effects) {
      if (e.kind === 'wait-healthy') url = e.url;
      try {
        await runEffect(r.host, e, r.signal === undefined ? {} : { signal: r.signal });
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        const tail = await r.host.tail(logFile, 20, from);
        if (e.kind !== 'wait-healthy') throw new RestartFailedError(`cannot restart ${title}: ${err.message}`, tail, '`vm apply` installs and starts it as the file says');
        throw new RestartFailedError(`${title} did not come back after the restart: ${err.message}`, tail);
      }
    }
    const after = await snapshot(r.host, r.desired);
    const rt = after.services.find((x) => x.name === name)?.observed.runtime;
    return { service: name, pidBefore, pidAfter: rt?.running === true ? rt.pid : null, url };
  } finally {
    await lock.release();
  }
}

function unknownService(name: string, desired: DesiredState): UserError {
  const names = Object.keys(desired.services);
  return new UserError('USAGE', `no service named ${JSON.stringify(name)} in the file`, names.length === 0 ? 'the file declares no services' : `declared: ${names.join(', ')}`);
}

function effective(d: ServiceDesired, key: string): EditValue | undefined {
  switch (key) {
    case 'state':
      return d.state;
    case 'autostart':
      return d.autostart;
    case 'remove_data':
      return d.removeData;
    default:
      return undefined;
  }
}

async function specDiff(path: string, before: string, after: string): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  return createTwoFilesPatch(path, path, redactSpecText(before), redactSpecText(after), '', '', { context: 2 });
}
