// vm env: the connection values for a client, for `eval "$(vm env)"`, a dotenv file or a program.
// The one command whose output holds a secret (stdout only); every message on stderr is secret-free.

import { UserError } from '../../errors.js';
import { chooseConnection, TARGETS, type Connection, type Target } from '../../ops/connection.js';
import { ENV_FORMATS, formatEnv, type EnvFormat } from '../../ops/env-format.js';
import { providerLists } from '../../plan/clients.js';
import { loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo, Output } from '../io.js';

export interface EnvFlags {
  file?: string;
  target?: string;
  format?: string;
  remote?: boolean;
}

export function parseTarget(v: string | undefined): Target {
  const t = v ?? 'auto';
  if (!(TARGETS as readonly string[]).includes(t)) throw new UserError('USAGE', `--target must be one of ${TARGETS.join(', ')} (got ${JSON.stringify(t)})`);
  return t as Target;
}

/** The one stderr line that says which server and why, when that is news (not the healthy local). */
export function reportChoice(stderr: Output, c: Connection, target: Target): void {
  if (c.warning !== undefined) stderr.write(`vm: warning: ${c.warning}\n`);
  else if (target === 'auto' && c.target === 'fallback') stderr.write(`vm: ${c.why}\n`);
}

export async function envCommand(io: CliIo, service: string | undefined, o: EnvFlags): Promise<number> {
  const target = parseTarget(o.target);
  const format = o.format ?? 'sh';
  if (!(ENV_FORMATS as readonly string[]).includes(format)) throw new UserError('USAGE', `--format must be one of ${ENV_FORMATS.join(', ')} (got ${JSON.stringify(format)})`);
  const { desired, host } = await loadContext(io, o.file);
  const c = await chooseConnection(host, desired, target, service, { remote: o.remote === true });
  reportChoice(io.stderr, c, target);
  const [u, k, s] = c.access.envNames;
  // Voice Mode's provider lists too, when whisper or kokoro are declared (the same lists the
  // env file's block carries: plan/clients.ts).
  const providers = providerLists(Object.values(desired.services).filter((d) => d.state !== 'absent')).map((v): [string, string] => [v.key, v.value]);
  io.stdout.write(formatEnv([[u, c.url], [k, c.apiKey], [s, c.apiSecret], ...providers], format as EnvFormat, c.target));
  return EXIT.ok;
}
