// `vm env` on a healthy local LiveKit, timed against `node -e 0` and `vm plan` in the same run
// (it is meant for shell start files: `eval "$(vm env)"`; target ≤ 1.1× `vm plan`). Runs are
// interleaved (these machines are noisy); medians, and the median of per-round ratios.
//
// Run: npm run bench (or `npx vitest run --config bench/vitest.config.ts bench/env.ts` after a build).

import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { it } from 'vitest';
import { freePorts } from '../test/helpers/ports.js';
import { writeStandin } from '../test/helpers/standin.js';
import { tempHome } from '../test/helpers/systemd.js';
import { ROOT, runVm } from '../test/helpers/vm.js';

const ROUNDS = Number(process.env['BENCH_PAIRS'] ?? 20);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

it('vm env against node -e 0 and vm plan', async () => {
  const home = await tempHome();
  try {
    const [port, tcp] = (await freePorts(2)) as [number, number];
    const bin = `${home.env.HOME}/bin/livekit-server`;
    await writeStandin(bin, { version: '1.9.0', readyAfterMs: 200 });
    const spec = `${home.env.HOME}/voicemode.services.yaml`;
    await writeFile(spec, `version: 1\nsupervisor: process\nservices:\n  livekit:\n    install: { method: path, path: "${bin}" }\n    port: ${port}\n    rtc: { tcp_port: ${tcp} }\n`);
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], ...home.env, VOICEMODE_SERVICES_FILE: spec };
    const applied = await runVm(['apply', '--yes'], env as Record<string, string>);
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
    const vm = `${ROOT}bin/vm.cjs`;
    for (let i = 0; i < 3; i++) timed([vm, 'env'], env); // warm the page cache
    const node: number[] = [];
    const plan: number[] = [];
    const envMs: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      node.push(timed(['-e', '0'], env));
      const p = timed([vm, 'plan'], env);
      const e = timed([vm, 'env'], env);
      plan.push(p);
      envMs.push(e);
      ratios.push(e / p);
    }
    const f = (x: number) => x.toFixed(1);
    console.log(`vm env bench (${ROUNDS} rounds): node -e 0 ${f(median(node))} ms, vm plan ${f(median(plan))} ms, vm env ${f(median(envMs))} ms; vm env / vm plan median ratio ${median(ratios).toFixed(2)} (target ≤ 1.10); vm env − node ${f(median(envMs) - median(node))} ms`);
  } finally {
    await home.cleanup();
  }
});
