// Rotates LiveKit's log without restarting it and, where the file system allows, losing nothing.
//
// Who writes the log: systemd (`StandardOutput=append:`), launchd (StandardOutPath) or vm's
// process supervisor (`open(…, 'a')`) opens it once, O_APPEND, and hands the descriptor to
// LiveKit, which never reopens it. So the live file must stay the same inode: renaming it away
// would leave LiveKit writing into the rotated file. Rotation therefore copies the content out
// into `livekit.log.1` (after shifting .1→.2→…, dropping the oldest beyond `keep`) and then
// removes that content from the live file. Every write LiveKit makes lands at the end of the
// file as it is at that moment (O_APPEND), before or after the removal, never in between.
//
// How the content is removed, and what is guaranteed:
//
// - Linux, on ext4 or XFS: `fallocate --collapse-range` cuts the first N bytes out of the file
//   in one step that holds the inode lock, as appends do; N is the copied prefix, rounded down
//   to the file system's block size (a requirement of collapse-range). Nothing is lost and
//   nothing is duplicated: the rotated file and the live one are exactly the byte stream LiveKit
//   wrote, split at offset N. The line that crosses offset N is split between the end of .1 and
//   the start of the live file (the rest, under one block, stays live); `vm logs` reads .1 then
//   the live file as one stream, so it shows the line whole.
// - Elsewhere (macOS, tmpfs, btrfs, no util-linux): copy-truncate. The bulk is copied while
//   LiveKit goes on writing; then, with synchronous calls back to back, whatever was appended
//   since is copied too, up to end of file, and the file is truncated to 0 as the very next
//   system call. What LiveKit appends between that last read and the moment the truncate takes
//   effect is lost: microseconds as a rule, but milliseconds when vm loses the CPU or waits for
//   the inode lock right then on a busy machine. No line is split or duplicated, and a gap can
//   only fall at the boundary between .1 and the live file. (Measured: a writer in a tight loop
//   lost 0 to ~5,000 of 150,000 lines over 10–20 rotations on two busy cores; LiveKit writes a
//   few lines a second, so the odds of losing one of its lines per rotation are tiny.) Closing
//   the gap needs the writer's help (reopen on a signal), which LiveKit does not offer; stopping
//   LiveKit (SIGSTOP) for the moment would close it, but a vm that died in between would leave
//   LiveKit frozen: rejected.
//
// Crash safety: the copy is written to a temp file, fsynced and renamed to .1 before anything is
// removed from the live file, so a crash at any point duplicates at worst (the next rotation
// copies the same bytes again) and never loses. Two rotators (apply and watch) are kept apart
// by a lock file beside the log: the second one skips (a double collapse would drop bytes).
//
// Rotated files are not compressed: LiveKit's logs are small (10 MiB × 3 at most), `vm logs`
// reads them as they are, and there is no gzip step that could fail halfway.
// Their mode is the live log's. A symlink is never followed: the live log must be a regular file
// (opened O_NOFOLLOW, so it cannot be swapped for a link after the check), and the rotated names
// are only ever renamed over or unlinked, which act on a link itself, never on its target.
//
// This module uses node:fs directly instead of the Host port: rotation needs one open
// descriptor for reads at offsets, ftruncate and the collapse, which the path-level Host
// (read/write whole files) does not offer, and widening Host for one caller would make every
// host implement descriptor I/O. It uses Host for what Host has: the platform and `exec`.

