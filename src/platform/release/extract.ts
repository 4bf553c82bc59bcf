// Takes the one file vm needs, `livekit-server`, out of a release .tar.gz.
//
// node-tar's Parser only reads; nothing here lets it create files (no `tar.x`), so members such
// as `../evil`, `/etc/x` or links are never written anywhere: their bytes are skipped. The binary
// is streamed into exactly the path the caller gives, created fresh ('wx').
// `tar` is imported inside the function: `vm plan` must not pay for loading it.

import { createReadStream } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ReadEntry } from 'tar';
import { UserError } from '../../errors.js';

const NAME = 'livekit-server';
const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);

export interface ExtractOptions {
  /** Refuse a binary bigger than this (default 512 MiB); the archive itself is already capped. */
  readonly maxBytes?: number;
}

/**
 * Writes the archive's root-level `livekit-server` (or `./livekit-server`) to `dest`, which must
 * not exist, with mode 0700 (the caller sets the final mode). On failure `dest` is removed.
 */
export async function extractBinary(archive: string, dest: string, opts: ExtractOptions = {}): Promise<void> {
  const { Parser } = await import('tar');
  const maxBytes = opts.maxBytes ?? 512 * 1024 * 1024;
  const archiveName = basename(archive);
  const fh = await open(dest, 'wx', 0o700);
  let problem: UserError | undefined;
  let found = false;
  let writing: Promise<void> = Promise.resolve();
  let body: ReadEntry | undefined;

  const refuse = (entry: ReadEntry, message: string): void => {
    problem ??= new UserError('INSTALL_FAILED', `${archiveName}: ${message}`);
    entry.resume();
  };

  const onReadEntry = (entry: ReadEntry): void => {
    const kind = classify(entry.path);
    if (kind === 'other' || problem !== undefined) return void entry.resume();
    if (kind === 'unsafe') return refuse(entry, `member ${JSON.stringify(entry.path)} would land on ${NAME} through an absolute or ".." path; refused`);
    // Extractors disagree on which duplicate wins; an archive that is ambiguous is refused.
    if (found) return refuse(entry, `holds ${NAME} more than once; refused`);
    found = true;
    if (!REGULAR.has(entry.type)) {
      const to = entry.linkpath === undefined || entry.linkpath === '' ? '' : ` to ${JSON.stringify(entry.linkpath)}`;
      return refuse(entry, `${NAME} is a ${describe(entry.type)}${to}, not a regular file; refused`);
    }
    if (entry.size > maxBytes) return refuse(entry, `${NAME} is larger than ${Math.round(maxBytes / 1024 / 1024)} MiB; refused`);
    // Pulling chunks and awaiting each write is the backpressure. (Not pipeline() into
    // fh.createWriteStream({ autoClose: false }): on Node 20 fh.close() then never settles.)
    body = entry;
    writing = writeAll(fh, entry).catch((err: unknown) => {
      problem ??= new UserError('INSTALL_FAILED', `cannot write ${dest}: ${(err as Error).message}`);
      entry.resume(); // keep the parser moving so it reaches its end
    });
  };

  try {
    // strict: a truncated or non-tar file is an error, not a warning followed by "no livekit-server".
    const parser = new Parser({ strict: true, onReadEntry });
    await new Promise<void>((resolve, reject) => {
      const input = createReadStream(archive);
      input.on('error', reject);
      parser.on('error', (err: Error) =>
        reject(new UserError('INSTALL_FAILED', `${archiveName} is not a readable .tar.gz: ${err.message}`)),
      );
      parser.on('end', () => resolve());
      input.pipe(parser);
    });
    await writing;
    if (problem !== undefined) throw problem;
    if (!found) throw new UserError('INSTALL_FAILED', `${archiveName} has no ${NAME} at its root`);
    // The caller renames this into place; flush first so a crash cannot leave an empty binary.
    await fh.sync();
    await fh.close();
  } catch (err) {
    // A truncated archive stops the parser mid-entry: the entry never ends, so the write loop (and
    // fh.close() behind it) would wait forever. destroy() *with* an error: Minipass replays an
    // emitted error to later listeners, so a read that starts after this still fails; a plain
    // destroy() would leave that read waiting. The no-op listener keeps the emit from throwing
    // when no read is pending.
    body?.on('error', () => undefined).destroy(new Error('extraction stopped'));
    await writing;
    await fh.close().catch(() => undefined);
    await rm(dest, { force: true });
    throw err;
  }
}

/**
 * `binary`: the root-level livekit-server. `unsafe`: named livekit-server but absolute or
 * through `..`, so a careless extractor could put it where the binary goes. `other`: ignored.
 */
function classify(path: string): 'binary' | 'unsafe' | 'other' {
  const segs = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.at(-1) !== NAME) return 'other';
  if (path.startsWith('/') || segs.includes('..')) return 'unsafe';
  return segs.length === 1 ? 'binary' : 'other';
}

function describe(type: string): string {
  switch (type) {
    case 'SymbolicLink':
      return 'symbolic link';
    case 'Link':
      return 'hard link';
    case 'Directory':
      return 'directory';
    default:
      return `${type} entry`;
  }
}

async function writeAll(fh: FileHandle, chunks: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of chunks) {
    for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
  }
}
