// `vm plan` on a converged machine, timed against a bare `node -e 0` in the same run.
// Runs are paired and alternated (these machines are noisy), and we report medians and the
// median of the per-pair ratios. Peak RSS is read from /proc/self/status (VmHWM) at exit, in
// separate runs so the measurement does not slow the timed ones.
//
// Run: npm run bench   (vitest runs this file with bench/vitest.config.ts; it needs root for the
// private systemd user manager, like the tests). It prints figures; it asserts no target.

import { spawnSync } from 'node:child_process';
import { it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReleaseServer } from '../test/helpers/release-server.js';
import { standinScript } from '../test/helpers/standin.js';
import { startUserManager } from '../test/helpers/systemd.js';
import { ROOT } from '../test/helpers/vm.js';
import { cleanEnv, converge, median, medianOfRatios, ratioOfMedians, ROUNDS, rounds, timed, VM, writeLiveKitSpec } from './lib.js';

const RSS_RUNS = 5;

function peakRssMiB(args: string[], env: NodeJS.ProcessEnv): number {
  // bench/peak-rss.cjs prints the process's VmHWM (peak resident set) to stderr at exit.
  const r = spawnSync(process.execPath, ['--require', `${ROOT}bench/peak-rss.cjs`, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const m = /VMHWM (\d+)/.exec(r.stderr.toString());
  if (m?.[1] === undefined) throw new Error(`no peak RSS reported: ${r.stderr.toString()}`);
  return Number(m[1]) / 1024;
}

async function main(): Promise<void> {
  const um = await startUserManager();
  const rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
  let relOpen = true;
  try {
    const spec = `${um.env.HOME}/dotfiles/voicemode.services.yaml`;
    await writeLiveKitSpec(spec, { version: '1.9.0', install: `{ base_url: "${rel.baseUrl}" }` });
    // Two environments, each with its own baseline: a clean one, and this machine's own (which
    // may carry NODE_EXTRA_CA_CERTS: node then reads a CA bundle at every start, ~50 ms here).
    const clean = cleanEnv(um.env, spec);
    const machine: NodeJS.ProcessEnv = { ...process.env, ...clean };
    const env = clean;
    const vm = [VM, 'plan', '--detailed-exitcode'];
    await converge(env); // async: the release server answers from this process's event loop
    await rel.close(); // the timed runs touch no network
    relOpen = false;
    timed(vm, env); // converged: exit 0 (detailed-exitcode would make pending changes exit 2)
    const floor = await buildFloor(env);
    timed(floor, env); // exit 0 only when it saw LiveKit active and healthy
    const results = {
      clean: await measure(vm, clean, floor),
      machine: { NODE_EXTRA_CA_CERTS: machine['NODE_EXTRA_CA_CERTS'] !== undefined, ...(await measure(vm, machine, floor)) },
    };
    process.stdout.write(`${JSON.stringify({ pairs: ROUNDS, targets: { ratio: '<= 1.6', rss_mib: '<= 60' }, ...results }, null, 2)}\n`);
  } finally {
    spawnSync('systemctl', ['--user', 'stop', 'voicemode-livekit.service'], { env: { PATH: process.env['PATH'], ...um.env } });
    await um.stop();
    if (relOpen) await rel.close();
  }
}

async function measure(vm: string[], env: NodeJS.ProcessEnv, floor: string[]) {
  timed(['-e', '0'], env);
  // Rotated: `node -e 0` is timed first in even rounds and last in odd ones.
  const t = await rounds({ base: () => timed(['-e', '0'], env), plan: () => timed(vm, env), floor: () => timed(floor, env) }, { rotate: true });
  const rssPlan = median(Array.from({ length: RSS_RUNS }, () => peakRssMiB(vm, env)));
  const rssBase = median(Array.from({ length: RSS_RUNS }, () => peakRssMiB(['-e', '0'], env)));
  return {
    node_e0_median_ms: +median(t.base).toFixed(1),
    vm_plan_median_ms: +median(t.plan).toFixed(1),
    ratio_of_medians: ratioOfMedians(t.plan, t.base),
    // The least any implementation of a no-op plan with yaml + ajv + a real health check does
    // (bench/floor-entry.ts, bundled and code-cached like vm): what 1.6× must be compared with.
    floor_median_ms: +median(t.floor).toFixed(1),
    floor_ratio: ratioOfMedians(t.floor, t.base),
    median_of_pair_ratios: medianOfRatios(t.plan, t.base),
    peak_rss_mib: { vm_plan: +rssPlan.toFixed(1), node_e0: +rssBase.toFixed(1) },
  };
}

/**
 * Bundles bench/floor-entry.ts like dist/vm.cjs (same esbuild options, a build id, a code cache
 * written after one run) into a temp dir, and returns the node arguments that run it through
 * bin/vm.cjs's own loader.
 */
async function buildFloor(env: NodeJS.ProcessEnv): Promise<string[]> {
  const { build, stop } = await import('esbuild');
  const { bundleOptions, appendBuildId } = (await import(`${ROOT}scripts/bundle.mjs`)) as {
    bundleOptions: (root: string) => Parameters<typeof build>[0];
    appendBuildId: (path: string) => void;
  };
  const dir = mkdtempSync(join(tmpdir(), 'vm-floor-'));
  floorDirs.push(dir);
  const bundle = join(dir, 'vm.cjs');
  await build({ ...bundleOptions(ROOT), entryPoints: [`${ROOT}bench/floor-entry.ts`], outfile: bundle });
  await stop(); // esbuild's service process: the bench leaves no process behind
  appendBuildId(bundle);
  const runner = join(dir, 'run.cjs');
  writeFileSync(
    runner,
    [
      `const l = require(${JSON.stringify(`${ROOT}bin/vm.cjs`)}).loadCli({ dist: ${JSON.stringify(dir)}, useCache: !process.env.FLOOR_WARM });`,
      'l.cli.main().then((code) => {',
      '  process.exitCode = code;',
      '  if (process.env.FLOOR_WARM) l.saveCache();',
      '});',
    ].join('\n'),
  );
  timed([runner], { ...env, FLOOR_WARM: '1' });
  return [runner];
}

const floorDirs: string[] = [];

it('vm plan on a converged machine, against node -e 0', async () => {
  try {
    await main();
  } finally {
    for (const d of floorDirs) rmSync(d, { recursive: true, force: true });
  }
}, 300_000);
