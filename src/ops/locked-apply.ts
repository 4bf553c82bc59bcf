// The one way vm changes the machine, for every front end (`vm apply`, `vm watch`): take the
// apply lock, tidy what an interrupted run left, observe again under the lock, and apply the plan
// made from that fresh look — never a plan made before the lock was ours, since whoever held it
// may have changed the machine meanwhile (level-triggered). Always releases the lock. Returns
// what happened as data; it prints nothing: ops/apply.ts translates the outcome for the front ends
// that apply (`vm apply`, the verbs, MCP), and the watch into its own events and backoff.

import { applyPlan, ApplyInterruptedError, type ApplyReporter, type ApplyResult } from '../apply/apply.js';
import { rotateLogs } from '../apply/rotate-logs.js';
import { sweepAll } from '../apply/sweep.js';
import { UserError } from '../errors.js';
import type { DesiredState, ServiceName } from '../model.js';
import type { Host } from '../platform/host.js';
import { acquireLock, LockTimeoutError, type LockHolder } from '../platform/lock.js';
import { snapshot, type ObserveOptions, type Snapshot } from '../reconcile.js';
import type { PlanContext } from '../plan/context.js';
import { withholding } from '../plan/withhold.js';

export type LockedApplyOutcome =
  /** Interrupted while waiting for the lock: nothing was changed. */
  | { readonly kind: 'stopped' }
  /** Another vm held the lock longer than `lockTimeoutMs`: nothing was changed. */
  | { readonly kind: 'lock-timeout'; readonly error: LockTimeoutError }
  /** The fresh look has blockers (a foreign process on the port, …): nothing was changed. */
  | { readonly kind: 'blocked'; readonly fresh: Snapshot; readonly blockers: readonly string[] }
  /** The fresh plan is empty: whoever held the lock did the work. Nothing was changed. */
  | { readonly kind: 'converged-meanwhile'; readonly fresh: Snapshot }
  /** `decide` said no to the fresh plan: nothing was changed. */
  | { readonly kind: 'declined'; readonly fresh: Snapshot }
  | { readonly kind: 'applied'; readonly fresh: Snapshot; readonly result: ApplyResult }
  /** A step failed or the machine did not converge (StepFailedError says whether it rolled back). */
  | { readonly kind: 'failed'; readonly fresh: Snapshot; readonly error: UserError }
  /** Stopped by a signal after the step under way; `error.rolledBack` says what was undone. */
  | { readonly kind: 'interrupted'; readonly fresh: Snapshot; readonly error: ApplyInterruptedError };

/** What happens along the way, as it happens (the watch emits events, the CLI prints lines). */
export interface LockedApplyEvents {
  /** The lock is busy; called again whenever its holder changes. */
  readonly onLockWait?: (holder: LockHolder) => void;
  readonly onLockTakeover?: (holder: LockHolder | undefined, why: string) => void;
  /** Temp files of an interrupted run were removed. */
  readonly onSwept?: (count: number) => void;
  /** A log rotation happened or failed (only with `rotateLogs`). */
  readonly onRotated?: (message: string) => void;
}

export interface LockedApplyRequest {
  readonly host: Host;
  readonly desired: DesiredState;
  /** The same context the caller planned with: a generated secret must not look changed. */
  readonly ctx: PlanContext;
  readonly lockFile: string;
  readonly lockTimeoutMs: number;
  /** First interrupt: stop waiting for the lock, or stop after the step under way and roll back. */
  readonly signal?: AbortSignal;
  /** Second interrupt: skip the rollback. */
  readonly skipRollback?: AbortSignal;
  /** false: leave a failed change in place (--no-rollback). */
  readonly rollback?: boolean;
  /** Rotate the service's log under the lock (the watch rotates on every cycle itself). */
  readonly rotateLogs?: boolean;
  readonly observe?: ObserveOptions;
  /**
   * Whether to take the fresh plan (non-empty, no blockers; without the held services' steps):
   * the CLI confirms a plan that changed while it waited; the watch decides here whether it may
   * try again yet. May throw (the lock is released).
   */
  readonly decide?: (fresh: Snapshot) => boolean | Promise<boolean>;
  /**
   * Services whose change waits (the watch holds back a change that failed and was rolled back):
   * the fresh plan is applied without their steps, and they do not count against convergence.
   */
  readonly hold?: (fresh: Snapshot) => ReadonlySet<ServiceName>;
  readonly reporter?: ApplyReporter;
  readonly events?: LockedApplyEvents;
}

