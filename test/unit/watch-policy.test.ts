// When vm watch tries a failing change again: plain objects, no clock.

import { describe, expect, it } from 'vitest';
import { backoffMs, mayAttempt, recordFailure, type RetryPolicy } from '../../src/watch/policy.js';

const p: RetryPolicy = { baseMs: 1_000, capMs: 8_000, maxFailures: 5 };

describe('retrying a failing change', () => {
  it('backs off exponentially, capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, p))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('waits before the next attempt, then allows it', () => {
    const m = recordFailure(undefined, 'livekit.healthy.wait-healthy', 100, p);
    expect(mayAttempt(m, 100)).toBe(false);
    expect(mayAttempt(m, 1_099)).toBe(false);
    expect(mayAttempt(m, 1_100)).toBe(true);
  });

  it('gives up after maxFailures of the same step, and stays given up', () => {
    let m = recordFailure(undefined, 'k', 0, p);
    for (let i = 2; i <= 5; i++) m = recordFailure(m, 'k', 0, p);
    expect(m.count).toBe(5);
    expect(m.gaveUp).toBe(true);
    expect(mayAttempt(m, 10 ** 12)).toBe(false);
  });

  it('a different step failing starts counting again', () => {
    const m = recordFailure(recordFailure(undefined, 'a', 0, p), 'b', 0, p);
    expect(m).toMatchObject({ key: 'b', count: 1, gaveUp: false });
  });

  it('nothing failed: always allowed', () => {
    expect(mayAttempt(undefined, 0)).toBe(true);
  });
});
