import { applyPlan, refuseBlocked, StepFailedError, type ApplyReporter } from '../../apply/apply.js';
import { UserError } from '../../errors.js';
import type { Step } from '../../model.js';
import { planToJson } from '../../plan/plan.js';
import { planContext, snapshot } from '../../reconcile.js';
import { describeSource, loadContext } from '../context.js';
import { EXIT, reportError } from '../exit.js';
import type { CliIo } from '../io.js';
import { renderPlan, stepLine } from '../render-plan.js';

export async function applyCommand(io: CliIo, o: { file?: string; json?: boolean; yes?: boolean; rollback?: boolean; force?: boolean }): Promise<number> {
  const { desired, host } = await loadContext(io, o.file);
  const ctx = planContext({ force: o.force === true });
  const before = await snapshot(host, desired, ctx);
  const json = o.json === true;
  if (!json) io.stdout.write(await renderPlan(before, describeSource(desired)));
  refuseBlocked(before.plan);
  if (before.plan.steps.length === 0) {
    if (json) io.stdout.write(`${JSON.stringify({ ...planToJson(before.plan), converged: true, applied: [] })}\n`);
    return EXIT.ok;
  }
  await confirm(io, o.yes === true, before.plan.steps.length);

  const applied: Array<{ step: Step; ok: boolean; ms: number }> = [];
  const reporter: ApplyReporter = {
    stepStart: (s) => !json && io.stdout.write(`  ${stepLine(s)} ...`),
    stepDone: (s, ms) => {
      applied.push({ step: s, ok: true, ms });
      if (!json) io.stdout.write(` done (${fmtMs(ms)})\n`);
    },
    stepFailed: (s, _e, ms) => {
      applied.push({ step: s, ok: false, ms });
      if (!json) io.stdout.write(' FAILED\n');
    },
    rollbackStart: () => !json && io.stdout.write('\nRolling back to the previous binary, config and unit:\n'),
    ...(io.isTTY && !json ? { onProgress: progressPrinter(io) } : {}),
  };
  if (!json) io.stdout.write('\nApplying:\n');
  const t0 = host.now();
  try {
    const result = await applyPlan(host, desired, before, ctx, reporter, { rollback: o.rollback !== false });
    if (json) io.stdout.write(`${JSON.stringify(applyJson(before.plan, applied, true))}\n`);
    else {
      const rt = result.after.observed.livekit?.runtime;
      const now = rt?.running === true ? `running (pid ${rt.pid}) and healthy` : rt === undefined ? 'removed' : `not running (${rt.state})`;
      io.stdout.write(`\nApplied ${applied.length} steps in ${fmtMs(host.now() - t0)}. livekit is converged: ${now}.\n`);
    }
    return EXIT.ok;
  } catch (e) {
    if (json) io.stdout.write(`${JSON.stringify({ ...applyJson(before.plan, applied, false), error: e instanceof Error ? e.message : String(e) })}\n`);
    const code = reportError(e, io.stderr);
    if (e instanceof StepFailedError && e.logTail.length > 0) {
      io.stderr.write(`last lines of the LiveKit log:\n${e.logTail.map((l) => `  | ${l}`).join('\n')}\n`);
    }
    return code;
  }
}

async function confirm(io: CliIo, yes: boolean, n: number): Promise<void> {
  if (yes) return;
  if (!io.isTTY || io.prompt === undefined) {
    throw new UserError('NOT_A_TTY', 'refusing to apply without a terminal to confirm on', 'pass --yes to apply without asking');
  }
  const answer = await io.prompt(`\nTake these ${n} steps? [y/N] `);
  if (answer === undefined || !/^y(es)?$/i.test(answer.trim())) throw new UserError('ABORTED', 'nothing applied (not confirmed)');
}

function applyJson(plan: Parameters<typeof planToJson>[0], applied: ReadonlyArray<{ step: Step; ok: boolean; ms: number }>, converged: boolean) {
  return {
    ...planToJson(plan),
    converged,
    applied: applied.map((a) => ({ service: a.step.service, resource: a.step.resource, action: a.step.action, reason: a.step.reason, ok: a.ok, duration_ms: Math.round(a.ms) })),
  };
}

function progressPrinter(io: CliIo): (label: string, received: number, total: number | undefined) => void {
  let last = 0;
  return (label, received, total) => {
    const now = Date.now();
    if (now - last < 100 && received !== total) return;
    last = now;
    const mib = (n: number) => (n / 1048576).toFixed(1);
    io.stdout.write(`\r    downloading ${label}: ${mib(received)}${total === undefined ? '' : `/${mib(total)}`} MiB`);
    if (received === total) io.stdout.write('\n');
  };
}

function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
