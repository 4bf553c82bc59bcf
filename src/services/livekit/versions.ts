// Release versions: resolving `latest`, and which installed versions to keep.

import type { Host } from '../../platform/host.js';

/**
 * `{base_url}/latest` redirects to `.../tag/vX.Y.Z` (GitHub's own behaviour): no API token and
 * no rate limit. One request, redirect not followed.
 */
export async function resolveLatest(host: Host, baseUrl: string): Promise<{ ok: true; version: string } | { ok: false; why: string }> {
  const url = `${baseUrl.replace(/\/+$/, '')}/latest`;
  const r = await host.httpGet(url, 10_000);
  if (!r.ok) return { ok: false, why: `GET ${url}: ${r.error}` };
  const m = /\/tag\/v?(\d+\.\d+\.\d+)\/?$/.exec(r.location ?? '');
  if (r.status < 300 || r.status >= 400 || m?.[1] === undefined) {
    return { ok: false, why: `GET ${url} answered ${r.status}${r.location === undefined ? '' : ` → ${r.location}`}, not a redirect to …/tag/vX.Y.Z` };
  }
  return { ok: true, version: m[1] };
}

/** After a successful upgrade: everything but the active and the previous version goes. */
export function versionsToRemove(installed: readonly string[], keep: readonly (string | undefined)[]): string[] {
  return installed.filter((v) => !keep.includes(v));
}
