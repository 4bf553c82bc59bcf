// The apply lock: only one vm changes the machine at a time. A file created with O_EXCL under
// $VOICEMODE_HOME/state holds its holder (pid, command, since). `vm plan`/`vm status` never take
// it; `vm watch` takes it only while applying, so a manual `vm apply` during a watch works.
//
// A lock whose holder is gone is taken over. "Gone" means the PID is dead, or it now belongs to
// another program (PIDs are reused): on Linux the holder's command line is compared.

import { constants, readFileSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../errors.js';

export interface LockHolder {
  readonly pid: number;
  readonly command: string;
  /** ISO time the lock was taken. */
  readonly since: string;
}

export interface LockOptions {
  readonly timeoutMs: number;
  /** Called once when the lock is busy and we start waiting. */
  readonly onWait?: (holder: LockHolder) => void;
  readonly pollMs?: number;
}

export type Release = () => Promise<void>;

export async function acquireLock(file: string, opts: LockOptions): Promise<Release> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const me: LockHolder = { pid: process.pid, command: commandOf(process.pid) ?? process.argv.join(' '), since: new Date().toISOString() };
  const body = `${JSON.stringify(me)}\n`;
  const deadline = Date.now() + opts.timeoutMs;
  let told = false;
  for (;;) {
    if (await tryCreate(file, body)) return () => releaseIfOurs(file, body);
    const holder = await readHolder(file);
    if (holder === undefined || !alive(holder)) {
      // Stale (or unreadable half-written): take it over. Unlink only what we read, so two
      // processes taking over at once cannot remove each other's fresh lock.
      await unlinkIfUnchanged(file, holder);
      continue;
    }
    if (!told) {
      opts.onWait?.(holder);
      told = true;
    }
    if (Date.now() >= deadline) {
      throw new UserError('LOCKED', `another vm is changing this machine: pid ${holder.pid} (${holder.command}), since ${holder.since}`, `waited ${Math.round(opts.timeoutMs / 1000)}s; try again when it is done, or raise --lock-timeout`);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
}

export async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const j = JSON.parse(await readFile(file, 'utf8')) as Partial<LockHolder>;
    return typeof j.pid === 'number' && typeof j.command === 'string' && typeof j.since === 'string' ? { pid: j.pid, command: j.command, since: j.since } : undefined;
  } catch {
    return undefined;
  }
}

async function tryCreate(file: string, body: string): Promise<boolean> {
  try {
    const fh = await open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

function alive(h: LockHolder): boolean {
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = commandOf(h.pid);
  // No /proc (macOS): a live PID is taken as the holder.
  return now === undefined || now === h.command;
}

function commandOf(pid: number): string | undefined {
  try {
    // Synchronous on purpose: a tiny file, and the answer must describe this very moment.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}

async function releaseIfOurs(file: string, body: string): Promise<void> {
  try {
    if ((await readFile(file, 'utf8')) === body) await unlink(file);
  } catch {
    // already gone
  }
}

async function unlinkIfUnchanged(file: string, seen: LockHolder | undefined): Promise<void> {
  const now = await readHolder(file);
  if (JSON.stringify(now) === JSON.stringify(seen)) await unlink(file).catch(() => undefined);
}
