// Waits until LiveKit answers `GET /` with 200 OK. livekit-server exits 0 after printing a config
// error and systemd then restarts it (Restart=always), so the unit's exit status proves nothing:
// we watch for the process going away too, and fail fast instead of waiting out the timeout.

import type { HealthState } from '../model.js';
import type { Host } from '../platform/host.js';
import { showUnit } from '../platform/systemd.js';
import { observeHealth } from '../services/livekit/observe.js';

const POLL_MS = 200;

export type WaitResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly why: string };

export async function waitHealthy(host: Host, url: string, unit: string, timeoutMs: number): Promise<WaitResult> {
  const start = host.now();
  let last: HealthState = { kind: 'unhealthy', detail: 'not asked yet' };
  for (;;) {
    last = await observeHealth(host, url, Math.min(1_000, timeoutMs));
    if (last.kind === 'healthy') return { ok: true, ms: host.now() - start };
    const show = await showUnit(host, unit);
    if (show.ok && !(show.unit.activeState === 'active' && show.unit.mainPid > 0)) {
      const u = show.unit;
      return { ok: false, why: `LiveKit exited while starting (unit ${u.activeState}/${u.subState})` };
    }
    if (host.now() - start >= timeoutMs) {
      const seen = last.kind === 'starting' ? `still answering ${last.status} (not ready)` : last.detail;
      return { ok: false, why: `not healthy within ${timeoutMs / 1000}s: ${seen}` };
    }
    await host.sleep(POLL_MS);
  }
}
