// When `vm watch` holds a change back: pure, over the plan's recorded failure. Only the service
// whose change failed waits; the others' steps are taken as planned.

import { describe, expect, it } from 'vitest';
import type { ChangeAttempt, FailureRecord, Step } from '../../src/model.js';
import type { Snapshot } from '../../src/reconcile.js';
import { withholding } from '../../src/plan/withhold.js';
import { heldBack, heldNames } from '../../src/watch/held-back.js';

const failed: FailureRecord = { service: 'livekit', change: '1.9.2', failedStep: 'healthy wait-healthy', at: '2026-12-03T14:02:11.000Z', salt: 's', digest: 'd1' };
const step = (service: string, action: Step['action']): Step => ({ service, resource: 'running', action, reason: `${service} ${action}`, effect: { kind: 'remove', path: `/x/${service}` } });

/** Services with their steps; `attempts` name the ones whose change was tried before. */
function snap(steps: Record<string, Step[]>, attempts: Record<string, ChangeAttempt> = {}, clients: Step[] = []): Snapshot {
  const services = Object.entries(steps).map(([name, s]) => ({ name, plan: { steps: s, blockers: [], warnings: [], notes: [] }, ...(attempts[name] === undefined ? {} : { attempt: attempts[name] }) }));
  return {
    services,
    clients: { steps: clients, blockers: [], warnings: [], notes: [] },
    plan: { steps: [...Object.values(steps).flat(), ...clients], blockers: [], warnings: [], notes: [] },
  } as unknown as Snapshot;
}

const again: ChangeAttempt = { service: 'livekit', change: '1.9.2', salt: 's', digest: 'd1', failedBefore: failed };

describe('holding back a change that failed and was rolled back', () => {
  it('holds back on resyncs, at start and on SIGHUP while the desired state is the one that failed', () => {
    const s = snap({ livekit: [step('livekit', 'restart')] }, { livekit: again });
    for (const t of ['interval', 'start', 'signal'] as const) {
      expect(heldBack(s, t)[0]?.message).toMatch(/^livekit: 1\.9\.2 failed its health check at .* and was rolled back; .*holds it back until the file/);
    }
    // The same failure, the same key: told once.
    expect(heldBack(s, 'interval')[0]?.key).toBe(heldBack(s, 'start')[0]?.key);
  });

  it('a save of the file tries again; so does any other desired state', () => {
    expect(heldBack(snap({ livekit: [] }, { livekit: again }), 'file')).toEqual([]);
    expect(heldBack(snap({ livekit: [] }, { livekit: { service: 'livekit', change: '1.9.2', salt: 's', digest: 'd2' } }), 'interval')).toEqual([]);
    expect(heldBack(snap({ livekit: [] }), 'interval')).toEqual([]);
  });

  it('only the held service waits: the others’ steps, and the client files’, are taken', () => {
    const whisperAgain: ChangeAttempt = { service: 'whisper', change: 'unit update', salt: 's', digest: 'd3', failedBefore: { ...failed, service: 'whisper', change: 'unit update', digest: 'd3' } };
    const s = snap({ livekit: [step('livekit', 'start')], whisper: [step('whisper', 'restart')], kokoro: [step('kokoro', 'start')] }, { whisper: whisperAgain }, [step('livekit', 'update')]);
    const held = heldNames(s, 'interval');
    expect([...held]).toEqual(['whisper']);
    const taken = withholding(s, held);
    expect(taken.plan.steps.map((x) => x.reason)).toEqual(['livekit start', 'kokoro start', 'livekit update']);
    expect(taken.services.map((x) => [x.name, x.plan.steps.length])).toEqual([['livekit', 1], ['whisper', 0], ['kokoro', 1]]);
    // Nothing held: the snapshot as it is.
    expect(withholding(s, new Set())).toBe(s);
  });
});
