import { describeSource, loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

export async function validateCommand(io: CliIo, o: { file?: string }): Promise<number> {
  const { desired } = await loadContext(io, o.file);
  io.stdout.write(`${describeSource(desired)}: valid\n`);
  return EXIT.ok;
}
