// The whole plan: every declared service, in a stable order. Pure.

import { attemptOf, failureNote } from '../apply/failure-record.js';
import type { DesiredState, LiveKitObserved, Paths, Plan, PlanJson } from '../model.js';
import { planLiveKit, type PlanContext } from '../services/livekit/plan.js';
import { specWarnings } from '../spec/exposure.js';

export interface Observation {
  readonly livekit?: LiveKitObserved;
  /** vm's LiveKit files found on disk while the file declares no LiveKit. */
  readonly orphans?: readonly string[];
}

export function plan(desired: DesiredState, observed: Observation, paths: Paths, ctx: PlanContext): Plan {
  const notes: string[] = [];
  if (desired.source.kind === 'default') {
    notes.push('no voicemode.services.yaml found: using the built-in default (LiveKit on 127.0.0.1 with a generated key); `vm init` writes it as a file');
  }
  const lk = desired.services.livekit;
  if (lk === undefined || observed.livekit === undefined) {
    const orphans = observed.orphans ?? [];
    // Deleting by omission is how people lose data: a service dropped from the file is left alone.
    if (orphans.length > 0) {
      notes.push(
        `livekit is not in the file, but vm's files for it are still here (${orphans.join(', ')}); vm leaves them alone. ` +
          'To remove LiveKit, declare it with `state: absent` and run `vm apply`.',
      );
    } else notes.push('no services declared: nothing to manage');
    return { steps: [], blockers: [], warnings: [], notes };
  }
  const p = planLiveKit(lk, observed.livekit, paths.livekit, ctx);
  // Named here, so apply can record it if it fails and is rolled back; the note while it stays so.
  const attempt = attemptOf('livekit', lk, observed.livekit, p.steps, ctx.hmac, ctx.freshSalt);
  if (attempt?.failedBefore !== undefined) notes.push(failureNote(attempt.failedBefore));
  return {
    supervisor: observed.livekit.supervisor,
    steps: p.steps,
    blockers: p.blockers,
    warnings: [...specWarnings(desired), ...p.warnings],
    notes: [...notes, ...p.notes],
    ...(attempt === undefined ? {} : { attempt }),
  };
}

/** The public JSON shape; the same data the human renderer draws, without effects or secrets. */
export function planToJson(p: Plan): PlanJson {
  return {
    format_version: '1',
    changes: p.steps.length > 0,
    ...(p.supervisor === undefined ? {} : { supervisor: { kind: p.supervisor.kind, why: p.supervisor.why } }),
    steps: p.steps.map((s) => ({ service: s.service, resource: s.resource, action: s.action, reason: s.reason })),
    blockers: p.blockers,
    warnings: p.warnings,
    notes: p.notes,
  };
}
