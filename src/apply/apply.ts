// Takes a plan's steps in order, then observes again and confirms convergence. The only writer.
// Stops at the first failed step (later steps assume earlier ones happened) and, when anything
// had changed, rolls back to the state observed before (rollback.ts).

import type { DesiredState, Plan, Step } from '../model.js';
import type { Host } from '../platform/host.js';
import { isSystemError, UserError } from '../errors.js';
import { snapshot, type Snapshot } from '../reconcile.js';
import type { VersionCache } from '../services/livekit/observe.js';
import type { PlanContext } from '../services/livekit/plan.js';
import { recordVersion } from '../services/livekit/version-record.js';
import { versionsToRemove } from '../services/livekit/versions.js';
import { runEffect, type EffectIo } from './effects.js';
import { clearFailureRecord, writeFailureRecord } from './failure-record.js';
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
  /** Stops between steps (vm watch on SIGTERM); the next reconcile heals what is left. */
  readonly signal?: AbortSignal;
  readonly versions?: VersionCache;
}

/** A step failed; `logTail` holds the service's last log lines (LiveKit never logs secrets). */
export class StepFailedError extends UserError {
  constructor(
    readonly step: Step,
    readonly failure: Error,
    readonly logTail: readonly string[],
    readonly rolledBack: RollbackOutcome,
  ) {
    super('STEP_FAILED', `step failed: ${step.service} ${step.resource} ${step.action}: ${failure.message}${describeRollback(rolledBack)}`);
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
  const applied: Array<{ step: Step; ms: number }> = [];
  // Test-only: die like `kill -9` at a step boundary, so tests can prove the next apply heals it.
  const killBefore = host.env['VM_TEST_KILL_BEFORE_STEP'];
  for (const [i, step] of before.plan.steps.entries()) {
    if (killBefore !== undefined && Number(killBefore) === i) process.kill(process.pid, 'SIGKILL');
    if (opts.signal?.aborted === true) throw new UserError('ABORTED', `stopped before step ${i + 1} of ${before.plan.steps.length}; the next reconcile takes up from here`);
    const t0 = host.now();
    reporter.stepStart?.(step);
    try {
      await runEffect(host, step.effect, reporter);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reporter.stepFailed?.(step, err, host.now() - t0);
      if (!(e instanceof UserError) && !isSystemError(e)) throw e; // a bug: let it surface as one
      // Read the log before rolling back: the lines that explain the failure come first.
      const logTail = await host.tail(before.paths.livekit.logFile, 15);
      const touched = [...applied.map((a) => a.step), step];
      const outcome: RollbackOutcome =
        opts.rollback === false ? { kind: 'disabled' } : applied.length === 0 && !isMutating(step) ? { kind: 'nothing-changed' } : await rollback(host, before, touched, reporter);
      if (outcome.kind === 'rolled-back') {
        // Back on the old setup: remember that this change failed, so the watch does not retry
        // it every resync, and drop the version that never ran healthy (`vm apply` fetches it again).
        if (before.plan.attempt !== undefined) await writeFailureRecord(host, before.paths.livekit.failureRecord, before.plan.attempt, step);
        await removeFailedVersions(host, before, touched);
      }
      throw new StepFailedError(step, err, logTail, outcome);
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
  await clearFailureRecord(host, after.paths.livekit.failureRecord);
  await recordVersion(host, after.paths.livekit.versionRecord, after.observed.livekit?.binary);
  return { applied, after };
}

export function refuseBlocked(p: Plan): void {
  if (p.blockers.length > 0) {
    throw new UserError('STEP_FAILED', `cannot apply: ${p.blockers.join('; ')}`);
  }
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
 * After a rollback to the previous version: the versions this apply installed (absent before it)
 * are gone again. Only when the link is back on a version that was there before, never the one
 * it points at.
 */
async function removeFailedVersions(host: Host, before: Snapshot, touched: readonly Step[]): Promise<void> {
  const o = before.observed.livekit;
  if (o === undefined || o.binary.kind !== 'present' || o.binary.target === undefined) return;
  const p = before.paths.livekit;
  for (const { effect: e } of touched) {
    if (e.kind !== 'install-release' && e.kind !== 'install-script') continue;
    const dir = `${e.versionsDir}/${e.version}`;
    if (o.installedVersions.includes(e.version) || o.binary.target.startsWith(`${dir}/`) || e.versionsDir !== p.versionsDir) continue;
    try {
      await host.remove(dir);
    } catch (e) {
      if (!isSystemError(e)) throw e; // a leftover costs disk space only; the failure is what to report
    }
  }
}

function isMutating(step: Step): boolean {
  return step.effect.kind !== 'wait-healthy';
}

function describeRollback(o: RollbackOutcome): string {
  switch (o.kind) {
    case 'rolled-back':
      return `; rolled back to the previous binary, config and unit${o.healthy ? ' — LiveKit is healthy again on the old setup' : ''}`;
    case 'rollback-failed':
      return `; rolling back failed too: ${o.why}`;
    case 'nothing-to-restore':
      return '; nothing to roll back to (there was no previous working setup)';
    case 'disabled':
      return '; left as it is (--no-rollback)';
    case 'nothing-changed':
      return '; nothing was changed';
  }
}
