// The one locked-apply flow as every front end that applies sees it (`vm apply`, the MCP `apply`
// tool, `vm start` and friends after their edit): the one place a locked-apply outcome becomes
// data — the `vm apply --json` object, the failed step with its service and log, what the
// rollback did, how each service stands afterwards. Prints nothing; the front ends only show it.

import { afterConverged, ApplyInterruptedError, blockedError, StepFailedError, type ApplyReporter } from '../apply/apply.js';
import type { RollbackOutcome } from '../apply/rollback.js';
import { InterruptedError, stopSignalOf, UserError } from '../errors.js';
import type { Plan, Step } from '../model.js';
import { planToJson } from '../plan/plan.js';
import { applyLockPath } from '../platform/lock.js';
import { planContext, type Snapshot } from '../reconcile.js';
import { resolveRoots } from '../paths.js';
import type { PlanContext } from '../plan/context.js';
import { lockedApply, type LockedApplyRequest } from './locked-apply.js';

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

export type ApplyJson = ReturnType<typeof applyJson>;

/** How a service stands once the apply converged (the CLI's closing line). */
export type ServiceNow =
  | { readonly service: string; readonly state: 'removed' }
  | { readonly service: string; readonly state: 'running'; readonly pid: number }
  /** Declared stopped; `detail` is the supervisor's word ("inactive (dead)"). */
  | { readonly service: string; readonly state: 'not-running'; readonly detail: string };

/**
 * The step that failed: which service, whose log it is ("LiveKit"), what that service logged
 * since this apply started, and what rolling it back did. Names the step, never its effect (a
 * rendered config can hold a secret).
 */
export interface FailedStep {
  readonly service: string;
  readonly resource: Step['resource'];
  readonly action: Step['action'];
  readonly title: string;
  readonly logTail: readonly string[];
  readonly rolledBack: RollbackOutcome;
}

/**
 * What an apply came to, once it had the lock and a plan to take. `ok` is the exit meaning: true
 * exits 0; false exits as `error` says (its class and signal, mapped in one place by the CLI's
 * exit.ts). `json` is the `vm apply --json` object, which is also the MCP tool's result.
 */
export type ApplyOutcome =
  /** The look under the lock was converged (whoever held the lock did the work): nothing was changed. */
  | { readonly kind: 'nothing-to-do'; readonly ok: true; readonly json: ApplyJson }
  | { readonly kind: 'applied'; readonly ok: true; readonly json: ApplyJson; readonly services: readonly ServiceNow[] }
  /** A step failed (`failedStep`), or every step ran and the machine still did not converge (no `failedStep`). */
  | { readonly kind: 'failed'; readonly ok: false; readonly json: ApplyJson & { readonly error: string }; readonly error: UserError; readonly failedStep?: FailedStep }
  /** Stopped by a signal after the step under way; `rolledBack` says what was undone. */
  | { readonly kind: 'interrupted'; readonly ok: false; readonly json: ApplyJson & { readonly error: string }; readonly error: ApplyInterruptedError; readonly rolledBack: RollbackOutcome };

export type ApplyRequest = Pick<LockedApplyRequest, 'host' | 'desired' | 'lockTimeoutMs' | 'signal' | 'skipRollback' | 'rollback' | 'decide' | 'reporter' | 'events'> & {
  /** Default: a plain context (no --force). */
  readonly ctx?: PlanContext;
};

/**
 * Takes the apply lock, plans from a fresh look, and applies it. Where nothing was changed and
 * something stood in the way — the lock held too long, blockers, an interruption while waiting,
 * `decide` saying no — it throws that as a UserError, as any other refusal.
 */
export async function runApply(r: ApplyRequest): Promise<ApplyOutcome> {
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
  const { ctx, ...rest } = r;
  const outcome = await lockedApply({ ...rest, ctx: ctx ?? planContext(), lockFile: applyLockPath(resolveRoots(r.host.env).voicemodeHome), rotateLogs: true, reporter });
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
      // Converged: remember the binary's answer so the next plan need not run it (version-record.ts).
      await afterConverged(r.host, outcome.fresh, outcome.fresh);
      return { kind: 'nothing-to-do', ok: true, json: applyJson(outcome.fresh.plan, [], true) };
    case 'applied':
      return { kind: 'applied', ok: true, json: applyJson(outcome.fresh.plan, applied, true), services: outcome.result.after.services.map(serviceNow) };
    case 'failed': {
      const e = outcome.error;
      const json = { ...applyJson(outcome.fresh.plan, applied, false), error: e.message };
      if (!(e instanceof StepFailedError)) return { kind: 'failed', ok: false, json, error: e };
      const { service, resource, action } = e.step;
      return { kind: 'failed', ok: false, json, error: e, failedStep: { service, resource, action, title: e.title, logTail: e.logTail, rolledBack: e.rolledBack } };
    }
    case 'interrupted': {
      const e = outcome.error;
      return { kind: 'interrupted', ok: false, json: { ...applyJson(outcome.fresh.plan, applied, false), error: e.message }, error: e, rolledBack: e.rolledBack };
    }
  }
}

function serviceNow(s: Snapshot['services'][number]): ServiceNow {
  const rt = s.observed.runtime;
  if (s.desired.state === 'absent' || rt === undefined) return { service: s.name, state: 'removed' };
  return rt.running ? { service: s.name, state: 'running', pid: rt.pid } : { service: s.name, state: 'not-running', detail: rt.state };
}
