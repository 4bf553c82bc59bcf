import { constants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { packageRoot } from '../../assets.js';
import { UserError } from '../../errors.js';
import { initFileText } from '../../spec/default.js';
import { EXIT } from '../exit.js';
import { hint } from '../invocation.js';
import type { CliIo } from '../io.js';

export async function initCommand(io: CliIo, o: { file: string; force?: boolean }): Promise<number> {
  const path = resolve(io.cwd, o.file);
  await mkdir(dirname(path), { recursive: true });
  try {
    // O_EXCL unless --force: never overwrite a file the user wrote.
    await writeFile(path, initFileText(`${packageRoot()}/schemas/voicemode.services.schema.json`), { flag: o.force === true ? 'w' : constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, mode: 0o644 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UserError('FILE_EXISTS', `${path} already exists; nothing written`, 'pass --force to overwrite it');
    }
    throw e;
  }
  io.stdout.write(`wrote ${path}\n${hint(io, `next: \`vm plan -f ${o.file}\` to see what apply would do`)}\n`);
  return EXIT.ok;
}
