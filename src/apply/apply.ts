// Takes a plan's steps in order, then observes again and confirms convergence. The only writer.
// Stops at the first failed step: later steps assume earlier ones happened.

import type { DesiredState, Plan, Step } from '../model.js';
import type { Host } from '../platform/host.js';
import { UserError } from '../errors.js';
import { snapshot, type Snapshot } from '../reconcile.js';
import type { PlanContext } from '../services/livekit/plan.js';
import { runEffect, type EffectIo } from './effects.js';

export interface ApplyReporter extends EffectIo {
  stepStart?(step: Step): void;
  stepDone?(step: Step, ms: number): void;
  stepFailed?(step: Step, error: Error, ms: number): void;
}

/** A step failed; `logTail` holds the service's last log lines (LiveKit never logs secrets). */
export class StepFailedError extends UserError {
  constructor(
    readonly step: Step,
    cause: Error,
    readonly logTail: readonly string[],
  ) {
    super('STEP_FAILED', `step failed: ${step.service} ${step.resource} ${step.action}: ${cause.message}`);
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
): Promise<ApplyResult> {
  refuseBlocked(before.plan);
  const applied: Array<{ step: Step; ms: number }> = [];
  for (const step of before.plan.steps) {
    const t0 = host.now();
    reporter.stepStart?.(step);
    try {
      await runEffect(host, step.effect, reporter);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reporter.stepFailed?.(step, err, host.now() - t0);
      if (!(e instanceof UserError) && !isSystemError(e)) throw e; // a bug: let it surface as one
      throw new StepFailedError(step, err, await host.tail(before.paths.livekit.logFile, 15));
    }
    const ms = host.now() - t0;
    reporter.stepDone?.(step, ms);
    applied.push({ step, ms });
  }
  // Same secret as the plan used, so a generated key does not look changed on the second look.
  const after = await snapshot(host, desired, ctx);
  if (after.plan.steps.length > 0) {
    const pending = after.plan.steps.map((s) => `${s.resource} ${s.action} (${s.reason})`).join('; ');
    throw new UserError('NOT_CONVERGED', `applied ${applied.length} steps but the machine has not converged: ${pending}`);
  }
  return { applied, after };
}

export function refuseBlocked(p: Plan): void {
  if (p.blockers.length > 0) {
    throw new UserError('STEP_FAILED', `cannot apply: ${p.blockers.join('; ')}`);
  }
}

/** fs errors (EACCES, ENOSPC, …) are the machine's, not vm's bugs: report them as step failures. */
function isSystemError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && typeof (e as NodeJS.ErrnoException).code === 'string' && 'syscall' in e;
}
