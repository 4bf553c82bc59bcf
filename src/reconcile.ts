// observe → plan, shared by plan, apply, status and watch. Each call observes afresh:
// nothing depends on what an earlier run did.

import { createRequire } from 'node:module';
import { readAsset } from './assets.js';
import type { DesiredState, Paths, Plan } from './model.js';
import { resolvePaths } from './paths.js';
import type { Host } from './platform/host.js';
import { plan, type Observation } from './plan/plan.js';
import { observeLiveKit, observeSupervisor, type SlowAnswers, type VersionCache } from './services/livekit/observe.js';
import { serviceSpec } from './services/livekit/supervision.js';
import type { PlanContext } from './services/livekit/plan.js';

export interface Snapshot {
  readonly paths: Paths;
  readonly observed: Observation;
  readonly plan: Plan;
}

export function planContext(opts: { force?: boolean } = {}): PlanContext {
  let secret: string | undefined;
  let salt: string | undefined;
  return {
    unitTemplate: readAsset('templates/livekit.service'),
    // 32 random bytes → 43 base64url characters, above LiveKit's 32-character minimum.
    freshSecret: () => (secret ??= crypto().randomBytes(32).toString('base64url')),
    freshSalt: () => (salt ??= crypto().randomBytes(16).toString('hex')),
    hmac: (key, data) => crypto().createHmac('sha256', key).update(data).digest('hex'),
    force: opts.force === true,
  };
}

/** node:crypto, loaded only when a digest or secret is needed: it costs ~6 ms at load. */
function crypto(): typeof import('node:crypto') {
  return createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
}

export interface ObserveOptions {
  /** Kept across observations by a long-running watch: see VersionCache and SlowAnswers. */
  readonly versions?: VersionCache;
  readonly slow?: SlowAnswers;
}

export async function observe(host: Host, desired: DesiredState, paths: Paths, opts: ObserveOptions = {}): Promise<Observation> {
  const lk = desired.services.livekit;
  if (lk !== undefined) return { livekit: await observeLiveKit(host, lk, paths.livekit, desired.supervisor, opts.versions, opts.slow) };
  // Not declared: only look for what vm would have left, to say so (never to remove it).
  const p = paths.livekit;
  const candidates = [p.config, p.keyFile, p.binary, p.unitFile, p.plistFile];
  const [found, sup] = await Promise.all([
    Promise.all(candidates.map(async (f) => ((await host.stat(f)) === undefined ? undefined : f))),
    // vm's own unit (or LaunchAgent, or PID file): is the LiveKit vm started still running?
    observeSupervisor(host, desired.supervisor, (kind) => serviceSpec({ autostart: false }, p, kind, p.binary)),
  ]);
  const orphans = found.filter((f): f is string => f !== undefined);
  return { orphans, ...(sup.runtime === undefined || sup.supervisor.kind === 'unavailable' ? {} : { orphanRuntime: { supervisor: sup.supervisor, runtime: sup.runtime } }) };
}

export async function snapshot(host: Host, desired: DesiredState, ctx: PlanContext = planContext(), opts: ObserveOptions = {}): Promise<Snapshot> {
  const paths = resolvePaths(host.env, desired.services.livekit);
  const observed = await observe(host, desired, paths, opts);
  return { paths, observed, plan: plan(desired, observed, paths, ctx) };
}
