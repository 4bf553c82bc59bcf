// The apply lock, on real files in a temp dir. Staleness is decided with a probe of plain objects.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, describeHolder, LockTimeoutError, parseHolder, procProbe, staleness, type LockHolder, type ProcessProbe } from '../../src/platform/lock.js';

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vm-lock-'));
  path = join(dir, 'state', 'apply.lock');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const holder = (over: Partial<LockHolder> = {}): LockHolder => ({ pid: 4242, command: 'node /x/bin/vm.cjs apply --yes', since: '2025-05-01T10:00:00.000Z', ...over });
const probe = (alive: boolean, cmdline?: string): ProcessProbe => ({ alive: () => alive, cmdline: () => cmdline });

describe('staleness', () => {
  it('a live holder with the same command line holds the lock', () => {
    expect(staleness(holder(), probe(true, 'node /x/bin/vm.cjs apply --yes'))).toBeUndefined();
    expect(staleness(holder(), probe(true, undefined))).toBeUndefined(); // no /proc: trust the pid
  });
  it('a dead pid, a pid reused by another program, or a zombie does not', () => {
    expect(staleness(holder(), probe(false))).toBe('pid 4242 is gone');
    expect(staleness(holder(), probe(true, '/usr/bin/vim notes.txt'))).toBe('pid 4242 is now another program (/usr/bin/vim notes.txt)');
    expect(staleness(holder(), probe(true, ''))).toMatch(/exited/);
  });
  it('the real probe sees this process alive with its own command line, and a made-up pid gone', () => {
    expect(procProbe.alive(process.pid)).toBe(true);
    expect(procProbe.cmdline(process.pid)).toContain('node');
    expect(procProbe.alive(2 ** 22 + 12345)).toBe(false);
  });
});

describe('acquire and release', () => {
  it('writes the holder as JSON {pid, command, since}, and release removes it', async () => {
    const lock = await acquireLock(path, { timeoutMs: 0 });
    const h = parseHolder(await readFile(path, 'utf8'));
    expect(h?.pid).toBe(process.pid);
    expect(h?.command).toBe(procProbe.cmdline(process.pid));
    expect(Date.parse(h?.since ?? '')).toBeGreaterThan(Date.now() - 5_000);
    await lock.release();
    await expect(readFile(path)).rejects.toThrow();
    await lock.release(); // idempotent
  });

  it('a second acquirer waits, says who holds it, and times out naming the holder', async () => {
    const first = await acquireLock(path, { timeoutMs: 0 });
    const seen: LockHolder[] = [];
    const t0 = Date.now();
    const err = await acquireLock(path, { timeoutMs: 300, pollMs: 20, onWait: (h) => seen.push(h) }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(err).toBeInstanceOf(LockTimeoutError);
    expect((err as Error).message).toContain(`held by pid ${process.pid} (`);
    expect((err as Error).message).toContain(`since ${first.holder.since}`);
    expect(seen).toHaveLength(1);
    await first.release();
  });

  it('the waiter gets the lock as soon as it is released', async () => {
    const first = await acquireLock(path, { timeoutMs: 0 });
    setTimeout(() => void first.release(), 100);
    const second = await acquireLock(path, { timeoutMs: 5_000, pollMs: 10 });
    expect(second.holder.pid).toBe(process.pid);
    await second.release();
  });

  it('a stale lock (dead holder, or garbage) is taken over at once', async () => {
    const first = await acquireLock(path, { timeoutMs: 0 });
    first.releaseSync();
    await writeFile(path, JSON.stringify(holder()));
    const why: string[] = [];
    const lock = await acquireLock(path, { timeoutMs: 0, onTakeover: (_h, w) => why.push(w) }, probe(false));
    expect(why).toEqual(['pid 4242 is gone']);
    expect(parseHolder(await readFile(path, 'utf8'))?.pid).toBe(process.pid);
    await lock.release();
    await writeFile(path, 'not json');
    const again = await acquireLock(path, { timeoutMs: 0 });
    await again.release();
  });

  it('release leaves a lock that is no longer ours', async () => {
    const lock = await acquireLock(path, { timeoutMs: 0 });
    await writeFile(path, JSON.stringify(holder()));
    await lock.release();
    expect(parseHolder(await readFile(path, 'utf8'))?.pid).toBe(4242);
  });

  it('many contenders, some finding a stale lock: never two holders at once', async () => {
    await acquireLock(path, { timeoutMs: 0 }).then((l) => l.release());
    await writeFile(path, JSON.stringify(holder()));
    // The stale holder is pid 4242 (dead per the probe); live contenders are this process.
    const p: ProcessProbe = { alive: (pid) => pid !== 4242, cmdline: (pid) => (pid === 4242 ? undefined : procProbe.cmdline(pid)) };
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const l = await acquireLock(path, { timeoutMs: 10_000, pollMs: 5 }, p);
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 10));
        inside--;
        await l.release();
      }),
    );
    expect(most).toBe(1);
  });

  it('describes a holder for a person', () => {
    expect(describeHolder(holder(), Date.parse('2025-05-01T10:00:30.000Z'))).toBe('pid 4242 (node /x/bin/vm.cjs apply --yes) since 2025-05-01T10:00:00.000Z (30 s ago)');
  });
});
