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
import { kindNamed, PRESET_NAMES } from '../../services/registry.js';
import { rotatedPath } from '../../platform/log-rotate.js';
import { sleep } from '../../platform/sleep.js';
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
  const name = service ?? 'livekit';
  const roots = resolveRoots(io.env);
  // Without reading the file, a service is one of the well-known names or one that has logged.
  const logged = (await fs.readdir(`${roots.voicemodeHome}/logs`).catch(() => [] as string[])).filter((n) => n !== 'vm');
  const known = [...new Set([...PRESET_NAMES, ...logged])];
  if (!known.includes(name)) {
    throw new UserError('USAGE', `unknown service ${JSON.stringify(name)}`, `services: ${known.join(', ')}`);
  }
  const count = o.lines ?? '50';
  if (!/^\d+$/.test(count)) throw new UserError('USAGE', `-n wants a number of lines, got "${count}"`);
  const logFile = servicePaths(roots, name).logFile;

  const last = await lastLines(logFile, Number(count));
  if (o.follow !== true) {
    if (last === undefined) {
      io.stderr.write(`no log yet at ${logFile}: ${titleOf(name)} has not run under vm\n`);
      return EXIT.ok;
    }
    const text = last.text.toString('utf8');
    io.stdout.write(text === '' || text.endsWith('\n') ? text : `${text}\n`);
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
    else io.stdout.write(last.text.toString('utf8'));
    await follow(logFile, last?.live, io.stdout, ac.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    stdout.off?.('error', stop);
  }
  return EXIT.ok;
}

interface Position {
  readonly ino: number;
  readonly pos: number;
}

/**
 * The last `n` lines of the log as one byte stream: the rotated copies (oldest first) then the
 * live file, read from the end until there are enough lines. A line that rotation split between
 * .1 and the live file comes out whole. Undefined when there is no live log.
 */
async function lastLines(logFile: string, n: number): Promise<{ text: Buffer; live: Position } | undefined> {
  const parts: Buffer[] = [];
  let newlines = 0;
  let live: Position | undefined;
  let streamEnd = true; // the next byte read from the end is the stream's last byte
  for (let i = 0; newlines < n || live === undefined; i++) {
    const fh = await openIfExists(i === 0 ? logFile : rotatedPath(logFile, i));
    if (fh === undefined) break;
    try {
      const { size, ino } = await fh.stat();
      if (i === 0) live = { ino, pos: size };
      for (let end = size; end > 0 && newlines < n; ) {
        const len = Math.min(64 * 1024, end);
        const buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, end - len);
        end -= len;
        parts.unshift(buf);
        // The stream's final newline ends the last line; it does not start another.
        newlines += count10(streamEnd && buf[len - 1] === 0x0a ? buf.subarray(0, len - 1) : buf);
        streamEnd = false;
      }
    } finally {
      await fh.close();
    }
  }
  if (live === undefined) return undefined;
  const all = Buffer.concat(parts);
  let seen = 0;
  let cut = 0;
  for (let j = all.length - 2; j >= 0 && n > 0; j--) {
    if (all[j] === 0x0a && ++seen === n) {
      cut = j + 1;
      break;
    }
  }
  return { text: n === 0 ? Buffer.alloc(0) : all.subarray(cut), live };
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

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await fs.open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

function count10(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}


/** "LiveKit" for livekit; a service's own name otherwise (the file is not read here). */
function titleOf(name: string): string {
  return (PRESET_NAMES as readonly string[]).includes(name) ? kindNamed(name as KindName).title(name) : name;
}
