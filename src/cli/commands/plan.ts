import { planToJson } from '../../plan/plan.js';
import { planContext, snapshot } from '../../reconcile.js';
import { describeSource, loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';
import { renderPlan } from '../render-plan.js';

export async function planCommand(io: CliIo, o: { file?: string; json?: boolean; detailedExitcode?: boolean; force?: boolean }): Promise<number> {
  const { desired, host } = await loadContext(io, o.file);
  const snap = await snapshot(host, desired, planContext({ force: o.force === true }));
  if (o.json === true) io.stdout.write(`${JSON.stringify(planToJson(snap.plan))}\n`);
  else io.stdout.write(await renderPlan(snap, describeSource(desired), io.hint));
  if (snap.plan.blockers.length > 0) return EXIT.error;
  return o.detailedExitcode === true && snap.plan.steps.length > 0 ? EXIT.changes : EXIT.ok;
}
