import { afterConverged, type ApplyReporter } from '../../apply/apply.js';
import { InterruptedError, UserError } from '../../errors.js';
import type { DesiredState, Roots } from '../../model.js';
import { planToJson } from '../../plan/plan.js';
import type { Host } from '../../platform/host.js';
import { applyLockPath, describeHolder } from '../../platform/lock.js';
import { applyJson, runApply, type ServiceNow } from '../../ops/apply.js';
import { planContext, snapshot, type Snapshot } from '../../reconcile.js';
import type { PlanContext } from '../../plan/context.js';
import { parseDuration } from '../../spec/normalise.js';
import { describeSource, loadContext } from '../context.js';
import { EXIT, reportError } from '../exit.js';
import { SKIPPING, STOPPING, trapInterrupts, type Interrupts } from '../interrupts.js';
import type { CliIo } from '../io.js';
import { progressPrinter } from '../progress.js';
import { renderPlan, stepLine } from '../render-plan.js';

export interface ApplyFlags {
  file?: string;
  json?: boolean;
  yes?: boolean;
  rollback?: boolean;
  force?: boolean;
  /** A duration: 30s (default), 500ms, 2m. */
  lockTimeout?: string;
}

export async function applyCommand(io: CliIo, o: ApplyFlags): Promise<number> {
  const { desired, host } = await loadContext(io, o.file);
  const lockTimeoutMs = parseDuration(o.lockTimeout ?? '30s');
  if (lockTimeoutMs === undefined) throw new UserError('USAGE', `--lock-timeout ${o.lockTimeout}: not a duration (500ms, 30s, 2m)`);
  const ctx = planContext({ force: o.force === true });
  const first = await snapshot(host, desired, ctx);
  const json = o.json === true;
  // No "Run `vm apply`" line: this is apply, and it asks next.
  const shown = { color: io.color === true, applyHint: false, ...(io.hint === undefined ? {} : { hint: io.hint }) };
  if (!json) io.stdout.write(await renderPlan(first, describeSource(desired), shown));
  // A blocker seen outside the lock may be another vm's apply half-way (its LiveKit restarting
  // holds the port under a pid the unit does not name yet): only the look under the lock counts.
  const blocked = first.plan.blockers.length > 0;
  if (!blocked && first.plan.steps.length === 0) {
    // Converged: remember the binary's answer so the next plan need not run it (a no-op when
    // the record says so already; see version-record.ts).
    await afterConverged(host, first, first);
    if (json) io.stdout.write(`${JSON.stringify(applyJson(first.plan, [], true))}\n`);
    return EXIT.ok;
  }
  if (!blocked) await confirm(io, o.yes === true, first.plan.steps.length);
  // From here on a signal stops after the step under way and rolls back (interrupts.ts).
  const interrupts = trapInterrupts({
    first: () => io.stderr.write(`\nvm: ${STOPPING}\n`),
    second: () => io.stderr.write(`\nvm: ${SKIPPING}\n`),
  });
  try {
    return await applyLocked(io, o, host, desired, ctx, first, json, lockTimeoutMs, interrupts);
  } finally {
    interrupts.dispose();
  }
}

