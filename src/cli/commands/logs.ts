// `vm logs [SERVICE] [-n N] [-f]`: a service's log, read from the file its supervisor appends to
// (there may be no journald), across the rotated copies; with -f, followed like `tail -F`.
//
// It reads no desired-state file: the log's path comes from the environment alone, so `vm logs`
// works when the file is invalid, which is when one needs it most. `--file` is accepted so a
// script can pass it to every command, and ignored; `-f` is --follow here, as in tail.

import type { FileHandle } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../../errors.js';
import { resolveRoots, servicePaths } from '../../paths.js';
import type { KindName } from '../../model.js';
import { DEFAULT_SERVICE, kindNamed, PRESET_NAMES } from '../../services/registry.js';
import { rotatedPath } from '../../platform/log-rotate.js';
import { sleep } from '../../platform/sleep.js';
import { openIfExists, readServiceLog, type Position } from '../../ops/logs.js';
import { EXIT } from '../exit.js';
import type { CliIo, Output } from '../io.js';

const POLL_MS = 200;
/** How much of what was printed is kept, to find the same place again after a rotation. */
const RECENT_BYTES = 4096;

export interface LogsFlags {
  readonly lines?: string;
  readonly follow?: boolean;
  readonly file?: string;
}

export async function logsCommand(io: CliIo, service: string | undefined, o: LogsFlags): Promise<number> {
  const name = service ?? DEFAULT_SERVICE;
  const count = o.lines ?? '50';
  if (!/^\d+$/.test(count)) throw new UserError('USAGE', `-n wants a number of lines, got "${count}"`);
  const log = await readServiceLog(io.env, name, Math.min(Number(count), Number.MAX_SAFE_INTEGER));
  const { logFile } = log;
  const last = log.live === undefined || log.text === undefined ? undefined : { text: log.text, live: log.live };
  if (o.follow !== true) {
    if (last === undefined) {
      io.stderr.write(`no log yet at ${logFile}: ${titleOf(name)} has not run under vm\n`);
      return EXIT.ok;
    }
    io.stdout.write(last.text);
    return EXIT.ok;
  }

  // Handlers before the first line: Ctrl-C (or a test's SIGTERM) right after it must still end
  // vm with 0, not by the signal.
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // `vm logs -f | head`: once the reader is gone, stop instead of dying on EPIPE.
  const stdout = io.stdout as Output & Partial<Pick<NodeJS.EventEmitter, 'on' | 'off'>>;
  stdout.on?.('error', stop);
  try {
    if (last === undefined) io.stderr.write(`no log yet at ${logFile}: ${titleOf(name)} has not run under vm (waiting for it; Ctrl-C to stop)\n`);
    else io.stdout.write(last.text);
    await follow(logFile, last?.live, io.stdout, ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stdout.off?.('error', stop);
  }
  return EXIT.ok;
}

/**
 * Prints what is appended to the log until `signal` aborts, polling every 200 ms (a stat is cheap,
 * and polling sees a truncate, a replaced file and a file on any file system alike).
 * - Appended bytes are printed as they come.
 * - vm rotated it (the live file shrank, or .1 is a new file and the bytes before our place are
 *   no longer the ones printed): .1 holds the start of the old content, so the place printed up
 *   to is found again in .1 or in what stayed live, checked against the last bytes printed.
 *   Anything else that shrank it is read again from the start, like `tail -F`.
 * - The file was replaced or removed: the old one is read to its end, then the new one from 0.
 */
async function follow(logFile: string, start: Position | undefined, out: Output, signal: AbortSignal): Promise<void> {
  const decoder = new StringDecoder('utf8');
  let recent: Buffer = Buffer.alloc(0);
  const print = (b: Buffer) => {
    if (b.length === 0) return;
    recent = Buffer.concat([recent, b]).subarray(-RECENT_BYTES);
    out.write(decoder.write(b));
  };
  const onePath = rotatedPath(logFile, 1);
  const oneIno = async () => (await fs.stat(onePath).catch(() => undefined))?.ino;
  let knownOne = await oneIno();
  let fh: FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  const open = async () => {
    fh = await openIfExists(logFile);
    ino = fh === undefined ? -1 : (await fh.stat()).ino;
    pos = 0;
  };
  await open();
  if (fh !== undefined && start !== undefined && ino === start.ino) {
    pos = start.pos;
    recent = await readRange(fh, Math.max(0, pos - RECENT_BYTES), pos);
  }
  try {
    while (!signal.aborted) {
      const st = await fs.stat(logFile).catch(() => undefined);
      if (fh !== undefined && (st === undefined || st.ino !== ino)) {
        await copyOut(fh, pos, Number.MAX_SAFE_INTEGER, print);
        await fh.close();
        fh = undefined;
      }
      if (fh === undefined && st !== undefined) await open();
      if (fh !== undefined) {
        const size = (await fh.stat()).size;
        const one = await oneIno();
        // A new .1 alone is not enough: vm renames it into place just before it cuts the live file.
        if (size < pos || (one !== knownOne && !(await endsWith(fh, pos, recent)))) {
          pos = await resume(fh, onePath, pos, size, recent, print);
          knownOne = one;
        }
        pos = await copyOut(fh, pos, size, print);
      }
      await sleep(POLL_MS, signal);
    }
  } finally {
    await fh?.close();
  }
}

/** Where to go on in the live file (now `size` bytes) after vm rotated it while we were at `pos`. */
async function resume(live: FileHandle, onePath: string, pos: number, size: number, recent: Buffer, print: (b: Buffer) => void): Promise<number> {
  const one = await openIfExists(onePath);
  if (one === undefined) return 0;
  try {
    const rotatedSize = (await one.stat()).size;
    // .1 is the old start of the live file: position `pos` is in .1, or `pos - rotatedSize` live.
    if (pos <= rotatedSize) {
      if (!(await endsWith(one, pos, recent))) return 0;
      await copyOut(one, pos, rotatedSize, print); // written before the truncate, not yet printed
      return 0;
    }
    const livePos = pos - rotatedSize;
    return livePos <= size && (await endsWith(live, livePos, recent)) ? livePos : 0;
  } finally {
    await one.close();
  }
}

/** Whether the file's bytes just before `at` are the last ones printed. */
async function endsWith(fh: FileHandle, at: number, recent: Buffer): Promise<boolean> {
  const k = Math.min(recent.length, at);
  return (await readRange(fh, at - k, at)).equals(recent.subarray(recent.length - k));
}

async function copyOut(fh: FileHandle, from: number, to: number, print: (b: Buffer) => void): Promise<number> {
  let pos = from;
  const buf = Buffer.alloc(64 * 1024);
  while (pos < to) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (bytesRead === 0) break;
    print(Buffer.from(buf.subarray(0, bytesRead)));
    pos += bytesRead;
  }
  return pos;
}

async function readRange(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  const buf = Buffer.alloc(to - from);
  const { bytesRead } = await fh.read(buf, 0, buf.length, from);
  return buf.subarray(0, bytesRead);
}

/** "LiveKit" for livekit; a service's own name otherwise (the file is not read here). */
function titleOf(name: string): string {
  return (PRESET_NAMES as readonly string[]).includes(name) ? kindNamed(name as KindName).title(name) : name;
}
