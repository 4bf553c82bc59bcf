// `vm watch`: the same reconcile as `vm apply`, run again whenever the desired-state file (or a
// file it references) is saved, and every `interval` to heal drift. Each reconcile observes
// afresh (level-triggered); the lock is held only while applying, so a manual `vm apply` works
// during a watch, and what is applied is planned under the lock (src/ops/locked-apply.ts). A reconcile never overlaps another: a trigger that arrives meanwhile runs next.

import { StepFailedError, type ApplyReporter } from '../apply/apply.js';
import { SpecError, UserError, formatProblem, type StopSignal } from '../errors.js';
import type { DesiredState } from '../model.js';
import { lockedApply } from '../ops/locked-apply.js';
import type { Host } from '../platform/host.js';
import { describeHolder } from '../platform/lock.js';
import { planContext, snapshot } from '../reconcile.js';
import type { ObserveMemo } from '../services/contract.js';
import { loadDesired } from '../spec/load.js';
import { showDuration, type Emit } from './events.js';
import { heldBack, heldNames } from './held-back.js';
import { withholding } from '../plan/withhold.js';
import { DEFAULT_RETRY, mayAttempt, recordFailure, type FailureMemo, type RetryPolicy } from './policy.js';
import { referencedFiles } from './referenced.js';

export type Trigger = 'start' | 'file' | 'interval' | 'signal';

export interface WatchOptions {
  readonly file?: string;
  /** How the start line names the file (the CLI finds it: "PATH (found searching …)"). */
  readonly source?: string;
  readonly cwd: string;
  readonly intervalMs: number;
  readonly debounceMs: number;
  readonly lockTimeoutMs: number;
  readonly lockFile: (desired: DesiredState) => string;
  readonly retry?: RetryPolicy;
  /** Called after each reconcile, an idle moment (the watch command tidies the heap there). */
  readonly afterCycle?: () => void;
  /** Log rotation, checked on each reconcile (injected: it lives in the platform layer). */
  readonly rotateLogs?: (desired: DesiredState) => Promise<string[]>;
}

export interface Watching {
  /** Re-read the file now (SIGHUP). */
  reload(): void;
  /**
   * Stops watching; resolves when the reconcile under way (if any) has stopped: after the step
   * under way, with what it had applied rolled back.
   */
  stop(signal?: StopSignal): Promise<void>;
  /** Asked again to stop: skip that rollback. */
  skipRollback(): void;
}

