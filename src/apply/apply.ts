// Takes a plan's steps service by service, in the file's order, then observes again and confirms
// convergence. The only writer. Stops at the first failed step (later steps assume earlier ones
// happened) and, when anything had changed, rolls back that service — only that one — to the
// state observed before (its kind computes how). Services applied before it keep their changes.

import type { DesiredState, Plan, Step } from '../model.js';
import type { Host } from '../platform/host.js';
import { isSystemError, UserError } from '../errors.js';
import type { PlanContext } from '../plan/context.js';
import { snapshot, type ObserveOptions, type Snapshot } from '../reconcile.js';
import { kindOf } from '../services/registry.js';
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
  /** Stops between steps (vm watch on SIGTERM); the next reconcile heals what is left. */
  readonly signal?: AbortSignal;
  /** A watch's per-service memory (see ObserveOptions). */
  readonly memo?: ObserveOptions['memo'];
}

/** A step failed; `logTail` holds the service's last log lines (LiveKit never logs secrets). */
export class StepFailedError extends UserError {
  constructor(
    readonly step: Step,
    readonly failure: Error,
    readonly logTail: readonly string[],
    readonly rolledBack: RollbackOutcome,
    /** What the rollback put back and who is healthy again: "the previous binary, config and unit", "LiveKit". */
    readonly restored: { readonly what: string; readonly title: string } = { what: 'its previous setup', title: step.service },
  ) {
    super('STEP_FAILED', `step failed: ${step.service} ${step.resource} ${step.action}: ${failure.message}${describeRollback(rolledBack, restored)}`);
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
  const total = before.plan.steps.length;
  let i = 0;
  for (const service of before.services) {
    const done: Step[] = [];
    for (const step of service.plan.steps) {
      if (killBefore !== undefined && Number(killBefore) === i) process.kill(process.pid, 'SIGKILL');
      if (opts.signal?.aborted === true) throw new UserError('ABORTED', `stopped before step ${i + 1} of ${total}; the next reconcile takes up from here`);
      i++;
      const t0 = host.now();
      reporter.stepStart?.(step);
      try {
        await runEffect(host, step.effect, reporter);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        reporter.stepFailed?.(step, err, host.now() - t0);
        if (!(e instanceof UserError) && !isSystemError(e)) throw e; // a bug: let it surface as one
        // Read the log before rolling back: the lines that explain the failure come first.
        const logTail = await host.tail(service.paths.logFile, 15);
        const outcome: RollbackOutcome =
          opts.rollback === false
            ? { kind: 'disabled' }
            : done.length === 0 && !isMutating(step)
              ? { kind: 'nothing-changed' }
              : await rollback(host, kindOf(service.desired).rollback(service, [...done, step]), reporter);
        const kind = kindOf(service.desired);
        throw new StepFailedError(step, err, logTail, outcome, { what: kind.restores, title: kind.title(service.name) });
      }
      const ms = host.now() - t0;
      reporter.stepDone?.(step, ms);
      applied.push({ step, ms });
      done.push(step);
    }
  }
  // Client config files, after every service (src/plan/clients.ts). Each write is atomic and
  // touches one fragment: a failure leaves that file as it was, with nothing to roll back.
  for (const step of before.clients.steps) {
    if (opts.signal?.aborted === true) throw new UserError('ABORTED', `stopped before step ${i + 1} of ${total}; the next reconcile takes up from here`);
    i++;
    const t0 = host.now();
    reporter.stepStart?.(step);
    try {
      await runEffect(host, step.effect, reporter);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reporter.stepFailed?.(step, err, host.now() - t0);
      if (!(e instanceof UserError) && !isSystemError(e)) throw e;
      throw new StepFailedError(step, err, [], { kind: 'nothing-changed' }, { what: 'the file as it was', title: step.service });
    }
    const ms = host.now() - t0;
    reporter.stepDone?.(step, ms);
    applied.push({ step, ms });
  }
  // Same secret as the plan used, so a generated key does not look changed on the second look.
  const after = await snapshot(host, desired, ctx, opts.memo === undefined ? {} : { memo: opts.memo });
  if (after.plan.steps.length > 0) {
    const pending = after.plan.steps.map((s) => `${s.service} ${s.resource} ${s.action} (${s.reason})`).join('; ');
    throw new UserError('NOT_CONVERGED', `applied ${applied.length} steps but the machine has not converged: ${pending}`);
  }
  await afterConverged(host, before, after);
  return { applied, after };
}

/** Each kind's tidying once the machine has converged (old versions, remembered answers). */
export async function afterConverged(host: Host, before: Snapshot, after: Snapshot): Promise<void> {
  for (const a of after.services) {
    const b = before.services.find((s) => s.name === a.name) ?? a;
    const installed = b.plan.steps.some((s) => s.action === 'install');
    await kindOf(a.desired).afterConverged?.(host, b, a, installed);
  }
}

export function refuseBlocked(p: Plan): void {
  if (p.blockers.length > 0) {
    throw new UserError('STEP_FAILED', `cannot apply: ${p.blockers.join('; ')}`);
  }
}

function isMutating(step: Step): boolean {
  return step.effect.kind !== 'wait-healthy';
}

function describeRollback(o: RollbackOutcome, restored: { readonly what: string; readonly title: string }): string {
  switch (o.kind) {
    case 'rolled-back':
      return `; rolled back to ${restored.what}${o.healthy ? ` — ${restored.title} is healthy again on the old setup` : ''}`;
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
