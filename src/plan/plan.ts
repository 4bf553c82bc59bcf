// The whole plan: every declared service, in a stable order. Pure.

import type { DesiredState, LiveKitObserved, Paths, Plan, PlanJson } from '../model.js';
import { planLiveKit, type PlanContext } from '../services/livekit/plan.js';

export interface Observation {
  readonly livekit?: LiveKitObserved;
}

export function plan(desired: DesiredState, observed: Observation, paths: Paths, ctx: PlanContext): Plan {
  const notes: string[] = [];
  if (desired.source.kind === 'default') {
    notes.push('no voicemode.services.yaml found: using the built-in default (LiveKit on 127.0.0.1 with a generated key); `vm init` writes it as a file');
  }
  const lk = desired.services.livekit;
  if (lk === undefined || observed.livekit === undefined) {
    notes.push('no services declared: nothing to manage');
    return { steps: [], blockers: [], warnings: [], notes };
  }
  const p = planLiveKit(lk, observed.livekit, paths.livekit, ctx);
  return { steps: p.steps, blockers: p.blockers, warnings: p.warnings, notes };
}

/** The public JSON shape; the same data the human renderer draws, without effects or secrets. */
export function planToJson(p: Plan): PlanJson {
  return {
    format_version: '1',
    changes: p.steps.length > 0,
    steps: p.steps.map((s) => ({ service: s.service, resource: s.resource, action: s.action, reason: s.reason })),
    blockers: p.blockers,
    warnings: p.warnings,
  };
}