export async function startWatch(host: Host, opts: WatchOptions, emit: Emit): Promise<Watching> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  // What each service's kind remembers between cycles (binary versions, slow answers).
  const observeMemo = new Map<string, ObserveMemo>();
  const ctx = planContext();
  // First signal: stop after the step under way and roll back; second: skip the rollback.
  const abort = new AbortController();
  const skip = new AbortController();
  let desired: DesiredState | undefined;
  let memo: FailureMemo | undefined;
  let busy: Promise<void> | undefined;
  let queued: Trigger | undefined;
  let debounce: NodeJS.Timeout | undefined;
  /** The problems last reported: an editor's save can arrive as two events; say them once. */
  let reported: string | undefined;
  /** The failed changes told as held back (each told once, not every resync). */
  const toldHeld = new Set<string>();

  const { watch } = await import('chokidar');
  // atomic: editors that save by writing a temp file and renaming it over ours are one change.
  const files = watch([], { ignoreInitial: true, atomic: true, persistent: true });
  let watched: string[] = [];
  const follow = (paths: string[]) => {
    const add = paths.filter((p) => !watched.includes(p));
    const drop = watched.filter((p) => !paths.includes(p));
    if (add.length > 0) files.add(add);
    if (drop.length > 0) files.unwatch(drop);
    watched = paths;
  };
  const onFileEvent = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => trigger('file'), opts.debounceMs);
  };
  files.on('add', onFileEvent).on('change', onFileEvent).on('unlink', onFileEvent);

  /** Reads the file; an invalid one is reported and the last valid state stays in force. */
  const load = async (why: Trigger): Promise<boolean> => {
    try {
      const next = await loadDesired({ ...(opts.file === undefined ? {} : { file: opts.file }), cwd: opts.cwd, env: host.env });
      const changed = JSON.stringify(next) !== JSON.stringify(desired);
      desired = next;
      reported = undefined;
      follow(referencedFiles(next));
      // A new edit is a new change: whatever was given up on gets another chance.
      if (changed) memo = undefined;
      return true;
    } catch (e) {
      if (!(e instanceof SpecError) && !(e instanceof UserError)) throw e;
      const message = e instanceof SpecError ? e.problems.map(formatProblem).join('\n') : e.message;
      // The same problems again from a file event are the same save; SIGHUP asks to hear them.
      if (message === reported && why === 'file') return false;
      reported = message;
      emit({ event: 'invalid_file', ok: false, message: `${message}\n(nothing changed; ${desired === undefined ? 'no valid file yet' : 'the last valid file stays in force'})` });
      return false;
    }
  };

  const reconcile = async (why: Trigger): Promise<void> => {
    if (why !== 'interval' && !(await load(why))) return;
    if (desired === undefined || abort.signal.aborted) return;
    const d = desired;
    const t0 = host.now();
    if (!mayAttempt(memo, t0)) return; // backing off, or given up until the next edit
    for (const line of (await opts.rotateLogs?.(d)) ?? []) emit({ event: 'log_rotated', message: line });
    emit({ event: 'reconcile_start', trigger: why });
    const snap = await snapshot(host, d, ctx, { memo: observeMemo });
    if (snap.plan.blockers.length > 0) return failed(why, t0, 'blocked', snap.plan.blockers.join('; '));
    if (snap.plan.steps.length === 0) {
      emit({ event: 'reconcile_done', trigger: why, ok: true, duration_ms: Math.round(host.now() - t0) });
      return;
    }
    // A held-back change waits; the other services' steps go ahead without it.
    for (const h of heldBack(snap, why)) {
      if (!toldHeld.has(h.key)) emit({ event: 'held_back', service: h.service, ok: false, message: h.message });
      toldHeld.add(h.key);
    }
    if (withholding(snap, heldNames(snap, why)).plan.steps.length === 0) return;
    if (why === 'interval') emit({ event: 'drift', message: snap.plan.steps.map((s) => `${s.service} ${s.resource} ${s.action} (${s.reason})`).join('; ') });
    // The look above only decides whether the lock is worth taking: lockedApply observes again
    // under it and applies that plan, so a change another vm made meanwhile is not redone.
    const outcome = await lockedApply({
      host,
      desired: d,
      ctx,
      lockFile: opts.lockFile(d),
      lockTimeoutMs: opts.lockTimeoutMs,
      signal: abort.signal,
      skipRollback: skip.signal,
      observe: { memo: observeMemo },
      reporter: reporter(emit),
      events: { onLockWait: (h) => emit({ event: 'lock_wait', message: `waiting for the apply lock, held by ${describeHolder(h, host.now())}` }) },
      decide: mayApply,
      hold: (fresh) => heldNames(fresh, why),
    });
    const done = (ok: boolean, message?: string) => emit({ event: 'reconcile_done', trigger: why, ok, duration_ms: Math.round(host.now() - t0), ...(message === undefined ? {} : { message }) });
    switch (outcome.kind) {
      case 'stopped':
        return;
      case 'lock-timeout':
        return failed(why, t0, outcome.error.code, outcome.error.message); // another vm held the lock too long
      case 'blocked':
        return failed(why, t0, 'blocked', outcome.blockers.join('; '));
      case 'converged-meanwhile':
        return done(true, 'nothing left to do: the machine converged while this reconcile waited for the lock');
      case 'declined':
        return done(true, 'not applied');
      case 'applied':
        memo = undefined;
        return done(true);
      case 'failed': {
        const e = outcome.error;
        return failed(why, t0, e instanceof StepFailedError ? `${e.step.service}.${e.step.resource}.${e.step.action}` : e.code, e.message);
      }
      case 'interrupted':
        // Stopping: not a failure of the change, so nothing is recorded against it.
        return done(false, outcome.error.message);
    }
  };

  /**
   * Whether the plan made under the lock may be taken: the one place the watch can say no to a
   * fresh plan (backing off, given up). A held-back change is left out of it before (hold).
   */
  const mayApply = (): boolean => mayAttempt(memo, host.now());

  const failed = (why: Trigger, t0: number, key: string, message: string): void => {
    memo = recordFailure(memo, key, host.now(), retry);
    emit({ event: 'reconcile_done', trigger: why, ok: false, duration_ms: Math.round(host.now() - t0), message });
    if (memo.gaveUp) {
      emit({ event: 'gave_up', ok: false, message: `${key} failed ${memo.count} times in a row: not retrying it until the file is edited` });
    } else {
      const wait = Math.round(memo.nextAttemptAt - host.now());
      emit({ event: 'backoff', duration_ms: wait, message: `failure ${memo.count} of ${retry.maxFailures}: next attempt in ${Math.round(wait / 1000)}s at the earliest` });
    }
  };

  const trigger = (why: Trigger): void => {
    if (abort.signal.aborted) return;
    if (busy !== undefined) {
      // One reconcile at a time; a file change outranks a resync (it must re-read the file).
      if (queued === undefined || why !== 'interval') queued = why;
      return;
    }
    busy = reconcile(why)
      .catch((e: unknown) => emit({ event: 'reconcile_done', trigger: why, ok: false, message: `internal error (a bug in vm): ${e instanceof Error ? e.message : String(e)}` }))
      .finally(() => {
        opts.afterCycle?.();
        busy = undefined;
        const next = queued;
        queued = undefined;
        if (next !== undefined) trigger(next);
      });
  };

  const tick = setInterval(() => trigger('interval'), opts.intervalMs);
  emit({ event: 'watch_start', message: `watching ${opts.source ?? opts.file ?? 'the desired-state file'}; resync every ${showDuration(opts.intervalMs)}` });
  trigger('start');

  return {
    reload: () => trigger('signal'),
    skipRollback: () => skip.abort(),
    stop: async (signal: StopSignal = 'SIGTERM') => {
      abort.abort(signal);
      clearInterval(tick);
      clearTimeout(debounce);
      await files.close();
      await busy;
      emit({ event: 'watch_stop', message: 'stopped; the services keep running' });
    },
  };
}

function reporter(emit: Emit): ApplyReporter {
  const base = (s: Parameters<NonNullable<ApplyReporter['stepStart']>>[0]) => ({ service: s.service, resource: s.resource, action: s.action, reason: s.reason });
  return {
    stepStart: (s) => emit({ event: 'step_start', ...base(s) }),
    stepDone: (s, ms) => emit({ event: 'step_done', ...base(s), ok: true, duration_ms: Math.round(ms) }),
    stepFailed: (s, err, ms) => emit({ event: 'step_failed', ...base(s), ok: false, duration_ms: Math.round(ms), message: err.message }),
  };
}
