// When `vm watch` holds a change back: pure, over the plan's recorded failure.

import { describe, expect, it } from 'vitest';
import type { ChangeAttempt, FailureRecord } from '../../src/model.js';
import type { Snapshot } from '../../src/reconcile.js';
import { heldBack } from '../../src/watch/held-back.js';

const failed: FailureRecord = { service: 'livekit', change: '1.9.2', failedStep: 'healthy wait-healthy', at: '2026-12-03T14:02:11.000Z', salt: 's', digest: 'd1' };
const snap = (attempt: ChangeAttempt | undefined): Snapshot =>
  ({
    services: [{ name: 'livekit', ...(attempt === undefined ? {} : { attempt }) }],
    plan: { steps: [], blockers: [], warnings: [], notes: [] },
  }) as unknown as Snapshot;

describe('holding back a change that failed and was rolled back', () => {
  it('holds back on resyncs, at start and on SIGHUP while the desired state is the one that failed', () => {
    const s = snap({ service: 'livekit', change: '1.9.2', salt: 's', digest: 'd1', failedBefore: failed });
    for (const t of ['interval', 'start', 'signal'] as const) {
      expect(heldBack(s, t)?.message).toMatch(/^livekit: 1\.9\.2 failed its health check at .* and was rolled back; .*holds it back until the file/);
    }
    // The same failure, the same key: told once.
    expect(heldBack(s, 'interval')?.key).toBe(heldBack(s, 'start')?.key);
  });

  it('a save of the file tries again; so does any other desired state', () => {
    expect(heldBack(snap({ service: 'livekit', change: '1.9.2', salt: 's', digest: 'd1', failedBefore: failed }), 'file')).toBeUndefined();
    expect(heldBack(snap({ service: 'livekit', change: '1.9.2', salt: 's', digest: 'd2' }), 'interval')).toBeUndefined();
    expect(heldBack(snap(undefined), 'interval')).toBeUndefined();
  });
});
