// observe → plan, shared by plan, apply, status and (later) watch. Each call observes afresh:
// nothing depends on what an earlier run did.

import { randomBytes } from 'node:crypto';
import { readAsset } from './assets.js';
import type { DesiredState, Paths, Plan } from './model.js';
import { resolvePaths } from './paths.js';
import type { Host } from './platform/host.js';
import { plan, type Observation } from './plan/plan.js';
import { observeLiveKit } from './services/livekit/observe.js';
import type { PlanContext } from './services/livekit/plan.js';

export interface Snapshot {
  readonly paths: Paths;
  readonly observed: Observation;
  readonly plan: Plan;
}

export function planContext(): PlanContext {
  return {
    unitTemplate: readAsset('templates/livekit.service'),
    // 32 random bytes → 43 base64url characters, above LiveKit's 32-character minimum.
    freshSecret: randomBytes(32).toString('base64url'),
  };
}

export async function observe(host: Host, desired: DesiredState, paths: Paths): Promise<Observation> {
  const lk = desired.services.livekit;
  return lk === undefined ? {} : { livekit: await observeLiveKit(host, lk, paths.livekit) };
}

export async function snapshot(host: Host, desired: DesiredState, ctx: PlanContext = planContext()): Promise<Snapshot> {
  const paths = resolvePaths(host.env, desired.services.livekit);
  const observed = await observe(host, desired, paths);
  return { paths, observed, plan: plan(desired, observed, paths, ctx) };
}
