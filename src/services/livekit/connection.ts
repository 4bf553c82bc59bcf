// What LiveKit's clients connect with: the local server's URL, API key and secret (or the
// fallback's), tokens minted from them, and the checks that prove them (room API, /rtc/validate).
// livekit-server-sdk is loaded only here and only when a token or the room API is needed: `vm
// plan` and `vm env` never load it (scripts/build.mjs keeps it in dist/vendor/).

import type { LiveKitDesired, LiveKitPaths } from './model.js';
import type { Host } from '../../platform/host.js';
import type { Answer, ClientAccess, Credentials, LocalCredentials, RoomInfo, TokenRequest } from '../client-access.js';
import { readKeyFile } from './keys.js';
import { remoteUrl } from './expose.js';
import { clientUrl, healthUrl, LIVEKIT_HEALTH } from './render.js';

type Sdk = typeof import('livekit-server-sdk');
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => (sdk ??= import('livekit-server-sdk'));

/** livekit-server-sdk's token grants, by the names vm's users write (lk's own words). */
export const GRANTS = ['join', 'publish', 'subscribe', 'publish-data', 'list', 'create', 'admin'] as const;

/** The HTTP(S) form of a client URL, for GET requests (LiveKit serves both on one port). */
export function httpOf(url: string): string {
  return url.replace(/^ws(s?):/, 'http$1:').replace(/\/+$/, '');
}

export async function localCredentials(host: Host, d: LiveKitDesired, paths: LiveKitPaths): Promise<LocalCredentials> {
  const url = clientUrl(d);
  if (d.keys.kind === 'declared') {
    const [apiKey, apiSecret] = Object.entries(d.keys.entries)[0] ?? ['', ''];
    return { ok: true, creds: { url, apiKey, apiSecret } };
  }
  // The generated secret lives only in the key file vm wrote (keys.ts keeps it stable).
  const apiKey = d.keys.apiKey;
  const apiSecret = readKeyFile(await host.readFile(paths.keyFile))?.[apiKey];
  if (apiSecret === undefined || apiSecret === '') {
    return { ok: false, url, apiKey, why: `the generated key ${apiKey} has no secret yet (${paths.keyFile} has none): run \`vm apply\` first` };
  }
  return { ok: true, creds: { url, apiKey, apiSecret } };
}

/** One line for a failed request, never the token or secret: "connection refused", "401 invalid API key". */
function failure(e: unknown, timeoutMs: number): { why: string; status?: number } {
  const err = e as { name?: string; status?: unknown; message?: string; cause?: { code?: string; message?: string } };
  if (typeof err.status === 'number') return { status: err.status, why: `${err.status} ${err.message ?? ''}`.trim() };
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return { why: `no answer within ${timeoutMs} ms` };
  const code = err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
  return { why: code === 'ECONNREFUSED' ? 'connection refused' : code };
}

async function listRooms(creds: Credentials, timeoutMs: number): Promise<{ ok: true; rooms: readonly RoomInfo[] } | { ok: false; why: string; status?: number }> {
  const { RoomServiceClient } = await loadSdk();
  // failover: off, so a Cloud project answers within timeoutMs instead of trying other regions.
  const client = new RoomServiceClient(httpOf(creds.url), creds.apiKey, creds.apiSecret, { requestTimeout: timeoutMs / 1000, failover: false });
  try {
    const rooms = await client.listRooms();
    return { ok: true, rooms: rooms.map((r) => ({ name: r.name, sid: r.sid, participants: r.numParticipants, createdAt: Number(r.creationTime) })) };
  } catch (e) {
    return { ok: false, ...failure(e, timeoutMs) };
  }
}

async function mintToken(creds: Credentials, req: TokenRequest): Promise<string> {
  const { AccessToken } = await loadSdk();
  const has = (g: string) => req.grants.includes(g);
  const at = new AccessToken(creds.apiKey, creds.apiSecret, { identity: req.identity, ttl: req.ttlSeconds, ...(req.name === undefined ? {} : { name: req.name }) });
  at.addGrant({
    ...(req.room === undefined ? {} : { room: req.room }),
    roomJoin: has('join'),
    // Explicit: LiveKit reads a missing canPublish/canSubscribe as allowed.
    canPublish: has('publish'),
    canSubscribe: has('subscribe'),
    canPublishData: has('publish-data'),
    roomList: has('list'),
    roomCreate: has('create'),
    roomAdmin: has('admin'),
  });
  return at.toJwt();
}

export const livekitClients: ClientAccess<LiveKitDesired, LiveKitPaths> = {
  envNames: ['LIVEKIT_URL', 'LIVEKIT_API_KEY', 'LIVEKIT_API_SECRET'],
  grants: GRANTS,
  defaultGrants: ['join', 'publish', 'subscribe', 'publish-data'],
  roomGrants: ['join', 'admin'],
  // livekit-server answers `GET /` with `200 OK` when ready (FACTS.md).
  health: (d) => ({ url: healthUrl(d), check: LIVEKIT_HEALTH }),
  local: localCredentials,
  fallback: (d) => d.fallback,
  async remoteUrl(host, d) {
    if (d.expose === undefined) return remoteUrl(d, undefined);
    const { observeTailnet } = await import('../../facts/tailnet.js');
    return remoteUrl(d, await observeTailnet(host));
  },
  async probe(host, creds, timeoutMs) {
    // Both at once, so the answer comes within timeoutMs: the room API proves the key; a proxy
    // in front of a server may only pass `GET /`.
    const [api, root] = await Promise.all([listRooms(creds, timeoutMs), host.httpGet(`${httpOf(creds.url)}/`, timeoutMs)]);
    if (api.ok) return { ok: true, detail: `its room API accepts key ${creds.apiKey}` };
    if (api.status === 401) return { ok: false, why: `it refuses key ${creds.apiKey}: ${api.why}` };
    if (root.ok && root.status === 200) return { ok: true, detail: 'GET / answered 200' };
    return { ok: false, why: root.ok ? `GET / answered ${root.status}; room API: ${api.why}` : api.why };
  },
  async checkApi(creds, timeoutMs) {
    const r = await listRooms(creds, timeoutMs);
    return r.ok ? { ok: true, detail: `keys accepted (${r.rooms.length} room${r.rooms.length === 1 ? '' : 's'})`, rooms: r.rooms.length } : { ok: false, why: r.why };
  },
  async checkToken(host, creds, timeoutMs): Promise<Answer> {
    // A one-minute join token, checked the way a client's connection is (pkg/service/rtcservice.go).
    const jwt = await mintToken(creds, { identity: 'vm-status', name: undefined, room: 'vm-status-check', ttlSeconds: 60, grants: ['join'] });
    const r = await host.httpGet(`${httpOf(creds.url)}/rtc/validate?access_token=${encodeURIComponent(jwt)}`, timeoutMs);
    if (!r.ok) return { ok: false, why: r.error === 'ECONNREFUSED' ? 'connection refused' : r.error };
    if (r.status === 200) return { ok: true, detail: 'accepted' };
    return { ok: false, why: `GET /rtc/validate answered ${r.status}${r.body.trim() === '' ? '' : `: ${r.body.trim().split('\n')[0]?.slice(0, 120)}`}` };
  },
  listRooms,
  mintToken,
};