import { constants, ftruncateSync, readSync, writeSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { Host } from './host.js';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

export type RotationMethod = 'collapse' | 'copy-truncate';

export interface RotateResult {
  readonly rotated: boolean;
  /** The live log's size when checked (0 when there is none). */
  readonly bytes: number;
  /** How the content left the live file, when rotated. */
  readonly method?: RotationMethod;
}

/** Where the n-th rotated copy of a log goes (1 is the newest). */
export function rotatedPath(logFile: string, n: number): string {
  return `${logFile}.${n}`;
}

/**
 * The size at which a log is rotated: env `VOICEMODE_LOG_MAX_BYTES` (bytes, for tests) if set,
 * else `fallback` (the service's `logging.max_size`, or the default 10 MiB).
 */
export function logMaxBytes(env: Readonly<Record<string, string | undefined>>, fallback = DEFAULT_LOG_MAX_BYTES): number {
  const v = env['VOICEMODE_LOG_MAX_BYTES'];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new UserError('USAGE', `VOICEMODE_LOG_MAX_BYTES=${JSON.stringify(v)} cannot be used: it must be a number of bytes`);
  }
  return Number(v);
}

/**
 * Rotates `logFile` when it is larger than `maxBytes`, keeping `keep` rotated copies. A missing
 * log is not an error (`rotated: false, bytes: 0`); neither is another rotation in progress.
 * Throws a UserError when the log is a symlink or not a regular file, and on I/O errors.
 */
export async function rotateIfNeeded(host: Host, logFile: string, maxBytes: number, keep = 3): Promise<RotateResult> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`rotateIfNeeded: keep must be a positive integer, got ${keep}`);
  const live = await openLive(logFile);
  if (live === undefined) return { rotated: false, bytes: 0 };
  try {
    const st = await live.stat();
    if (!st.isFile()) throw new UserError('STEP_FAILED', `${logFile} is not a regular file: vm does not rotate it`);
    if (st.size <= maxBytes) return { rotated: false, bytes: st.size };
    const unlock = await lock(logFile, host.now());
    if (unlock === undefined) return { rotated: false, bytes: st.size };
    try {
      const method = await rotate(host, live, logFile, st, keep);
      return { rotated: true, bytes: st.size, method };
    } finally {
      await unlock();
    }
  } finally {
    await live.close();
  }
}

