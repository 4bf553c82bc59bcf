import { SpecError, UserError } from '../../errors.js';
import { planReport } from '../../ops/plan.js';
import { describeSource, loadContext } from '../context.js';
import { EXIT, reportError } from '../exit.js';
import type { CliIo } from '../io.js';
import { renderPlan } from '../render-plan.js';

export async function planCommand(io: CliIo, o: { file?: string; json?: boolean; detailedExitcode?: boolean; force?: boolean }): Promise<number> {
  let loaded: Awaited<ReturnType<typeof loadContext>>;
  try {
    loaded = await loadContext(io, o.file);
  } catch (e) {
    // A program reading --json gets JSON on stdout even when the file is invalid: the error and
    // each located problem, as data (the same lines go to stderr for a person).
    if (o.json !== true || !(e instanceof UserError)) throw e;
    io.stdout.write(`${JSON.stringify(errorJson(e))}\n`);
    return reportError(e, io.stderr);
  }
  const { desired, host } = loaded;
  const { snap, json } = await planReport(host, desired, { force: o.force === true });
  if (o.json === true) io.stdout.write(`${JSON.stringify(json)}\n`);
  else io.stdout.write(await renderPlan(snap, describeSource(desired), { color: io.color === true, ...(io.hint === undefined ? {} : { hint: io.hint }) }));
  if (snap.plan.blockers.length > 0) return EXIT.error;
  return o.detailedExitcode === true && snap.plan.steps.length > 0 ? EXIT.changes : EXIT.ok;
}

function errorJson(e: UserError): { format_version: '1'; error: string; problems: Array<{ file: string; line: number; column: number; message: string; pointer: string }> } {
  if (!(e instanceof SpecError)) return { format_version: '1', error: e.message, problems: [] };
  const n = e.problems.length;
  return {
    format_version: '1',
    error: `the file has ${n === 1 ? 'a problem' : `${n} problems`}; nothing was changed`,
    problems: e.problems.map((p) => ({ file: p.file, line: p.line, column: p.column, message: p.message, pointer: p.pointer })),
  };
}
