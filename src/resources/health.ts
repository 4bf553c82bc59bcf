// Reading a health answer, for the check a kind chooses (HealthCheck):
//   http  `GET url`: 2xx is healthy, or only 200 with exactly the kind's body (livekit-server
//         answers `GET /` with `OK` and has no /health endpoint: FACTS.md); the kind's
//         `starting` status means not ready yet (LiveKit's 406 while its node stats are stale,
//         whisper-server's 503 while it loads its model); anything else is not healthy.
//   resp  `PING` → `PONG` over RESP (with AUTH): src/resources/redis-ping.ts.

import type { HealthCheck, HealthState } from '../model.js';
import type { Host, HttpResult } from '../platform/host.js';

export function classifyHealth(check: HealthCheck, url: string, r: HttpResult): HealthState {
  if (!r.ok) return { kind: 'unhealthy', detail: r.error };
  // Not HTTP: redis-ping.ts asks PING → PONG. An HTTP answer there is not a Redis.
  if (check.protocol === 'resp') return { kind: 'unhealthy', detail: 'an HTTP server answered where Redis was expected' };
  const healthy = check.body === undefined ? r.status >= 200 && r.status < 300 : r.status === 200 && r.body.trim() === check.body;
  if (healthy) return { kind: 'healthy' };
  if (r.status === check.starting) return { kind: 'starting', status: r.status };
  return { kind: 'unhealthy', detail: `GET ${new URL(url).pathname} answered ${r.status}` };
}

export async function observeHealth(host: Host, url: string, check: HealthCheck, timeoutMs = 1_000): Promise<HealthState> {
  return classifyHealth(check, url, await host.httpGet(url, timeoutMs));
}

/** What a wait for health asks, for the plan's reason: "GET http://…/ answers 200 OK". */
export function describeCheck(check: HealthCheck, url: string): string {
  if (check.protocol === 'resp') return `${url} answers PING with PONG`;
  return `GET ${url} answers ${check.body === undefined ? '2xx' : `200 ${check.body}`}`;
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
