// Reading a health answer. Two checks, named in every wait-healthy step:
//   livekit  `GET /` → `200` with body `OK`; `406` while its node stats are stale (right after
//            start). livekit-server has no /health endpoint (FACTS.md).
//   http     any local HTTP service's health path: 2xx is healthy; 503 means still starting
//            (whisper-server answers 503 while it loads its model); anything else is not.
//   redis    `PING` → `PONG` over RESP (with AUTH): src/resources/redis-ping.ts.

import type { HealthCheck, HealthState } from '../model.js';
import type { Host, HttpResult } from '../platform/host.js';

export function classifyHealth(check: HealthCheck, r: HttpResult): HealthState {
  if (!r.ok) return { kind: 'unhealthy', detail: r.error };
  switch (check) {
    case 'livekit':
      if (r.status === 200 && r.body.trim() === 'OK') return { kind: 'healthy' };
      if (r.status === 406) return { kind: 'starting', status: 406 };
      return { kind: 'unhealthy', detail: `GET / answered ${r.status}` };
    case 'http':
      if (r.status >= 200 && r.status < 300) return { kind: 'healthy' };
      if (r.status === 503) return { kind: 'starting', status: 503 };
      return { kind: 'unhealthy', detail: `answered ${r.status}` };
    case 'redis':
      // Not HTTP: redis-ping.ts asks PING → PONG. An HTTP answer there is not a Redis.
      return { kind: 'unhealthy', detail: 'an HTTP server answered where Redis was expected' };
  }
}

export async function observeHealth(host: Host, url: string, check: HealthCheck, timeoutMs = 1_000): Promise<HealthState> {
  return classifyHealth(check, await host.httpGet(url, timeoutMs));
}

/** How `vm status` says it: "yes", "starting (GET / → 406)", "no (connection refused)". */
export function describeHealth(h: HealthState, request: string, title: string): string {
  switch (h.kind) {
    case 'healthy':
      return 'yes';
    case 'starting':
      return `starting (${request} → ${h.status})`;
    case 'unhealthy':
      return `no (${h.detail})`;
    // Another server answers too: never "yes" for an answer that is not vm's own service's.
    case 'foreign':
      return `no (the port is held by ${h.pid > 0 ? `pid ${h.pid} (${h.command})` : h.command}, not by vm's ${title})`;
  }
}
