// Takes a plan's steps service by service, in the file's order, then observes again and confirms
// convergence. The only writer. Stops at the first failed step (later steps assume earlier ones
// happened) and, when anything had changed, rolls back that service — only that one — to the
// state observed before (its kind computes how); services applied before it keep their changes.
// An interrupt (Ctrl-C, SIGTERM) is handled alike: the step under way ends, then what this apply
// changed is undone, service by service, the last one first.

import type { DesiredState, Plan, ServiceName, Step } from '../model.js';
import type { Host } from '../platform/host.js';
import { InterruptedError, isSystemError, stopSignalOf, UserError, type StopSignal } from '../errors.js';
import type { PlanContext } from '../plan/context.js';
import { snapshot, type ObserveOptions, type Snapshot } from '../reconcile.js';
import type { ServiceSnapshot, VersionChange } from '../services/contract.js';
import { kindOf } from '../services/registry.js';
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
  /** Put back the previous setup of a service when a change to it fails (default true). */
  readonly rollback?: boolean;
  /**
   * An interrupt (its reason names the signal: 'SIGINT' or 'SIGTERM'). The step under way runs to
   * its end — except a health wait, which is cut short and counts as failed — no further step
   * starts, and what was applied is rolled back (unless `rollback: false`).
   */
  readonly signal?: AbortSignal;
  /** A second interrupt: skip that rollback, or stop it between its effects. */
  readonly skipRollback?: AbortSignal;
  /** A watch's per-service memory (see ObserveOptions). */
  readonly memo?: ObserveOptions['memo'];
  /**
   * Services whose change is held back (`before` leaves their steps out: src/plan/withhold.ts):
   * their steps do not count against convergence, and their failure record stays.
   */
  readonly held?: ReadonlySet<ServiceName>;
}

/** What a rollback put back, and who is healthy again, for messages. */
interface Restored {
  readonly what: string;
  readonly title: string;
  readonly version?: VersionChange | undefined;
}

/**
 * A step failed; `logTail` holds the service's log lines written since this apply started (the
 * services vm runs never log secrets), so an old failure from an earlier run is never shown as
 * this one's cause.
 */
export class StepFailedError extends UserError {
  constructor(
    readonly step: Step,
    readonly failure: Error,
    readonly logTail: readonly string[],
    readonly rolledBack: RollbackOutcome,
    readonly restored: Restored = { what: 'its previous setup', title: step.service },
  ) {
    super('STEP_FAILED', `${step.service} ${step.resource} ${step.action} failed: ${failure.message}${describeRollback(rolledBack, restored)}`);
  }

