// `vm env` on a healthy local LiveKit, timed against `node -e 0` and `vm plan` in the same run
// (it is meant for shell start files: `eval "$(vm env)"`; target ≤ 1.1× `vm plan`). Runs are
// interleaved (these machines are noisy); medians, and the median of per-round ratios.
//
// Run: npm run bench (or `npx vitest run --config bench/vitest.config.ts bench/env.ts` after a build).

import { it } from 'vitest';
import { median, medianOfRatios, processLiveKit, ROUNDS, rounds, timed, VM } from './lib.js';

it('vm env against node -e 0 and vm plan', async () => {
  const { env, cleanup } = await processLiveKit();
  try {
    for (let i = 0; i < 3; i++) timed([VM, 'env'], env); // warm the page cache
    const t = await rounds({ node: () => timed(['-e', '0'], env), plan: () => timed([VM, 'plan'], env), env: () => timed([VM, 'env'], env) });
    const f = (x: number) => x.toFixed(1);
    console.log(`vm env bench (${ROUNDS} rounds): node -e 0 ${f(median(t.node))} ms, vm plan ${f(median(t.plan))} ms, vm env ${f(median(t.env))} ms; vm env / vm plan median ratio ${medianOfRatios(t.env, t.plan).toFixed(2)} (target ≤ 1.10); vm env − node ${f(median(t.env) - median(t.node))} ms`);
  } finally {
    await cleanup();
  }
});
