// Waits until the service answers its health check (src/resources/health.ts). livekit-server
// exits 0 after printing a config error and its supervisor then restarts it, so an exit status
// proves nothing: we also watch for the process going away, and fail fast instead of waiting out
// the timeout.
//
// An answer counts only when it is vm's own process that listens: another LiveKit on the port (an
// old Voice Mode, `brew services`) answers OK too, while ours exits with "address already in use".

import type { HealthCheck, HealthState, ServiceSpec, SupervisorKind } from '../model.js';
import type { Host } from '../platform/host.js';
import { portOwners } from '../platform/port-holder.js';
import { supervisorFor } from '../platform/supervisor.js';
import { observeHealth } from '../resources/health.js';
import { observeRedisHealth, type RedisTarget } from '../resources/redis-ping.js';

const POLL_MS = 200;

export type WaitResult =
  | { readonly ok: true; readonly ms: number }
  | { readonly ok: false; readonly why: string; readonly interrupted?: true };

/** `signal` cuts the wait short (Ctrl-C during apply): it then ends as not healthy, interrupted. */
export async function waitHealthy(host: Host, url: string, check: HealthCheck, kind: SupervisorKind, svc: ServiceSpec, timeoutMs: number, signal?: AbortSignal, resp?: RedisTarget): Promise<WaitResult> {
  const supervisor = await supervisorFor(kind);
  const start = host.now();
  const cut = (): WaitResult => ({ ok: false, why: `the health wait was cut short after ${((host.now() - start) / 1000).toFixed(1)}s`, interrupted: true });
  let last: HealthState;
  for (;;) {
    if (signal?.aborted === true) return cut();
    last = check.protocol === 'resp' && resp !== undefined ? await observeRedisHealth(host, resp, Math.min(1_000, timeoutMs)) : await observeHealth(host, url, check, Math.min(1_000, timeoutMs));
    const rt = await supervisor.observe(host, svc).catch(() => undefined);
    const title = svc.title ?? svc.name;
    if (rt !== undefined && !rt.running) return { ok: false, why: `${title} exited while starting (${rt.state})${last.kind === 'healthy' ? `; ${check.protocol === 'resp' ? url : `GET ${url}`} was answered by another process` : ''}` };
    if (last.kind === 'healthy') {
      // Unknown supervisor state (rt undefined): nothing to compare with, take the answer as before.
      const foreign = rt === undefined ? undefined : await answeredByOther(host, url, rt.pid);
      if (foreign !== undefined) return { ok: false, why: `GET ${url} was answered by ${foreign}, not by vm's ${title} (pid ${rt?.pid}): stop that process or choose another port` };
      return { ok: true, ms: host.now() - start };
    }
    if (host.now() - start >= timeoutMs) {
      const seen = last.kind === 'starting' ? `still answering ${last.status} (not ready)` : last.kind === 'foreign' ? `answered by pid ${last.pid}` : last.detail;
      return { ok: false, why: `not healthy within ${timeoutMs / 1000}s: ${seen}` };
    }
    await abortableSleep(host, POLL_MS, signal);
  }
}

function abortableSleep(host: Host, ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return host.sleep(ms);
  return new Promise((resolve) => {
    const done = () => {
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
    void host.sleep(ms).then(done);
  });
}

/** "pid N (command)" when the listener behind `url` is not `pid` or a child of it. */
async function answeredByOther(host: Host, url: string, pid: number): Promise<string | undefined> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const [owner] = (await portOwners(host, [{ port, addresses: [u.hostname.replace(/^\[|\]$/g, '')] }], pid)) ?? [];
  if (owner?.kind !== 'foreign') return undefined;
  return owner.pid > 0 ? `pid ${owner.pid} (${owner.command})` : owner.command;
}
