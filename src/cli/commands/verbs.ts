// `vm start|stop|enable|disable|install|uninstall [SERVICE]` and `vm restart [SERVICE]`: thin
// adapters over src/ops/service-verbs.ts. The verbs show the file's diff and the plan it leads
// to, ask as `vm apply` does (a terminal, or --yes), write the file, then apply.

import { InterruptedError, UserError } from '../../errors.js';
import { nodeHost } from '../../platform/node-host.js';
import { describeHolder } from '../../platform/lock.js';
import { RestartFailedError, restartService, runVerb, type Verb, type VerbPreview } from '../../ops/service-verbs.js';
import type { Snapshot } from '../../reconcile.js';
import { parseDuration } from '../../spec/normalise.js';
import { loadContext } from '../context.js';
import { EXIT, reportError } from '../exit.js';
import type { CliIo } from '../io.js';
import { renderPlan, stepLine } from '../render-plan.js';

export interface VerbFlags {
  file?: string;
  yes?: boolean;
  json?: boolean;
  removeData?: boolean;
  lockTimeout?: string;
}

function lockTimeout(o: VerbFlags): number {
  const ms = parseDuration(o.lockTimeout ?? '30s');
  if (ms === undefined) throw new UserError('USAGE', `--lock-timeout ${o.lockTimeout}: not a duration (500ms, 30s, 2m)`);
  return ms;
}

export async function verbCommand(io: CliIo, verb: Verb, service: string | undefined, o: VerbFlags): Promise<number> {
  if (o.removeData === true && verb !== 'uninstall') throw new UserError('USAGE', '--remove-data goes with uninstall only');
  const json = o.json === true;
  const host = nodeHost(io.env);
  const result = await runVerb({
    host,
    ...(o.file === undefined ? {} : { file: o.file }),
    cwd: io.cwd,
    env: io.env,
    ...(service === undefined ? {} : { service }),
    verb,
    removeData: o.removeData === true,
    lockTimeoutMs: lockTimeout(o),
    decide: (p, plan) => decide(io, o, p, plan),
    reporter: json
      ? {}
      : {
          stepStart: (s) => io.stdout.write(`  ${stepLine(s, io.color)} ...`),
          stepDone: () => io.stdout.write(' done\n'),
          stepFailed: () => io.stdout.write(' FAILED\n'),
          rollbackStart: () => io.stdout.write('\nRolling back:\n'),
        },
    events: { onLockWait: (h) => io.stderr.write(`vm: waiting for the apply lock, held by ${describeHolder(h, Date.now())}\n`) },
  });
  const a = result.applied;
  if (json) {
    io.stdout.write(`${JSON.stringify({ service: result.service, verb, file: result.file, set: result.set, changed: result.changed, diff: result.diff, ...a.json })}\n`);
  } else if (a.ok) {
    io.stdout.write(a.kind === 'nothing-to-do' ? `Nothing to apply: ${result.service} already matches the file.\n` : `\n${result.service}: done (${describeSet(result.set)}).\n`);
  }
  if (a.ok) return EXIT.ok;
  const code = reportError(a.error, io.stderr, io.hint);
  const log = a.kind === 'failed' ? (a.failedStep?.logTail ?? []) : [];
  if (log.length > 0) io.stderr.write(`${result.service}'s log since this apply started:\n${log.map((l) => `  | ${l}`).join('\n')}\n`);
  return code;
}

async function decide(io: CliIo, o: VerbFlags, p: VerbPreview, plan: Snapshot): Promise<boolean> {
  const json = o.json === true;
  const steps = plan.plan.steps.length;
  if (!json) {
    if (p.changed) io.stdout.write(`${p.file}: services.${p.service}: ${describeSet(p.set)}\n${p.diff.split('\n').slice(2).join('\n')}\n`);
    else io.stdout.write(`Nothing to change: ${p.file} already says services.${p.service}: ${describeSet(p.set)}.\n`);
    if (steps > 0 || plan.plan.blockers.length > 0) io.stdout.write(await renderPlan(plan, p.file, { color: io.color === true, applyHint: false, ...(io.hint === undefined ? {} : { hint: io.hint }) }));
  }
  // Nothing to write and nothing to do: no question to ask.
  if (!p.changed && steps === 0) return true;
  if (o.yes === true) return true;
  if (!io.isTTY || io.prompt === undefined) {
    throw new UserError('NOT_A_TTY', `refusing to ${p.changed ? 'edit the file and apply' : 'apply'} without a terminal to confirm on; nothing was changed`, 'pass --yes to go ahead without asking');
  }
  const answer = await io.prompt(`\n${p.changed ? 'Write the file and take' : 'Take'} ${steps} step${steps === 1 ? '' : 's'}? [y/N] `);
  if (typeof answer === 'object') throw new InterruptedError('SIGINT', 'not done (Ctrl-C); nothing was changed');
  return answer !== undefined && /^y(es)?$/i.test(answer.trim());
}

function describeSet(set: Readonly<Record<string, unknown>>): string {
  return Object.entries(set).map(([k, v]) => `${k}: ${String(v)}`).join(', ');
}

export async function restartCommand(io: CliIo, service: string | undefined, o: VerbFlags): Promise<number> {
  const { desired, host } = await loadContext(io, o.file);
  try {
    const r = await restartService({
      host,
      desired,
      ...(service === undefined ? {} : { service }),
      lockTimeoutMs: lockTimeout(o),
      onLockWait: (h) => io.stderr.write(`vm: waiting for the apply lock, held by ${describeHolder(h, Date.now())}\n`),
    });
    if (o.json === true) io.stdout.write(`${JSON.stringify({ service: r.service, restarted: true, healthy: true, pid_before: r.pidBefore, pid: r.pidAfter, url: r.url })}\n`);
    else io.stdout.write(`${r.service} restarted${r.pidBefore === null ? '' : ` (pid ${r.pidBefore} → ${r.pidAfter ?? '?'})`} and healthy: ${r.url} answers.\n`);
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof RestartFailedError)) throw e;
    const code = reportError(e, io.stderr, io.hint);
    if (e.logTail.length > 0) io.stderr.write(`its log since the restart (last ${e.logTail.length} line${e.logTail.length === 1 ? '' : 's'}):\n${e.logTail.map((l) => `  | ${l}`).join('\n')}\n`);
    return code;
  }
}
