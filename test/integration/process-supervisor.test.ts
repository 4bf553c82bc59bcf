// vm's own process supervisor (no systemd: WSL, containers), driven directly with a temp HOME, a
// stand-in livekit-server and real processes. The CLI wiring is tested elsewhere.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/model.js';
import type { Host } from '../../src/platform/host.js';
import { nodeHost } from '../../src/platform/node-host.js';
import { processSupervisor as sup } from '../../src/platform/supervisors/process.js';
import { setUpLiveKit, SECRET, type LiveKitHome } from '../helpers/livekit-home.js';
import { superviseInChild } from '../helpers/supervise-child.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { waitFor } from '../kit/index.js';

let home: TempHome;
let lk: LiveKitHome;
let svc: ServiceSpec;
let host: Host;
const strays: ChildProcess[] = [];

beforeEach(async () => {
  home = await tempHome();
  lk = await setUpLiveKit({ ...home.env });
  svc = lk.spec('process');
  // Secrets and LIVEKIT_* overrides in vm's own environment must not reach LiveKit.
  host = nodeHost({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...lk.env, LIVEKIT_KEYS: `leak: ${SECRET}`, GITHUB_TOKEN: SECRET });
});

afterEach(async () => {
  // Each stray leads its own process group: `sh -c 'sleep 30; :'` has a child to take down too.
  for (const c of strays.splice(0)) {
    try {
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await home.cleanup(); // kills whatever still runs with cwd or HOME under it
});

const pidFile = async () => JSON.parse(await readFile(svc.pidFile, 'utf8')) as { pid: number; started_at_ms: number; argv: string[]; start_ticks?: number };
const alive = async (pid: number) => {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(s.slice(s.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
};

/** Writes a PID file by hand, as a crash, a reboot or an older vm may have left it. */
async function writePid(content: unknown): Promise<void> {
  await mkdir(dirname(svc.pidFile), { recursive: true, mode: 0o700 });
  await writeFile(svc.pidFile, typeof content === 'string' ? content : JSON.stringify(content), { mode: 0o600 });
}

function stray(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore', detached: true });
  strays.push(c);
  return c;
}

describe('process supervisor', () => {
  it('start from a vm process that exits: LiveKit keeps running, healthy, and a fresh observe finds it', async () => {
    const before = await sup.observe(host, svc);
    expect(before).toMatchObject({ loaded: true, enabled: undefined, running: false, pid: 0, state: 'no pid file' });

    const child = await superviseInChild('process', 'start', svc, { ...host.env } as Record<string, string>);
    expect(child).toMatchObject({ code: 0, stderr: '' });
    await lk.waitHealth();

    const rt = await sup.observe(host, svc);
    const rec = await pidFile();
    expect(rt).toMatchObject({ loaded: true, loadDetail: '', enabled: undefined, running: true, pid: rec.pid, state: `running (pid ${rec.pid})` });
    expect(rt.startedAtMs).toBe(rec.started_at_ms);
    expect(Math.abs(Date.now() - rec.started_at_ms)).toBeLessThan(30_000);
    expect(rec.argv).toEqual([svc.binary, ...svc.args]);
    expect(rec.start_ticks).toBeGreaterThan(0);

    // The PID file is private and was written atomically (no temp files left beside it).
    expect((await stat(svc.pidFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(svc.pidFile))).mode & 0o777).toBe(0o700);
    // Own session, cwd under HOME, stdin /dev/null, output appended to the log, nothing secret inherited.
    const procStat = await readFile(`/proc/${rec.pid}/stat`, 'utf8');
    expect(Number(procStat.slice(procStat.lastIndexOf(')') + 2).split(' ')[3])).toBe(rec.pid); // session id
    expect(await readlink(`/proc/${rec.pid}/cwd`)).toBe(dirname(svc.logFile));
    expect(await readlink(`/proc/${rec.pid}/fd/0`)).toBe('/dev/null');
    expect(await readlink(`/proc/${rec.pid}/fd/1`)).toBe(svc.logFile);
    const environ = await readFile(`/proc/${rec.pid}/environ`, 'utf8');
    expect(environ).not.toContain(SECRET);
    expect(environ).not.toContain('LIVEKIT_KEYS');
    expect(await readFile(`/proc/${rec.pid}/cmdline`, 'utf8')).not.toContain(SECRET);
    expect(await readFile(svc.logFile, 'utf8')).toContain('starting LiveKit server');
  });

  it('start is a no-op while running; restart gives a new pid; stop drains with SIGTERM and removes the pid file', async () => {
    await sup.run(host, svc, 'start');
    await lk.waitHealth();
    const first = (await sup.observe(host, svc)).pid;
    await sup.run(host, svc, 'start');
    expect((await sup.observe(host, svc)).pid).toBe(first);

    await sup.run(host, svc, 'restart');
    const second = await sup.observe(host, svc);
    expect(second.running).toBe(true);
    expect(second.pid).not.toBe(first);
    expect(await alive(first)).toBe(false);
    await lk.waitHealth();

    const t0 = Date.now();
    await sup.run(host, svc, 'stop');
    expect(Date.now() - t0).toBeLessThan(5_000); // the stand-in drains at once; only a hung one waits 10 s
    expect(await alive(second.pid)).toBe(false);
    await expect(stat(svc.pidFile)).rejects.toThrow();
    expect(await sup.observe(host, svc)).toMatchObject({ running: false, pid: 0, state: 'no pid file' });
    expect(await lk.health()).toBe('down');
    expect(await readFile(svc.logFile, 'utf8')).toContain('exit requested, shutting down');
    await sup.run(host, svc, 'stop'); // idempotent
  });

  it('a LiveKit killed with SIGKILL is a stale pid file, and start runs a new one', async () => {
    await sup.run(host, svc, 'start');
    const { pid } = await pidFile();
    process.kill(pid, 'SIGKILL');
    await waitFor(`pid ${pid} to be gone`, async () => !(await alive(pid)), 2_000, 20);
    expect(await sup.observe(host, svc)).toMatchObject({ running: false, pid: 0, state: `stale pid file (pid ${pid} is gone)` });
    await sup.run(host, svc, 'start');
    const rt = await sup.observe(host, svc);
    expect(rt.running).toBe(true);
    expect(rt.pid).not.toBe(pid);
    await lk.waitHealth();
  });

  it('a pid file naming another live program is not mistaken for LiveKit, and stop never signals it', async () => {
    const sleeper = stray('sleep', ['30']);
    await new Promise((r) => sleeper.once('spawn', r));
    const pid = sleeper.pid ?? 0;
    await writePid({ pid, started_at_ms: Date.now(), argv: [svc.binary, ...svc.args] });
    expect(await sup.observe(host, svc)).toMatchObject({ running: false, pid: 0, state: `stale pid file (pid ${pid} is another program: sleep)` });
    await sup.run(host, svc, 'stop');
    expect(await alive(pid)).toBe(true);
    await expect(stat(svc.pidFile)).rejects.toThrow();
  });

  it('a reused pid running the same arguments but started at another time is not ours either', async () => {
    // `sh -c 'sleep 30; :' sh --config <path>`: /proc/PID/cmdline holds our arguments.
    const lookalike = stray('sh', ['-c', 'sleep 30; :', 'sh', ...svc.args]);
    await new Promise((r) => lookalike.once('spawn', r));
    const pid = lookalike.pid ?? 0;
    const argv = [svc.binary, ...svc.args];
    // No start_ticks: wall-clock comparison. Our LiveKit "started" an hour ago; this one just now.
    await writePid({ pid, started_at_ms: Date.now() - 3_600_000, argv });
    expect((await sup.observe(host, svc)).state).toBe(`stale pid file (pid ${pid} is another program: sh)`);
    // With start_ticks (what start() writes on Linux): exact comparison.
    const ticks = Number((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[19]);
    await writePid({ pid, started_at_ms: Date.now(), argv, start_ticks: ticks - 1 });
    expect((await sup.observe(host, svc)).running).toBe(false);
    await writePid({ pid, started_at_ms: Date.now(), argv, start_ticks: ticks });
    expect((await sup.observe(host, svc)).running).toBe(true); // the control: same start, same arguments
    await writePid({ pid, started_at_ms: Date.now() - 3_600_000, argv });
    await sup.run(host, svc, 'stop');
    expect(await alive(pid)).toBe(true);
  });

  it('an unreadable pid file or one naming pid 0 or 1 is reported, never signalled', async () => {
    for (const [content, why] of [
      ['not json', 'not JSON'],
      ['{"pid":0,"started_at_ms":1,"argv":[]}', 'bad pid 0'],
      ['{"pid":1,"started_at_ms":1,"argv":[]}', 'bad pid 1'],
      ['{"pid":-1,"started_at_ms":1,"argv":[]}', 'bad pid -1'],
    ] as const) {
      await writePid(content);
      expect((await sup.observe(host, svc)).state).toBe(`unreadable pid file ${svc.pidFile} (${why})`);
      await sup.run(host, svc, 'stop');
      await expect(stat(svc.pidFile)).rejects.toThrow();
    }
  });

  it('a binary that cannot be started fails the step and writes no pid file', async () => {
    const bad = { ...svc, binary: `${svc.binary}-missing` };
    const err = await sup.run(host, bad, 'start').then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'STEP_FAILED' });
    expect(String((err as Error).message)).toContain('ENOENT');
    await expect(stat(svc.pidFile)).rejects.toThrow();
  });

  it('observe costs a few file reads, no process', async () => {
    await sup.run(host, svc, 'start');
    let execs = 0;
    const counting: Host = { ...host, exec: (...a) => (execs++, host.exec(...a)) };
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) await sup.observe(counting, svc);
    const per = (performance.now() - t0) / 20;
    expect(execs).toBe(0);
    expect(per).toBeLessThan(20);
  });
});
