import { hostLabel, hostnameOf } from '../../spec/hosts.js';
import { validateEveryHost } from '../../spec/load.js';
import { describeSource } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

/** The base, and every `hosts:` entry merged over it (each problem at its line). */
export async function validateCommand(io: CliIo, o: { file?: string }): Promise<number> {
  const { desired, entries } = await validateEveryHost({ ...(o.file === undefined ? {} : { file: o.file }), cwd: io.cwd, env: io.env, hostname: hostnameOf(io.env) });
  const hosts = entries.length === 0 ? '' : ` (the base and ${entries.length} hosts ${entries.length === 1 ? 'entry' : 'entries'}: ${entries.map(hostLabel).join(', ')})`;
  io.stdout.write(`${describeSource(desired)}: valid${hosts}\n`);
  return EXIT.ok;
}