  /** Whose log `logTail` is: "LiveKit", "whisper". */
  get title(): string {
    return this.restored.title;
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
    restored: Restored,
  ) {
    const where = cutShort === undefined ? `before step ${stoppedBefore + 1} of ${of}` : `during step ${stoppedBefore + 1} of ${of} (${cutShort.service} ${cutShort.resource} ${cutShort.action})`;
    super(signal, `interrupted (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}) ${where}${describeRollback(rolledBack, restored)}`);
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
  // Where each log ends now: on failure only what this apply's service wrote is shown.
  const logFrom = new Map(await Promise.all(before.services.map(async (s) => [s.name, (await host.stat(s.paths.logFile))?.size ?? 0] as const)));
  const applied: Array<{ step: Step; ms: number }> = [];
  /** The steps taken so far, per service in the order they ran: what an interrupt undoes. */
  const taken: Array<{ service: ServiceSnapshot; steps: Step[] }> = [];
  // Test-only: die like `kill -9` at a step boundary, so tests can prove the next apply heals it.
  const killBefore = host.env['VM_TEST_KILL_BEFORE_STEP'];
  // Only the health wait listens to the interrupt: a half-written file or a half-run systemctl
  // would leave more to undo than finishing it does.
  const effectIo: EffectIo = { ...(reporter.onProgress === undefined ? {} : { onProgress: reporter.onProgress }), ...(opts.signal === undefined ? {} : { signal: opts.signal }) };
  // A function, not the property: TypeScript would take `aborted` to stay false across the awaits.
  const stopping = () => opts.signal?.aborted === true;
  const total = before.plan.steps.length;
  const interrupted = async (i: number, cutShort: Step | undefined): Promise<ApplyInterruptedError> => {
    let outcome: RollbackOutcome = { kind: 'nothing-changed' };
    let last: ServiceSnapshot | undefined;
    // The last service first: it is the one half-way through its change.
    for (const t of [...taken].reverse()) {
      if (!t.steps.some(isMutating)) continue;
      last ??= t.service;
      const o: RollbackOutcome = opts.rollback === false ? { kind: 'disabled' } : await rollback(host, kindOf(t.service.desired).rollback(t.service, t.steps), reporter, opts.skipRollback);
      outcome = worse(outcome, o);
    }
    return new ApplyInterruptedError(stopSignalOf(opts.signal), i, total, cutShort, outcome, restoredOf(last ?? before.services[0]));
  };
  let i = 0;
  for (const service of before.services) {
    const done: Step[] = [];
    taken.push({ service, steps: done });
    for (const step of service.plan.steps) {
      if (killBefore !== undefined && Number(killBefore) === i) process.kill(process.pid, 'SIGKILL');
      if (stopping()) throw await interrupted(i, undefined);
      const t0 = host.now();
      reporter.stepStart?.(step);
      try {
        await runEffect(host, step.effect, effectIo);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        reporter.stepFailed?.(step, err, host.now() - t0);
        if (!(e instanceof UserError) && !isSystemError(e)) throw e; // a bug: let it surface as one
        done.push(step);
        if (stopping()) throw await interrupted(i, step);
        // Read the log before rolling back: the lines that explain the failure come first.
        const logTail = await host.tail(service.paths.logFile, 15, logFrom.get(service.name) ?? 0);
        const outcome: RollbackOutcome =
          done.length === 1 && changesNothingOnFailure(step)
            ? { kind: 'nothing-changed' }
            : opts.rollback === false
              ? { kind: 'disabled' }
              : await rollback(host, kindOf(service.desired).rollback(service, done), reporter, opts.skipRollback);
        if (outcome.kind === 'rolled-back') {
          // Back on the old setup: remember that this change failed, so the watch does not retry
          // it every resync, and let the kind tidy what the change left (a version that never ran
          // healthy: `vm apply` fetches it again).
          if (service.attempt !== undefined) await writeFailureRecord(host, service.paths.failureRecord, service.attempt, step);
          await kindOf(service.desired).afterRollback?.(host, service, done);
        }
        throw new StepFailedError(step, err, logTail, outcome, restoredOf(service));
      }
      const ms = host.now() - t0;
      reporter.stepDone?.(step, ms);
      applied.push({ step, ms });
      done.push(step);
      i++;
    }
  }
  // Client config files, after every service (src/plan/clients.ts). Each write is atomic and
  // touches one fragment: a failure leaves that file as it was, with nothing to roll back.
  for (const step of before.clients.steps) {
    if (stopping()) throw await interrupted(i, undefined);
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
  const held = opts.held ?? new Set<ServiceName>();
  const left = after.plan.steps.filter((s) => !held.has(s.service));
  if (left.length > 0) {
    const pending = left.map((s) => `${s.service} ${s.resource} ${s.action} (${s.reason})`).join('; ');
    throw new UserError('NOT_CONVERGED', `applied ${applied.length} steps but the machine has not converged: ${pending}`);
  }
  await afterConverged(host, before, after, held);
  return { applied, after };
}

/** Each kind's tidying once the machine has converged (old versions, remembered answers). */
export async function afterConverged(host: Host, before: Snapshot, after: Snapshot, held: ReadonlySet<ServiceName> = new Set()): Promise<void> {
  for (const a of after.services) {
    if (held.has(a.name)) continue; // its change still waits: not converged, and not forgotten
    const b = before.services.find((s) => s.name === a.name) ?? a;
    const installed = b.plan.steps.some((s) => s.action === 'install');
    await kindOf(a.desired).afterConverged?.(host, b, a, installed);
    // Converged: whatever failed before is no longer pending.
    if (a.failed !== undefined) await clearFailureRecord(host, a.paths.failureRecord);
  }
}

export function refuseBlocked(p: Plan): void {
  if (p.blockers.length > 0) throw blockedError(p);
}

export function blockedError(p: Plan): UserError {
  return new UserError('STEP_FAILED', `cannot apply: ${p.blockers.join('; ')}`);
}

function restoredOf(s: ServiceSnapshot | undefined): Restored {
  if (s === undefined) return { what: 'the previous setup', title: 'the service' };
  const kind = kindOf(s.desired);
  return { what: kind.restores, title: kind.title(s.name), version: kind.versionChange?.(s) };
}

/** Whether a step that ran changed anything: a health wait only looked. */
function isMutating(step: Step): boolean {
  return step.effect.kind !== 'wait-healthy';
}

/**
 * Steps that leave nothing changed when they fail: a wait changes nothing at all; a release
 * install switches the link only as its last, atomic step, and a verified download renames its
 * file into place only after the check (a checksum mismatch is refused before anything is
 * touched; see install.ts's and verified-download.ts's contracts).
 */
function changesNothingOnFailure(step: Step): boolean {
  const k = step.effect.kind;
  return k === 'wait-healthy' || k === 'install-release' || k === 'switch-link' || k === 'download';
}

/** Of two services' rollbacks, the outcome to report: a failure outranks a success. */
function worse(a: RollbackOutcome, b: RollbackOutcome): RollbackOutcome {
  const rank = (o: RollbackOutcome) => ['nothing-changed', 'nothing-to-restore', 'disabled', 'rolled-back', 'skipped', 'rollback-failed'].indexOf(o.kind);
  return rank(b) >= rank(a) ? b : a;
}

function describeRollback(o: RollbackOutcome, r: Restored): string {
  const v = r.version;
  const asks = v === undefined ? '' : `; the file asks for ${v.to}, which stays pending`;
  switch (o.kind) {
    case 'rolled-back':
      if (v === undefined) return `; rolled back to ${r.what}${o.healthy ? `: ${r.title} is healthy again as it was` : ''}`;
      return `; rolled back to ${r.what}: ${v.program} ${v.from} is ${o.healthy ? 'running and healthy' : 'installed'} again${asks}`;
    case 'rollback-failed':
      return `; rolling back failed too: ${o.why}${v === undefined ? '' : ` (${v.program} ${v.from} ran before; the file asks for ${v.to})`}`;
    case 'nothing-to-restore':
      return '; nothing to roll back to (there was no previous working setup)';
    case 'disabled':
      return `; left as it is (--no-rollback)${v === undefined ? '' : `: ${v.program} ${v.to} is installed, as the file asks; ${v.from} ran before`}`;
    case 'nothing-changed':
      return `; nothing was changed${v === undefined ? '' : `: ${v.program} ${v.from} is still ${v.wasRunning ? 'the one running' : 'installed'}${asks}`}`;
    case 'skipped':
      return `; rollback skipped (asked twice to stop)${o.done > 0 ? ` after ${o.done} of ${o.of} of its steps` : ''}: the change is left half-applied — run \`vm apply\` to finish it`;
  }
}
