// Takes a plan's steps in order, then observes again and confirms convergence. The only writer.
// Stops at the first failed step (later steps assume earlier ones happened) and, when anything
// had changed, rolls back to the state observed before (rollback.ts). An interrupt (Ctrl-C,
// SIGTERM) is handled the same way: the step under way ends, then what was applied is undone.

import type { DesiredState, Plan, Step } from '../model.js';
import type { Host } from '../platform/host.js';
import { InterruptedError, isSystemError, stopSignalOf, UserError, type StopSignal } from '../errors.js';
import { snapshot, type Snapshot } from '../reconcile.js';
import type { VersionCache } from '../services/livekit/observe.js';
import type { PlanContext } from '../services/livekit/plan.js';
import { recordVersion } from '../services/livekit/version-record.js';
import { versionsToRemove } from '../services/livekit/versions.js';
import { runEffect, type EffectIo } from './effects.js';
import { rollback, type RollbackOutcome } from './rollback.js';

export interface ApplyReporter extends EffectIo {
  stepStart?(step: Step): void;
  stepDone?(step: Step, ms: number): void;
  stepFailed?(step: Step, error: Error, ms: number): void;
  rollbackStart?(): void;
}

export interface ApplyOptions {
  /** Put back the previous binary, config and unit when a change fails (default true). */
  readonly rollback?: boolean;
  /**
   * An interrupt (its reason names the signal: 'SIGINT' or 'SIGTERM'). The step under way runs to
   * its end — except a health wait, which is cut short and counts as failed — no further step
   * starts, and what was applied is rolled back (unless `rollback: false`).
   */
  readonly signal?: AbortSignal;
  /** A second interrupt: skip that rollback, or stop it between its effects. */
  readonly skipRollback?: AbortSignal;
  readonly versions?: VersionCache;
}

/** A version change the plan was making: what ran before and what the file asks for. */
export interface VersionChange {
  readonly from: string;
  readonly to: string;
  /** LiveKit was running (on `from`) when the apply began. */
  readonly wasRunning: boolean;
}

/**
 * A step failed; `logTail` holds the service's log lines written since this apply started (LiveKit
 * never logs secrets), so an old failure from an earlier run is never shown as this one's cause.
 */
export class StepFailedError extends UserError {
  constructor(
    readonly step: Step,
    readonly failure: Error,
    readonly logTail: readonly string[],
    readonly rolledBack: RollbackOutcome,
    readonly version?: VersionChange,
  ) {
    super('STEP_FAILED', `${step.service} ${step.resource} ${step.action} failed: ${failure.message}${describeRollback(rolledBack, version)}`);
  }
}

/** Stopped by a signal; `cutShort` is the health wait it interrupted, if it came during one. */
export class ApplyInterruptedError extends InterruptedError {
  constructor(
    signal: StopSignal,
    readonly stoppedBefore: number,
    readonly of: number,
    readonly cutShort: Step | undefined,
    readonly rolledBack: RollbackOutcome,
  ) {
    const where = cutShort === undefined ? `before step ${stoppedBefore + 1} of ${of}` : `during step ${stoppedBefore + 1} of ${of} (${cutShort.service} ${cutShort.resource} ${cutShort.action})`;
    super(signal, `interrupted (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}) ${where}${describeRollback(rolledBack, undefined)}`);
  }
}

export interface ApplyResult {
  readonly applied: ReadonlyArray<{ readonly step: Step; readonly ms: number }>;
  /** The fresh observation after the last step; its plan is empty when converged. */
  readonly after: Snapshot;
}