async function openLive(logFile: string): Promise<FileHandle | undefined> {
  try {
    // O_NONBLOCK: a FIFO put there must not hang the reconcile; it is refused after fstat.
    return await fs.open(logFile, constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw new UserError('STEP_FAILED', `${logFile} is a symbolic link: vm rotates only a regular file in its log directory`);
    if (code === 'EISDIR') throw new UserError('STEP_FAILED', `${logFile} is a directory: vm does not rotate it`);
    throw e;
  }
}

async function rotate(host: Host, live: FileHandle, logFile: string, st: { size: number; mode: number; blksize: number }, keep: number): Promise<RotationMethod> {
  const blk = st.blksize > 0 ? st.blksize : 4096;
  // collapse-range needs a block-aligned length that stops short of the end of the file.
  const collapseLen = host.platform === 'linux' ? Math.floor((st.size - 1) / blk) * blk : 0;
  const tmpPath = join(dirname(logFile), `.${basename(logFile)}.1.vm-tmp-${process.pid}-${host.now()}`);
  const mode = st.mode & 0o777;
  const out = await fs.open(tmpPath, 'wx', mode);
  let renamed = false;
  try {
    await out.chmod(mode); // the umask may have narrowed open()'s mode
    let pos = await copy(live, out, 0, collapseLen > 0 ? collapseLen : Number.MAX_SAFE_INTEGER);
    await out.sync();
    await shift(logFile, keep, tmpPath);
    await fs.rename(tmpPath, rotatedPath(logFile, 1));
    renamed = true;
    // From here on a failure can only duplicate: the next rotation copies again what stayed live.
    if (collapseLen > 0 && pos === collapseLen) {
      const done = await collapse(host, live, collapseLen);
      if (done === 'yes') return 'collapse';
      if (done === 'unknown') {
        // Going on to truncate could cut bytes nobody copied; stopping can only duplicate.
        throw new UserError('STEP_FAILED', `rotating ${logFile}: fallocate did not finish; its start was copied to ${rotatedPath(logFile, 1)} and may also still be in the log`);
      }
    }
    pos = await copy(live, out, pos, Number.MAX_SAFE_INTEGER); // what was appended during the bulk copy
    drainThenTruncate(live.fd, out.fd, pos);
    await out.sync();
    return 'copy-truncate';
  } finally {
    await out.close();
    if (!renamed) await fs.rm(tmpPath, { force: true });
  }
}

/** Copies `from` up to `to` (or end of file, whichever comes first); returns where it stopped. */
async function copy(src: FileHandle, dst: FileHandle, from: number, to: number): Promise<number> {
  const buf = Buffer.allocUnsafe(256 * 1024);
  let pos = from;
  while (pos < to) {
    const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (bytesRead === 0) break;
    await dst.write(buf, 0, bytesRead);
    pos += bytesRead;
  }
  return pos;
}

/**
 * The copy-truncate window, kept as short as user space can: synchronous reads up to end of file,
 * then the truncate as the very next system call, with no await (no other work) in between.
 */
function drainThenTruncate(src: number, dst: number, from: number): void {
  const buf = Buffer.allocUnsafe(64 * 1024);
  let pos = from;
  for (;;) {
    const n = readSync(src, buf, 0, buf.length, pos);
    if (n === 0) break;
    writeSync(dst, buf, 0, n);
    pos += n;
  }
  ftruncateSync(src, 0);
}

/**
 * Cuts the first `len` bytes out of the open log, atomically with LiveKit's appends. Goes
 * through /proc/PID/fd so util-linux's `fallocate` acts on the very file vm opened (O_NOFOLLOW),
 * not on whatever the path names by then. 'no' when it cannot (file system, no fallocate);
 * 'unknown' when it was killed (timeout) and may or may not have cut.
 */
async function collapse(host: Host, live: FileHandle, len: number): Promise<'yes' | 'no' | 'unknown'> {
  const r = await host.exec('fallocate', ['--collapse-range', '--offset', '0', '--length', String(len), `/proc/${process.pid}/fd/${live.fd}`], { timeoutMs: 10_000 });
  if (r.code === 0) return 'yes';
  // An exit status of its own (EOPNOTSUPP, EINVAL) or no start at all (127): nothing was cut.
  return r.error === undefined || r.code === 127 ? 'no' : 'unknown';
}

/**
 * .1→.2→…: every rotated copy moves up one, the ones that would pass `keep` go, and so do temp
 * files a crashed rotation left (none can be in use: the caller holds the lock).
 */
async function shift(logFile: string, keep: number, ownTmp: string): Promise<void> {
  const dir = dirname(logFile);
  const base = basename(logFile);
  const numbered: number[] = [];
  for (const name of await fs.readdir(dir)) {
    if (name.startsWith(`.${base}.1.vm-tmp-`) && join(dir, name) !== ownTmp) await fs.rm(join(dir, name), { force: true });
    const n = name.startsWith(`${base}.`) ? name.slice(base.length + 1) : '';
    if (/^[1-9]\d*$/.test(n)) numbered.push(Number(n));
  }
  // Highest first, so each target name is free (already moved up, or never there).
  for (const n of numbered.sort((a, b) => b - a)) {
    if (n >= keep) await fs.rm(rotatedPath(logFile, n), { force: true });
    else await fs.rename(rotatedPath(logFile, n), rotatedPath(logFile, n + 1));
  }
}

/** A lock file beside the log, so two vm processes never rotate at once. Stale after a minute. */
async function lock(logFile: string, now: number): Promise<(() => Promise<void>) | undefined> {
  const path = join(dirname(logFile), `.${basename(logFile)}.rotating`);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fs.open(path, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => fs.rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const held = await fs.lstat(path).catch(() => undefined);
      const pid = Number((await fs.readFile(path, 'utf8').catch(() => '')).trim());
      // An empty file is a lock being taken right now (created, pid not yet written).
      const stale = held === undefined || now - held.mtimeMs > 60_000 || (pid > 0 && !alive(pid));
      if (!stale) return undefined;
      await fs.rm(path, { force: true });
    }
  }
  return undefined;
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
