// The apply lock: only one vm process changes the machine at a time. `vm apply` holds it around
// applying, `vm watch` only while it applies (so a manual apply during a watch works); `vm plan`
// and `vm status` never take it.
//
// The lock is a file holding its holder as JSON {pid, command, since}. It is created complete or
// not at all: the holder is written to a private temp file that is then hard-linked to the lock
// path, which fails with EEXIST when the lock exists (the same exclusivity as O_EXCL, without a
// moment in which the lock exists but is still empty). A lock is stale when its holder is gone:
// the pid is dead, or it now belongs to another program (its /proc/PID/cmdline differs). A stale
// lock is taken over under a second, short-lived lock (`.break`), so two waiters cannot both
// take over the same stale lock and both believe they hold it.

import { readFileSync, unlinkSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { sleep } from './sleep.js';

export interface LockHolder {
  readonly pid: number;
  /** The holder's command line, as /proc/PID/cmdline shows it (arguments joined by spaces). */
  readonly command: string;
  /** When it took the lock (ISO 8601). */
  readonly since: string;
}

export interface HeldLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): Promise<void>;
  /** The same, for an exit path that cannot wait. */
  releaseSync(): void;
}

export interface AcquireOptions {
  /** How long to wait for a live holder; 0 tries once. */
  readonly timeoutMs: number;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Called when the lock is found busy, and again whenever its holder changes. */
  readonly onWait?: (holder: LockHolder) => void;
  /** Called after taking over a stale lock. */
  readonly onTakeover?: (holder: LockHolder | undefined, why: string) => void;
}

/** How the lock inspects another process; real /proc by default, plain objects in tests. */
export interface ProcessProbe {
  alive(pid: number): boolean;
  /** Its command line, or undefined where it cannot be read (not Linux, not ours to read). */
  cmdline(pid: number): string | undefined;
}

export class LockTimeoutError extends UserError {
  constructor(
    readonly path: string,
    readonly holder: LockHolder | undefined,
    timeoutMs: number,
  ) {
    super(
      'LOCK_TIMEOUT',
      `another vm is applying: the apply lock ${path} is held by ${holder === undefined ? 'an unknown process' : describeHolder(holder, Date.now())}; gave up waiting after ${timeoutMs / 1000}s`,
      'wait for it to finish, or give it longer with --lock-timeout (e.g. 5m). A lock whose process is gone is taken over by itself.',
    );
  }
}

export function applyLockPath(voicemodeHome: string): string {
  return join(voicemodeHome, 'state', 'apply.lock');
}

const STATE_DIR_MODE = 0o700;
const LOCK_FILE_MODE = 0o600;
/** A `.break` lock older than this belongs to a takeover that died half-way. */
const BREAK_STALE_MS = 10_000;

export async function acquireLock(path: string, opts: AcquireOptions, probe: ProcessProbe = procProbe): Promise<HeldLock> {
  await fs.mkdir(dirname(path), { recursive: true, mode: STATE_DIR_MODE });
  const me: LockHolder = { pid: process.pid, command: ownCommand(), since: new Date().toISOString() };
  const deadline = Date.now() + opts.timeoutMs;
  let seen: string | undefined;
  for (;;) {
    if (opts.signal?.aborted === true) throw new UserError('ABORTED', 'stopped while waiting for the apply lock');
    if (await linkNew(path, me)) return held(path, me);
    const current = await readHolder(path);
    if (current.kind === 'absent') continue; // released between our attempt and the read
    const why = current.kind === 'unreadable' ? 'its holder cannot be read' : staleness(current.holder, probe);
    if (why !== undefined) {
      if (await takeOver(path, current.raw, me, probe)) {
        opts.onTakeover?.(current.kind === 'held' ? current.holder : undefined, why);
        return held(path, me);
      }
      continue;
    }
    const holder = (current as { holder: LockHolder }).holder;
    if (Date.now() >= deadline) throw new LockTimeoutError(path, holder, opts.timeoutMs);
    if (current.raw !== seen) opts.onWait?.(holder);
    seen = current.raw;
    await sleep(Math.min(opts.pollMs ?? 100, Math.max(1, deadline - Date.now())), opts.signal);
  }
}

