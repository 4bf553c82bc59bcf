// When a failing change is tried again. Pure. Failures back off exponentially (capped); after
// `maxFailures` consecutive failures of the same step the watcher gives up on that change until
// the file is edited again — so a crash-looping LiveKit is never restarted in a tight loop.

export interface RetryPolicy {
  readonly baseMs: number;
  readonly capMs: number;
  readonly maxFailures: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 2_000, capMs: 5 * 60_000, maxFailures: 5 };

export interface FailureMemo {
  /** Which step keeps failing, e.g. `livekit.healthy.wait-healthy`. */
  readonly key: string;
  readonly count: number;
  readonly nextAttemptAt: number;
  readonly gaveUp: boolean;
}

export function recordFailure(prev: FailureMemo | undefined, key: string, now: number, p: RetryPolicy): FailureMemo {
  const count = prev?.key === key ? prev.count + 1 : 1;
  return { key, count, nextAttemptAt: now + backoffMs(count, p), gaveUp: count >= p.maxFailures };
}

export function backoffMs(failures: number, p: RetryPolicy): number {
  return Math.min(p.baseMs * 2 ** Math.max(0, failures - 1), p.capMs);
}

export function mayAttempt(memo: FailureMemo | undefined, now: number): boolean {
  return memo === undefined || (!memo.gaveUp && now >= memo.nextAttemptAt);
}
