// A change that failed and was rolled back, remembered until an apply converges
// ($VOICEMODE_HOME/state/failed-NAME.json, 0600). Without it `vm watch` retried the change on every
// resync: it restarted a working LiveKit, downloaded the failed release again, saw it crash and
// rolled back, over and over. The record names the desired state that was tried only as
// HMAC-SHA256(salt, …), so it holds no secret; while the desired state is the same, the plan
// says so and the watch holds the change back (src/watch/held-back.ts). `vm apply` tries again.
//
// attemptOf, parseFailureRecord and failureNote are pure (the planner and observe use them);
// writeFailureRecord and clearFailureRecord are apply's, through the host port.

import { isSystemError } from '../errors.js';
import type { ChangeAttempt, FailureRecord, FileState, ServiceDesired, ServiceName, Step } from '../model.js';
import type { Host } from '../platform/host.js';

const FORMAT = 1;

export function parseFailureRecord(f: FileState): FailureRecord | undefined {
  if (!f.exists) return undefined;
  try {
    const j = JSON.parse(f.content) as Record<string, unknown>;
    const { service, change, failedStep, at, salt, digest } = j;
    if (j['format'] !== FORMAT || typeof service !== 'string') return undefined;
    if (typeof change !== 'string' || typeof failedStep !== 'string' || typeof at !== 'string' || typeof salt !== 'string' || typeof digest !== 'string') return undefined;
    return { service, change, failedStep, at, salt, digest };
  } catch {
    // A damaged record is no record: the worst it costs is one more try of the change.
    return undefined;
  }
}

/**
 * The change `steps` make, named for a person, with a digest of the desired state they move
 * towards; `failedBefore` when the record says this same desired state failed. Pure.
 */
export function attemptOf(
  service: ServiceName,
  d: ServiceDesired,
  /** What the desired state resolves to on this machine (LiveKit's `latest`): see ServiceKind.resolved. */
  resolved: Readonly<Record<string, unknown>> | undefined,
  failed: FailureRecord | undefined,
  steps: readonly Step[],
  hmac: (salt: string, data: string) => string,
  freshSalt: () => string,
): ChangeAttempt | undefined {
  if (steps.length === 0) return undefined;
  const install = steps.map((s) => s.effect).find((e) => e.kind === 'install-release' || e.kind === 'install-script');
  const change = install !== undefined ? install.version : `the change (${steps.filter((s) => s.resource !== 'healthy').map((s) => `${s.resource} ${s.action}`).join(', ')})`;
  // When what it resolves to changes (a newer `latest`), that is a new change.
  const salt = failed?.salt ?? freshSalt();
  const digest = hmac(salt, `desired:${canonicalJson({ desired: d, resolved: resolved ?? {} })}`);
  return { service, change, salt, digest, ...(failed !== undefined && failed.service === service && failed.digest === digest ? { failedBefore: failed } : {}) };
}

/** "1.9.2 failed its health check at 2026-12-03 14:02:11 and was rolled back; …" */
export function failureNote(r: FailureRecord): string {
  const what = r.failedStep === 'healthy wait-healthy' ? 'its health check' : `at step "${r.failedStep}"`;
  return `${r.change} failed ${what} at ${localTime(r.at)} and was rolled back; \`vm apply\` will try again`;
}

/** Written after a failed step was rolled back. Best effort: without it the watch only retries. */
export async function writeFailureRecord(host: Host, path: string, attempt: ChangeAttempt, failed: Step): Promise<void> {
  const record: FailureRecord = {
    service: attempt.service,
    change: attempt.change,
    failedStep: `${failed.resource} ${failed.action}`,
    at: new Date(host.now()).toISOString(),
    salt: attempt.salt,
    digest: attempt.digest,
  };
  try {
    await host.writeFileAtomic(path, `${JSON.stringify({ format: FORMAT, ...record }, null, 2)}\n`, 0o600, 0o700);
  } catch (e) {
    if (!isSystemError(e)) throw e;
  }
}

/** An apply converged: whatever failed before is no longer pending. */
export async function clearFailureRecord(host: Host, path: string): Promise<void> {
  try {
    await host.remove(path);
  } catch (e) {
    if (!isSystemError(e)) throw e;
  }
}

/** JSON with object keys sorted, so equal values give equal text whatever the key order. */
function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

function localTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())} ${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
}
