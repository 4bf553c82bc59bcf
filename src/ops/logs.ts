// A service's log, read from the file its supervisor appends to, across the rotated copies: the
// reading `vm logs` and the MCP `service` tool's `logs` action share. Read-only.

import type { FileHandle } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { UserError } from '../errors.js';
import { resolveRoots, servicePaths } from '../paths.js';
import { rotatedPath } from '../platform/log-rotate.js';
import { knownServiceNames } from '../services/registry.js';

/** The most lines the MCP `service` tool returns at once: a log is for reading, not for copying whole. */
export const MAX_LOG_LINES = 10_000;

export interface ServiceLog {
  readonly service: string;
  readonly logFile: string;
  /** The last lines as one text (each line ends in a newline); undefined when there is no log yet. */
  readonly text: string | undefined;
  /** Where the live file ended when it was read (for following it). */
  readonly live: Position | undefined;
}

/**
 * The last `lines` lines of a service's log. Without reading the desired-state file, a service
 * is one of the well-known names or one that has logged under vm (so a name is never a path).
 */
export async function readServiceLog(env: Readonly<Record<string, string | undefined>>, name: string, lines: number): Promise<ServiceLog> {
  const roots = resolveRoots(env);
  const known = knownServiceNames(await fs.readdir(`${roots.voicemodeHome}/logs`).catch(() => [] as string[]));
  if (!known.includes(name)) throw new UserError('USAGE', `unknown service ${JSON.stringify(name)}`, `services: ${known.join(', ')}`);
  if (!Number.isSafeInteger(lines) || lines < 0) throw new UserError('USAGE', `lines must be a whole number, got ${lines}`);
  const logFile = servicePaths(roots, name).logFile;
  const last = await lastLines(logFile, lines);
  if (last === undefined) return { service: name, logFile, text: undefined, live: undefined };
  const text = last.text.toString('utf8');
  return { service: name, logFile, text: text === '' || text.endsWith('\n') ? text : `${text}\n`, live: last.live };
}

export interface Position {
  readonly ino: number;
  readonly pos: number;
}

/**
 * The last `n` lines of the log as one byte stream: the rotated copies (oldest first) then the
 * live file, read from the end until there are enough lines. A line that rotation split between
 * .1 and the live file comes out whole. Undefined when there is no live log.
 */
export async function lastLines(logFile: string, n: number): Promise<{ text: Buffer; live: Position } | undefined> {
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

export async function openIfExists(path: string): Promise<FileHandle | undefined> {
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


