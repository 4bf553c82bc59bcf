// `vm token`'s flags → a token request, checked before anything is observed. Pure (the random
// suffix is passed in). Every refusal is one line naming the flag.

import { UserError } from '../errors.js';
import type { DesiredState } from '../model.js';
import type { Host } from '../platform/host.js';
import { chooseConnection, clientService, type Connection, type Target } from './connection.js';
import type { ClientAccess, TokenRequest } from '../services/client-access.js';
import { parseDuration } from '../spec/normalise.js';

export const MAX_TTL_SECONDS = 24 * 3600;

export interface TokenFlags {
  readonly room?: string;
  readonly identity?: string;
  readonly name?: string;
  readonly ttl?: string;
  readonly grant?: string;
}

export function parseTokenRequest(f: TokenFlags, access: Pick<ClientAccess<never, never>, 'grants' | 'defaultGrants' | 'roomGrants'>, user: string, suffix: string): TokenRequest {
  const grants = f.grant === undefined ? [...access.defaultGrants] : f.grant.split(',').map((g) => g.trim()).filter((g) => g !== '');
  for (const g of grants) {
    if (!access.grants.includes(g)) throw new UserError('USAGE', `--grant: unknown grant ${JSON.stringify(g)} (known: ${access.grants.join(', ')})`);
  }
  if (grants.length === 0) throw new UserError('USAGE', `--grant: name at least one grant (${access.grants.join(', ')})`);
  const needRoom = grants.filter((g) => access.roomGrants.includes(g));
  if (needRoom.length > 0 && (f.room === undefined || f.room === '')) {
    throw new UserError('USAGE', `--room is required for the grant${needRoom.length === 1 ? '' : 's'} ${needRoom.join(', ')}${f.grant === undefined ? ' (the default grants)' : ''}`);
  }
  const ttlText = f.ttl ?? '6h';
  const ms = parseDuration(ttlText);
  if (typeof ttlText !== 'string' || !/^[0-9]+(ms|s|m|h)$/.test(ttlText) || ms === undefined || ms < 1000 || ms > MAX_TTL_SECONDS * 1000) {
    throw new UserError('USAGE', `--ttl must be a duration from 1s to 24h, like 30s, 10m or 6h (got ${JSON.stringify(ttlText)})`);
  }
  const identity = f.identity ?? `vm-${user.replace(/[^A-Za-z0-9_-]/g, '') || 'user'}-${suffix}`;
  if (identity === '') throw new UserError('USAGE', '--identity must not be empty');
  return { identity, name: f.name, room: f.room === '' ? undefined : f.room, ttlSeconds: Math.floor(ms / 1000), grants };
}

export interface TokenJson {
  readonly access_token: string;
  readonly url: string;
  readonly identity: string;
  readonly name: string | null;
  readonly room: string | null;
  readonly grants: readonly string[];
  readonly expires_at: string;
  readonly target: 'local' | 'fallback';
}

/**
 * `vm token --json` as data: checks the request (before any server is asked), chooses the
 * server as `vm env` does, mints the token. `why`/`warning`: the choice, for a front end to say.
 */
export async function mintToken(host: Host, desired: DesiredState, f: TokenFlags, o: { readonly target: Target; readonly service?: string; readonly user: string; readonly suffix: string; readonly remote?: boolean }): Promise<{ json: TokenJson; connection: Connection }> {
  const req = parseTokenRequest(f, clientService(desired, o.service).access, o.user, o.suffix);
  const c = await chooseConnection(host, desired, o.target, o.service, { remote: o.remote === true });
  const jwt = await c.access.mintToken(c, req);
  const expires = new Date(host.now() + req.ttlSeconds * 1000).toISOString();
  return { json: { access_token: jwt, url: c.url, identity: req.identity, name: req.name ?? null, room: req.room ?? null, grants: req.grants, expires_at: expires, target: c.target }, connection: c };
}
