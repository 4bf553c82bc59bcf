// What the benchmarks share: the file they converge, how a process is timed, the rounds and the
// figures drawn from them. Every figure is printed beside a baseline timed in the same rounds:
// these machines are shared and noisy, so compare ratios across runs, never milliseconds.

import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { freePorts } from '../test/helpers/ports.js';
import { writeStandin } from '../test/helpers/standin.js';
import { type HomeEnv, tempHome } from '../test/helpers/systemd.js';
import { ROOT, runVm } from '../test/helpers/vm.js';

export const ROUNDS = Number(process.env['BENCH_PAIRS'] ?? 20);
export const VM = `${ROOT}bin/vm.cjs`;

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** median(a) / median(b), to two places. */
export const ratioOfMedians = (a: number[], b: number[]) => +(median(a) / median(b)).toFixed(2);

/** The median of the per-round ratios a[i] / b[i], to two places: a slow stretch hits both sides. */
export const medianOfRatios = (a: number[], b: number[]) => +median(a.map((x, i) => x / (b[i] as number))).toFixed(2);

/** Milliseconds one `node ...args` takes from spawn to exit; throws unless it exits 0. */
export function timed(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

/**
 * Takes every sample once a round, in the order given, for ROUNDS rounds, and returns each one's
 * times. With `rotate`, odd rounds take the first sample last, so that the baseline is not always
 * the one timed right after the previous round.
 */
export async function rounds<K extends string>(samples: Record<K, () => number | Promise<number>>, opts: { rotate?: boolean } = {}): Promise<Record<K, number[]>> {
  const keys = Object.keys(samples) as K[];
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < ROUNDS; i++) {
    const order = opts.rotate === true && i % 2 === 1 ? [...keys.slice(1), ...keys.slice(0, 1)] : keys;
    for (const k of order) times[k].push(await samples[k]());
  }
  return times;
}

/** A one-LiveKit file on two free ports. */
export async function writeLiveKitSpec(file: string, o: { install: string; version?: string; supervisor?: 'process' }): Promise<void> {
  const [port, tcp] = (await freePorts(2)) as [number, number];
  const top = o.supervisor === undefined ? [] : [`supervisor: ${o.supervisor}`];
  const pin = o.version === undefined ? [] : [`    version: ${o.version}`];
  const lines = ['version: 1', ...top, 'services:', '  livekit:', ...pin, `    install: ${o.install}`, `    port: ${port}`, `    rtc: { tcp_port: ${tcp} }`];
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${lines.join('\n')}\n`);
}

/** Only PATH, the temp HOME and XDG_* and the file: nothing of this machine's own environment. */
export const cleanEnv = (home: HomeEnv, spec: string): Record<string, string> => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...home, VOICEMODE_SERVICES_FILE: spec });

/** `vm apply --yes`: a benchmark of a machine that did not converge would time something else. */
export async function converge(env: Record<string, string>): Promise<void> {
  const applied = await runVm(['apply', '--yes'], env);
  if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
}

/**
 * A LiveKit stand-in under the process supervisor in a temp HOME (no user manager), converged.
 * `cleanup` stops what the HOME started and removes it.
 */
export async function processLiveKit(): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const home = await tempHome();
  try {
    const bin = `${home.env.HOME}/bin/livekit-server`;
    await writeStandin(bin, { version: '1.9.0', readyAfterMs: 200 });
    const spec = `${home.env.HOME}/voicemode.services.yaml`;
    await writeLiveKitSpec(spec, { supervisor: 'process', install: `{ method: path, path: "${bin}" }` });
    const env = cleanEnv(home.env, spec);
    await converge(env);
    return { env, cleanup: () => home.cleanup() };
  } catch (e) {
    await home.cleanup();
    throw e;
  }
}
