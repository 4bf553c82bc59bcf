// vm token: an access token for a browser app or a test client, minted with the chosen server's key.

import { randomBytes } from 'node:crypto';
import { mintToken, type TokenFlags } from '../../ops/token.js';
import { loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';
import { parseTarget, reportChoice } from './env.js';

export async function tokenCommand(io: CliIo, o: TokenFlags & { file?: string; target?: string; json?: boolean; service?: string; remote?: boolean }): Promise<number> {
  const target = parseTarget(o.target);
  const { desired, host } = await loadContext(io, o.file);
  const user = io.env['USER'] ?? io.env['LOGNAME'] ?? 'user';
  const { json, connection } = await mintToken(host, desired, o, { target, user, suffix: randomBytes(3).toString('hex').slice(0, 4), remote: o.remote === true, ...(o.service === undefined ? {} : { service: o.service }) });
  reportChoice(io.stderr, connection, target);
  io.stdout.write(o.json === true ? `${JSON.stringify(json)}\n` : `${json.access_token}\n`);
  return EXIT.ok;
}
