// `vm status`'s client lines for every service that has clients (LiveKit): the URL and key name a
// client gets, whether the room API accepts the key, whether a one-minute token passes the
// server's token check, and whether the declared fallback answers. Network checks: only `vm
// status` runs them (`vm plan` stays as fast as it is). Never a secret in any of it.

import type { Host } from '../platform/host.js';
import type { Snapshot } from '../reconcile.js';
import type { ClientAccess, Credentials } from '../services/client-access.js';
import { kindOf } from '../services/registry.js';
import { FALLBACK_CHECK_MS } from './connection.js';

const CHECK_MS = 3_000;

export interface ClientStatus {
  readonly json: { readonly api: Readonly<Record<string, unknown>>; readonly fallback: Readonly<Record<string, unknown>> | null };
  readonly lines: readonly string[];
}

export async function clientStatus(host: Host, snap: Snapshot): Promise<ReadonlyMap<string, ClientStatus>> {
  const out = new Map<string, ClientStatus>();
  await Promise.all(
    snap.services.map(async (s) => {
      const access = kindOf(s.desired).clients as ClientAccess<unknown, unknown> | undefined;
      if (access === undefined || s.desired.state === 'absent') return;
      out.set(s.name, await one(host, access, s.desired, s.paths, s.observed.health.kind === 'healthy'));
    }),
  );
  return out;
}

async function one(host: Host, access: ClientAccess<unknown, unknown>, d: unknown, paths: unknown, healthy: boolean): Promise<ClientStatus> {
  const local = await access.local(host, d, paths);
  const url = local.ok ? local.creds.url : local.url;
  const apiKey = local.ok ? local.creds.apiKey : local.apiKey;
  const fb = access.fallback(d);
  const [api, token, fallback] = await Promise.all([
    local.ok && healthy ? access.checkApi(local.creds, CHECK_MS) : undefined,
    local.ok && healthy ? access.checkToken(host, local.creds, CHECK_MS) : undefined,
    fb !== undefined && fb.apiSecret.ok ? access.probe(host, { url: fb.url, apiKey: fb.apiKey, apiSecret: fb.apiSecret.value } satisfies Credentials, FALLBACK_CHECK_MS) : undefined,
  ]);
  const notChecked = !local.ok ? `not checked: ${local.why}` : 'not checked (not healthy)';
  const apiLine = api === undefined ? notChecked : api.ok ? api.detail : api.why;
  const tokenLine = token === undefined ? notChecked : token.ok ? 'accepted' : token.why;
  const lines = [`  client   ${url}  key ${apiKey}`, `  api      ${apiLine}`, `  token    ${tokenLine}`];
  let fbJson: Record<string, unknown> | null = null;
  if (fb !== undefined) {
    const answer = !fb.apiSecret.ok ? `secret unavailable: ${fb.apiSecret.message}` : fallback === undefined ? 'not checked' : fallback.ok ? `answers (${fallback.detail})` : `does not answer: ${fallback.why}`;
    lines.push(`  fallback ${fb.url}  key ${fb.apiKey}: ${answer}`);
    fbJson = { url: fb.url, api_key: fb.apiKey, answers: fallback === undefined ? null : fallback.ok, detail: !fb.apiSecret.ok ? fb.apiSecret.message : fallback === undefined ? null : fallback.ok ? fallback.detail : fallback.why };
  }
  return {
    json: {
      api: {
        url,
        api_key: apiKey,
        keys: api === undefined ? 'not checked' : api.ok ? 'accepted' : 'refused',
        rooms: api?.ok === true ? (api.rooms ?? null) : null,
        detail: apiLine,
        token: token === undefined ? 'not checked' : token.ok ? 'accepted' : 'refused',
        token_detail: tokenLine,
      },
      fallback: fbJson,
    },
    lines,
  };
}
