// `vm token`'s flags → a token request, checked before anything is observed. Pure (the random
// suffix is passed in). Every refusal is one line naming the flag.

import { UserError } from '../errors.js';
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
