// Apply without asking, for front ends whose caller has already said yes (the MCP `apply` tool
// with confirm: true, `vm start` and friends after their edit): the one locked-apply flow, its
// outcome as the `vm apply --json` object. Prints nothing.

import { afterConverged, blockedError, StepFailedError, type ApplyReporter } from '../apply/apply.js';
import { InterruptedError, stopSignalOf, UserError } from '../errors.js';
import type { DesiredState, Plan, Step } from '../model.js';
import { planToJson } from '../plan/plan.js';
import type { Host } from '../platform/host.js';
import { applyLockPath } from '../platform/lock.js';
import { planContext, type Snapshot } from '../reconcile.js';
import { resolveRoots } from '../paths.js';
import type { PlanContext } from '../plan/context.js';
import { lockedApply, type LockedApplyEvents } from './locked-apply.js';

export interface AppliedStep {
  readonly step: Step;
  readonly ok: boolean;
  readonly ms: number;
}

/** The `vm apply --json` object (without `error`). */
export function applyJson(plan: Plan, applied: readonly AppliedStep[], converged: boolean) {
  return {
    ...planToJson(plan),
    converged,
    applied: applied.map((a) => ({ service: a.step.service, resource: a.step.resource, action: a.step.action, reason: a.step.reason, ok: a.ok, duration_ms: Math.round(a.ms) })),
  };
}

export type ApplyNowResult =
  | { readonly ok: true; readonly json: ReturnType<typeof applyJson>; readonly nothingToDo: boolean; readonly after: Snapshot }
  /** A step failed (rolled back or not) or the apply was interrupted: `json` has `error`. */
  | { readonly ok: false; readonly json: ReturnType<typeof applyJson> & { readonly error: string }; readonly error: UserError; readonly logTail: readonly string[] };

export interface ApplyNowRequest {
  readonly host: Host;
  readonly desired: DesiredState;
  readonly ctx?: PlanContext;
  readonly lockTimeoutMs: number;
  readonly signal?: AbortSignal;
  readonly reporter?: ApplyReporter;
  readonly events?: LockedApplyEvents;
}

/**
 * Takes the apply lock, plans from a fresh look, and applies it. A lock held too long, blockers,
 * or an interruption while waiting throw a UserError (nothing was changed).
 */
export async function applyNow(r: ApplyNowRequest): Promise<ApplyNowResult> {
  const applied: AppliedStep[] = [];
  const given = r.reporter ?? {};
  const reporter: ApplyReporter = {
    ...given,
    stepDone: (s, ms) => {
      applied.push({ step: s, ok: true, ms });
      given.stepDone?.(s, ms);
    },
    stepFailed: (s, e, ms) => {
      applied.push({ step: s, ok: false, ms });
      given.stepFailed?.(s, e, ms);
    },
  };
  const outcome = await lockedApply({
    host: r.host,
    desired: r.desired,
    ctx: r.ctx ?? planContext(),
    lockFile: applyLockPath(resolveRoots(r.host.env).voicemodeHome),
    lockTimeoutMs: r.lockTimeoutMs,
    ...(r.signal === undefined ? {} : { signal: r.signal }),
    rotateLogs: true,
    reporter,
    ...(r.events === undefined ? {} : { events: r.events }),
  });
  switch (outcome.kind) {
    case 'stopped':
      throw new InterruptedError(stopSignalOf(r.signal), 'not applied: interrupted while waiting for the apply lock; nothing was changed');
    case 'lock-timeout':
      throw outcome.error;
    case 'blocked':
      throw blockedError(outcome.fresh.plan);
    case 'declined':
      throw new UserError('ABORTED', 'not applied: not confirmed');
    case 'converged-meanwhile':
      // Converged: remember the binary's answer so the next plan need not run it (as `vm apply`).
      await afterConverged(r.host, outcome.fresh, outcome.fresh);
      return { ok: true, json: applyJson(outcome.fresh.plan, [], true), nothingToDo: true, after: outcome.fresh };
    case 'applied':
      return { ok: true, json: applyJson(outcome.fresh.plan, applied, true), nothingToDo: false, after: outcome.result.after };
    case 'failed':
    case 'interrupted': {
      const e = outcome.error;
      const logTail = e instanceof StepFailedError ? e.logTail : [];
      return { ok: false, json: { ...applyJson(outcome.fresh.plan, applied, false), error: e.message }, error: e, logTail };
    }
  }
}
