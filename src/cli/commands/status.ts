// Per service: what its kind observes (binary or program, config, unit, running, healthy).
// Read-only, like plan.
//
// Status is what people run when something is wrong, so it shows what it can observe even when
// a secret cannot be read (an unset `{ env }` variable, a secret file others may read): it loads
// the file with secrets deferred, prints everything that needs no secret, then names each
// problem (file:line:col) and exits 1. `vm plan` and `vm apply` refuse such a file outright.

import { formatProblem } from '../../errors.js';
import type { SpecProblem } from '../../model.js';
import { statusReport } from '../../ops/status.js';
import { nodeHost } from '../../platform/node-host.js';
import type { Snapshot } from '../../reconcile.js';
import { loadDesiredForReading } from '../../spec/load.js';
import { EXIT } from '../exit.js';
import { hint } from '../invocation.js';
import type { CliIo } from '../io.js';

export async function statusCommand(io: CliIo, o: { file?: string; json?: boolean }): Promise<number> {
  const { desired, secretProblems } = await loadDesiredForReading({ ...(o.file === undefined ? {} : { file: o.file }), cwd: io.cwd, env: io.env });
  const host = nodeHost(io.env);
  const { snap, views, json } = await statusReport(host, desired, secretProblems);
  const secretsUnread = secretProblems.length > 0;
  if (o.json === true) {
    io.stdout.write(`${JSON.stringify(json)}\n`);
    return reportSecretProblems(io, secretProblems);
  }
  const n = snap.plan.steps.length;
  const absentOnly = snap.services.length > 0 && snap.services.every((s) => s.desired.state === 'absent');
  const summary =
    views.length === 0
      ? undefined
      : secretsUnread
        ? 'not compared with the file: a secret cannot be read (see below)'
        : n === 0
          ? absentOnly ? `converged: ${snap.services.map((s) => s.name).join(', ')} ${snap.services.length === 1 ? 'is' : 'are'} not installed` : 'converged'
          : hint(io, `${n} step(s) pending: run \`vm plan\` for details`);
  io.stdout.write(
    [
      ...views.flatMap((v) => v.view.lines),
      ...undeclared(snap),
      ...snap.plan.warnings.map((w) => `warning: ${w}`),
      ...(views.length === 0 ? snap.plan.notes.map((note) => `note: ${note}`) : []),
      ...(summary === undefined ? [] : [summary]),
      '',
    ].join('\n'),
  );
  return reportSecretProblems(io, secretProblems);
}

function reportSecretProblems(io: CliIo, problems: readonly SpecProblem[]): number {
  if (problems.length === 0) return EXIT.ok;
  io.stderr.write(`${problems.map(formatProblem).join('\n')}\n`);
  const what = problems.length === 1 ? 'a secret' : `${problems.length} secrets`;
  io.stderr.write(`vm: ${what} in the file cannot be read: status shows what it could observe without; \`vm plan\` and \`vm apply\` refuse until it is fixed\n`);
  return EXIT.error;
}

/** Services the file no longer declares: what vm left, above all one still running. */
function undeclared(snap: Snapshot): string[] {
  const lines: string[] = [];
  for (const l of snap.leftovers) {
    const rt = l.runtime;
    lines.push(`${l.name}  (not in the file${rt === undefined ? '' : `; supervisor: ${rt.supervisor.kind}, ${rt.supervisor.why}`})`);
    if (rt !== undefined) lines.push(`  running  ${rt.runtime.running ? `yes, pid ${rt.runtime.pid}` : `no (${rt.runtime.state})`}`);
    if (l.files.length > 0) lines.push(`  files    ${l.files.join(', ')}`);
  }
  if (lines.length === 0 && snap.services.length === 0) lines.push('no services declared');
  return lines;
}