async function applyLocked(io: CliIo, o: ApplyFlags, host: Host, desired: DesiredState, ctx: PlanContext, first: Snapshot, json: boolean, lockTimeoutMs: number, interrupts: Interrupts): Promise<number> {
  const reporter: ApplyReporter = {
    stepStart: (s) => !json && io.stdout.write(`  ${stepLine(s, io.color)} ...`),
    stepDone: (_s, ms) => !json && io.stdout.write(` done (${fmtMs(ms)})\n`),
    stepFailed: () => !json && io.stdout.write(interrupts.stop.aborted ? ' interrupted\n' : ' FAILED\n'),
    rollbackStart: () => !json && io.stdout.write('\nRolling back to the previous binary, config and unit:\n'),
    ...(io.isTTY && !json ? { onProgress: progressPrinter(io.stdout, io.columns === undefined ? {} : { width: io.columns - 1 }) } : {}),
  };
  const t0 = host.now();
  const r = await runApply({
    host,
    desired,
    ctx,
    lockTimeoutMs,
    signal: interrupts.stop,
    skipRollback: interrupts.skipRollback,
    rollback: o.rollback !== false,
    reporter,
    events: {
      onLockWait: (h) => io.stderr.write(`vm: waiting for the apply lock, held by ${describeHolder(h, Date.now())}\n`),
      onLockTakeover: (h, why) => io.stderr.write(`vm: took over a stale apply lock${h === undefined ? '' : ` of pid ${h.pid}`}: ${why}\n`),
      onSwept: (n) => !json && io.stderr.write(`vm: removed ${n} temp file(s) left by an interrupted run\n`),
      onRotated: (m) => !json && io.stderr.write(`vm: ${m}\n`),
    },
    // The plan confirmed was made before the lock was ours: a different one is asked again.
    decide: async (fresh) => {
      // Asked again when the plan is not the one confirmed (or none was: the first look was blocked).
      const confirmed = first.plan.blockers.length === 0 ? JSON.stringify(planToJson(first.plan).steps) : undefined;
      if (o.yes !== true && JSON.stringify(planToJson(fresh.plan).steps) !== confirmed) {
        io.stdout.write(`\nThe machine changed while this apply waited; the plan is now:\n${await renderPlan(fresh, describeSource(desired), { color: io.color === true, applyHint: false, ...(io.hint === undefined ? {} : { hint: io.hint }) })}`);
        await confirm(io, false, fresh.plan.steps.length);
      }
      if (!json) io.stdout.write('\nApplying:\n');
      return true;
    },
  });
  if (json) io.stdout.write(`${JSON.stringify(r.json)}\n`);
  switch (r.kind) {
    case 'nothing-to-do':
      if (!json) io.stdout.write('\nNothing left to do: the machine converged while this apply waited.\n');
      return EXIT.ok;
    case 'applied': {
      if (!json) {
        const n = r.json.applied.length;
        io.stdout.write(`\nApplied ${n} step${n === 1 ? '' : 's'} in ${fmtMs(host.now() - t0)}. ${r.services.map(describeNow).join('; ')}.\n`);
      }
      return EXIT.ok;
    }
    case 'failed':
    case 'interrupted': {
      const code = reportError(r.error, io.stderr, io.hint);
      const f = r.kind === 'failed' ? r.failedStep : undefined;
      if (f !== undefined && f.logTail.length > 0) {
        io.stderr.write(`${f.title}'s log since this apply started (last ${f.logTail.length} line${f.logTail.length === 1 ? '' : 's'}):\n${f.logTail.map((l) => `  | ${l}`).join('\n')}\n`);
      }
      return code;
    }
  }
}

/** "livekit is converged: running (pid 123) and healthy". */
function describeNow(s: ServiceNow): string {
  const state = s.state === 'removed' ? 'removed' : s.state === 'running' ? `running (pid ${s.pid}) and healthy` : `not running: ${s.detail}`;
  return `${s.service} is converged: ${state}`;
}

async function confirm(io: CliIo, yes: boolean, n: number): Promise<void> {
  if (yes) return;
  if (!io.isTTY || io.prompt === undefined) {
    throw new UserError('NOT_A_TTY', 'refusing to apply without a terminal to confirm on', 'pass --yes to apply without asking');
  }
  const answer = await io.prompt(`\nTake these ${n} steps? [y/N] `);
  // Ctrl-C and Ctrl-D are a "no" like any other: nothing has been changed yet.
  if (typeof answer === 'object') throw new InterruptedError('SIGINT', 'not applied (Ctrl-C)');
  if (answer === undefined) throw new UserError('ABORTED', 'not applied (end of input)');
  if (!/^y(es)?$/i.test(answer.trim())) throw new UserError('ABORTED', 'not applied: not confirmed');
}

export function lockFile(roots: Roots): string {
  return applyLockPath(roots.voicemodeHome);
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