export async function lockedApply(r: LockedApplyRequest): Promise<LockedApplyOutcome> {
  const ev = r.events ?? {};
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(r.lockFile, {
      timeoutMs: r.lockTimeoutMs,
      ...(r.signal === undefined ? {} : { signal: r.signal }),
      ...(ev.onLockWait === undefined ? {} : { onWait: ev.onLockWait }),
      ...(ev.onLockTakeover === undefined ? {} : { onTakeover: ev.onLockTakeover }),
    });
  } catch (e) {
    if (e instanceof LockTimeoutError) return { kind: 'lock-timeout', error: e };
    if (e instanceof UserError && e.code === 'ABORTED') return { kind: 'stopped' };
    throw e;
  }
  try {
    // Test-only: hold the lock a while before looking, so a test can have another vm plan from the
    // machine before this apply's change and wait for the lock meanwhile (the race of issue 9.8).
    const hold = Number(r.host.env['VM_TEST_HOLD_LOCK_MS'] ?? 0);
    if (hold > 0) await r.host.sleep(hold);
    const fresh = await prepare(r, ev);
    if (fresh.plan.blockers.length > 0) return { kind: 'blocked', fresh, blockers: fresh.plan.blockers };
    if (fresh.plan.steps.length === 0) return { kind: 'converged-meanwhile', fresh };
    if (r.signal?.aborted === true) return { kind: 'stopped' };
    const held = r.hold?.(fresh) ?? new Set<ServiceName>();
    const taken = withholding(fresh, held);
    // Only held changes: nothing may be taken.
    if (taken.plan.steps.length === 0) return { kind: 'declined', fresh };
    if (r.decide !== undefined && !(await r.decide(taken))) return { kind: 'declined', fresh };
    try {
      const result = await applyPlan(r.host, r.desired, taken, r.ctx, r.reporter ?? {}, {
        ...(held.size === 0 ? {} : { held }),
        rollback: r.rollback !== false,
        ...(r.signal === undefined ? {} : { signal: r.signal }),
        ...(r.skipRollback === undefined ? {} : { skipRollback: r.skipRollback }),
        ...(r.observe?.memo === undefined ? {} : { memo: r.observe.memo }),
      });
      return { kind: 'applied', fresh, result };
    } catch (e) {
      if (e instanceof ApplyInterruptedError) return { kind: 'interrupted', fresh, error: e };
      if (e instanceof UserError) return { kind: 'failed', fresh, error: e };
      throw e;
    }
  } finally {
    await lock.release();
  }
}

/**
 * Under the lock: look afresh. A blocked plan changes nothing, not even vm's own leftovers;
 * otherwise no other vm is writing, so leftovers are safe to remove, logs are rotated, and the
 * plan is made from the machine as it is after that.
 */
async function prepare(r: LockedApplyRequest, ev: LockedApplyEvents): Promise<Snapshot> {
  const look = await snapshot(r.host, r.desired, r.ctx, r.observe);
  if (look.plan.blockers.length > 0) return look;
  const swept = await sweepAll(r.host, r.desired);
  if (swept > 0) ev.onSwept?.(swept);
  const rotated = r.rotateLogs === true ? await rotateLogs(r.host, r.desired) : [];
  for (const line of rotated) ev.onRotated?.(line);
  return swept === 0 && rotated.length === 0 ? look : snapshot(r.host, r.desired, r.ctx, r.observe);
}
