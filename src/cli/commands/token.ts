// vm token: an access token for a browser app or a test client, minted with the chosen server's key.

import { randomBytes } from 'node:crypto';
import { chooseConnection, clientService } from '../../ops/connection.js';
import { parseTokenRequest, type TokenFlags } from '../../ops/token.js';
import { loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';
import { parseTarget, reportChoice } from './env.js';

export async function tokenCommand(io: CliIo, o: TokenFlags & { file?: string; target?: string; json?: boolean; service?: string; remote?: boolean }): Promise<number> {
  const target = parseTarget(o.target);
  const { desired, host } = await loadContext(io, o.file);
  // The flags are checked before any server is asked: a typo costs no network round.
  const user = io.env['USER'] ?? io.env['LOGNAME'] ?? 'user';
  const req = parseTokenRequest(o, clientService(desired, o.service).access, user, randomBytes(3).toString('hex').slice(0, 4));
  const c = await chooseConnection(host, desired, target, o.service, { remote: o.remote === true });
  reportChoice(io.stderr, c, target);
  const jwt = await c.access.mintToken(c, req);
  if (o.json !== true) {
    io.stdout.write(`${jwt}\n`);
    return EXIT.ok;
  }
  const expires = new Date(host.now() + req.ttlSeconds * 1000).toISOString();
  io.stdout.write(`${JSON.stringify({ access_token: jwt, url: c.url, identity: req.identity, name: req.name ?? null, room: req.room ?? null, grants: req.grants, expires_at: expires, target: c.target })}\n`);
  return EXIT.ok;
}