export async function applyPlan(
  host: Host,
  desired: DesiredState,
  before: Snapshot,
  ctx: PlanContext,
  reporter: ApplyReporter = {},
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  refuseBlocked(before.plan);
  // Where the log ends now: on failure only what this apply's LiveKit wrote is shown.
  const logFrom = (await host.stat(before.paths.livekit.logFile))?.size ?? 0;
  const applied: Array<{ step: Step; ms: number }> = [];
  // Test-only: die like `kill -9` at a step boundary, so tests can prove the next apply heals it.
  const killBefore = host.env['VM_TEST_KILL_BEFORE_STEP'];
  // Only the health wait listens to the interrupt: a half-written file or a half-run systemctl
  // would leave more to undo than finishing it does.
  const effectIo: EffectIo = { ...(reporter.onProgress === undefined ? {} : { onProgress: reporter.onProgress }), ...(opts.signal === undefined ? {} : { signal: opts.signal }) };
  // A function, not the property: TypeScript would take `aborted` to stay false across the awaits.
  const stopping = () => opts.signal?.aborted === true;
  const interrupted = async (i: number, cutShort: Step | undefined, touched: readonly Step[]): Promise<ApplyInterruptedError> => {
    const outcome: RollbackOutcome =
      opts.rollback === false ? { kind: 'disabled' } : !touched.some(isMutating) ? { kind: 'nothing-changed' } : await rollback(host, before, touched, reporter, opts.skipRollback);
    return new ApplyInterruptedError(stopSignalOf(opts.signal), i, before.plan.steps.length, cutShort, outcome);
  };
  for (const [i, step] of before.plan.steps.entries()) {
    if (killBefore !== undefined && Number(killBefore) === i) process.kill(process.pid, 'SIGKILL');
    if (stopping()) throw await interrupted(i, undefined, applied.map((a) => a.step));
    const t0 = host.now();
    reporter.stepStart?.(step);
    try {
      await runEffect(host, step.effect, effectIo);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reporter.stepFailed?.(step, err, host.now() - t0);
      if (!(e instanceof UserError) && !isSystemError(e)) throw e; // a bug: let it surface as one
      if (stopping()) throw await interrupted(i, step, [...applied.map((a) => a.step), step]);
      // Read the log before rolling back: the lines that explain the failure come first.
      const logTail = await host.tail(before.paths.livekit.logFile, 15, logFrom);
      const outcome: RollbackOutcome =
        applied.length === 0 && changesNothingOnFailure(step)
          ? { kind: 'nothing-changed' }
          : opts.rollback === false
            ? { kind: 'disabled' }
            : await rollback(host, before, [...applied.map((a) => a.step), step], reporter, opts.skipRollback);
      throw new StepFailedError(step, err, logTail, outcome, versionChange(before));
    }
    const ms = host.now() - t0;
    reporter.stepDone?.(step, ms);
    applied.push({ step, ms });
  }
  // Same secret as the plan used, so a generated key does not look changed on the second look.
  const after = await snapshot(host, desired, ctx, opts.versions === undefined ? {} : { versions: opts.versions });
  if (after.plan.steps.length > 0) {
    const pending = after.plan.steps.map((s) => `${s.resource} ${s.action} (${s.reason})`).join('; ');
    throw new UserError('NOT_CONVERGED', `applied ${applied.length} steps but the machine has not converged: ${pending}`);
  }
  await removeOldVersions(host, before, after);
  await recordVersion(host, after.paths.livekit.versionRecord, after.observed.livekit?.binary);
  return { applied, after };
}

export function refuseBlocked(p: Plan): void {
  if (p.blockers.length > 0) throw blockedError(p);
}

export function blockedError(p: Plan): UserError {
  return new UserError('STEP_FAILED', `cannot apply: ${p.blockers.join('; ')}`);
}

/**
 * After a successful upgrade, keep the new version and the one before it (going back is one
 * link switch); older ones go.
 */
async function removeOldVersions(host: Host, before: Snapshot, after: Snapshot): Promise<void> {
  const b = before.observed.livekit;
  const a = after.observed.livekit;
  if (b === undefined || a === undefined || a.binary.kind !== 'present' || !before.plan.steps.some((s) => s.action === 'install')) return;
  const previous = b.binary.kind === 'present' ? b.binary.version : undefined;
  for (const v of versionsToRemove(a.installedVersions, [a.binary.version, previous])) {
    await host.remove(`${after.paths.livekit.versionsDir}/${v}`);
  }
}

/**
 * Steps that leave nothing changed when they fail: a wait changes nothing at all, and a release
 * install switches the link only as its last, atomic step (a checksum mismatch is refused before
 * anything is touched; see install.ts's contract).
 */
/** Whether a step that ran changed anything: a health wait only looked. */
function isMutating(step: Step): boolean {
  return step.effect.kind !== 'wait-healthy';
}

function changesNothingOnFailure(step: Step): boolean {
  const k = step.effect.kind;
  return k === 'wait-healthy' || k === 'install-release' || k === 'switch-link';
}

/** The version the plan was moving from and to, when it installs a different one. */
function versionChange(before: Snapshot): VersionChange | undefined {
  const bin = before.observed.livekit?.binary;
  for (const s of before.plan.steps) {
    const e = s.effect;
    if ((e.kind === 'install-release' || e.kind === 'install-script') && bin?.kind === 'present' && bin.version !== e.version) {
      return { from: bin.version, to: e.version, wasRunning: before.observed.livekit?.runtime?.running === true };
    }
  }
  return undefined;
}

function describeRollback(o: RollbackOutcome, v: VersionChange | undefined): string {
  const asks = v === undefined ? '' : `; the file asks for ${v.to}, which stays pending`;
  switch (o.kind) {
    case 'rolled-back':
      if (v === undefined) return `; rolled back to the previous binary, config and unit${o.healthy ? ': LiveKit is healthy again as it was' : ''}`;
      return `; rolled back to the previous binary, config and unit: livekit-server ${v.from} is ${o.healthy ? 'running and healthy' : 'installed'} again${asks}`;
    case 'rollback-failed':
      return `; rolling back failed too: ${o.why}${v === undefined ? '' : ` (livekit-server ${v.from} ran before; the file asks for ${v.to})`}`;
    case 'nothing-to-restore':
      return '; nothing to roll back to (there was no previous working setup)';
    case 'disabled':
      return `; left as it is (--no-rollback)${v === undefined ? '' : `: livekit-server ${v.to} is installed, as the file asks; ${v.from} ran before`}`;
    case 'nothing-changed':
      return `; nothing was changed${v === undefined ? '' : `: livekit-server ${v.from} is still ${v.wasRunning ? 'the one running' : 'installed'}${asks}`}`;
    case 'skipped':
      return `; rollback skipped (asked twice to stop)${o.done > 0 ? ` after ${o.done} of ${o.of} of its steps` : ''}: the change is left half-applied — run \`vm apply\` to finish it`;
  }
}
