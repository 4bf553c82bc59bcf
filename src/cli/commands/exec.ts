// vm exec -- COMMAND: runs a client with the connection in its environment (chosen once, by the
// same rules as vm env). The secret goes into the child's environment only, never its argv.

import { UserError } from '../../errors.js';
import { chooseConnection } from '../../ops/connection.js';
import { runForeground } from '../../platform/foreground.js';
import { loadContext } from '../context.js';
import type { CliIo } from '../io.js';
import { parseTarget, reportChoice } from './env.js';

export async function execCommand(io: CliIo, command: readonly string[], o: { file?: string; target?: string; service?: string }): Promise<number> {
  const target = parseTarget(o.target);
  const [file, ...args] = command;
  if (file === undefined) throw new UserError('USAGE', 'vm exec needs a command: vm exec -- COMMAND [ARGS...]');
  const { desired, host } = await loadContext(io, o.file);
  const c = await chooseConnection(host, desired, target, o.service);
  reportChoice(io.stderr, c, target);
  const [u, k, s] = c.access.envNames;
  return runForeground(file, args, { ...io.env, [u]: c.url, [k]: c.apiKey, [s]: c.apiSecret }, (m) => io.stderr.write(`vm: ${m}\n`));
}