/** Why a holder no longer holds the lock, or undefined when it still does. */
export function staleness(h: LockHolder, probe: ProcessProbe): string | undefined {
  if (!probe.alive(h.pid)) return `pid ${h.pid} is gone`;
  const now = probe.cmdline(h.pid);
  // A zombie's cmdline is empty: its holder has exited too.
  if (now !== undefined && now !== h.command) return `pid ${h.pid} is now another program (${now === '' ? 'exited' : truncate(now)})`;
  return undefined;
}

export function describeHolder(h: LockHolder, nowMs: number): string {
  const since = Date.parse(h.since);
  const ago = Number.isNaN(since) ? '' : ` (${Math.max(0, Math.round((nowMs - since) / 1000))} s ago)`;
  return `pid ${h.pid} (${truncate(h.command)}) since ${h.since}${ago}`;
}

export const procProbe: ProcessProbe = {
  alive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, not ours to signal
    }
  },
  cmdline(pid) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
    } catch {
      return undefined;
    }
  },
};

function ownCommand(): string {
  return procProbe.cmdline(process.pid) ?? [process.execPath, ...process.execArgv, ...process.argv.slice(1)].join(' ');
}

type Current =
  | { readonly kind: 'absent' }
  | { readonly kind: 'unreadable'; readonly raw: string }
  | { readonly kind: 'held'; readonly raw: string; readonly holder: LockHolder };

async function readHolder(path: string): Promise<Current> {
  let raw: string;
  try {
    raw = await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw e;
  }
  const holder = parseHolder(raw);
  return holder === undefined ? { kind: 'unreadable', raw } : { kind: 'held', raw, holder };
}

export function parseHolder(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockHolder>;
    if (Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.command === 'string' && typeof v.since === 'string') {
      return { pid: v.pid as number, command: v.command, since: v.since };
    }
  } catch {
    // not JSON: unreadable
  }
  return undefined;
}

let tmpCounter = 0;

/** A private temp file next to `path` holding `h`; the caller links or renames it into place. */
async function writeTemp(path: string, h: LockHolder): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${++tmpCounter}.tmp`);
  await fs.writeFile(tmp, `${JSON.stringify(h)}\n`, { mode: LOCK_FILE_MODE, flag: 'w' });
  return tmp;
}

/** Creates `path` holding `h`, complete, unless it exists. */
async function linkNew(path: string, h: LockHolder): Promise<boolean> {
  const tmp = await writeTemp(path, h);
  try {
    await fs.link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/**
 * Replaces a stale lock whose content is `staleRaw` with ours. Under the break lock, the lock is
 * read again: if it changed (someone else took over first, or its holder released it) we do
 * nothing and the caller starts over.
 */
async function takeOver(path: string, staleRaw: string, me: LockHolder, probe: ProcessProbe): Promise<boolean> {
  const breakPath = `${path}.break`;
  if (!(await linkNew(breakPath, me))) {
    const b = await readHolder(breakPath);
    const st = await fs.stat(breakPath).catch(() => undefined);
    const dead = b.kind === 'held' ? staleness(b.holder, probe) !== undefined : true;
    if (dead && st !== undefined && Date.now() - st.mtimeMs > BREAK_STALE_MS) await fs.rm(breakPath, { force: true });
    else await sleep(20);
    return false;
  }
  try {
    const again = await readHolder(path);
    if (again.kind === 'absent' || again.raw !== staleRaw) return false;
    const tmp = await writeTemp(path, me);
    try {
      await fs.rename(tmp, path); // atomic: the lock never goes missing in between
    } catch (e) {
      await fs.rm(tmp, { force: true });
      throw e;
    }
    return true;
  } finally {
    await fs.rm(breakPath, { force: true });
  }
}

function held(path: string, me: LockHolder): HeldLock {
  const mine = `${JSON.stringify(me)}\n`;
  let released = false;
  return {
    path,
    holder: me,
    async release() {
      if (released) return;
      released = true;
      // Only our own lock: if it was (wrongly) taken over, the new holder's lock stays.
      const raw = await fs.readFile(path, 'utf8').catch(() => undefined);
      if (raw === mine) await fs.rm(path, { force: true });
    },
    releaseSync() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
      } catch {
        // already gone
      }
    },
  };
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
