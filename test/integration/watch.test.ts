// `vm watch` as a person leaves it running: a real child process of the built CLI, with --json
// events read as they come, against a real systemd user manager, the stand-in livekit-server and
// the local release server. Steps build on each other, in order.

import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, readlink, rename, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { freePorts, livekitEntry, ROOT, runVm, servicesFile, spawnVm, standinScript, waitFor } from '../kit/index.js';

const UNIT = 'voicemode-livekit.service';
const SECRET = 'watch-secret-0123456789abcdefghijklmnopqrs';

interface Event {
  ts: string;
  event: string;
  trigger?: string;
  resource?: string;
  action?: string;
  ok?: boolean;
  message?: string;
  duration_ms?: number;
}

let um: UserManager;
let rel: ReleaseServer;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let specPath: string;
let lkDir: string;

/** The file; `broken` adds an unknown key on line 11, column 5. */
function spec(o: { version?: string; end?: number; broken?: boolean; health?: string; port?: number } = {}): string {
  const livekit = livekitEntry({
    version: o.version ?? '1.9.0',
    install: { base_url: rel.baseUrl },
    port: o.port ?? port,
    rtcRange: [55000, o.end ?? 55100],
    tcpPort,
    keys: { watchkey: SECRET },
    health: o.health ?? '4s',
    ...(o.broken === true ? { colour: 'blue' } : {}),
  });
  return servicesFile({ livekit }, { supervisor: 'systemd' });
}

/** Saves like an editor that writes a temp file and renames it over the original. */
async function save(text: string): Promise<void> {
  const tmp = `${specPath}.swp`;
  await writeFile(tmp, text);
  await rename(tmp, specPath);
}

class Watcher {
  readonly events: Event[] = [];
  readonly raw: string[] = [];
  private readonly child: ChildProcess;
  private buf = '';
  constructor(args: string[], extraEnv: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'watch', '--json', '--file', specPath, ...args], { env: { PATH: process.env['PATH'] ?? '', ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.raw.push(line);
        this.events.push(JSON.parse(line) as Event); // every line must parse
      }
    });
  }
  async until(pred: (e: Event) => boolean, timeoutMs = 20_000, from = 0): Promise<Event> {
    const hit = () => this.events.slice(from).find(pred);
    await waitFor(() => `such an event; saw: ${this.raw.slice(from).join('\n')}`, () => hit() !== undefined, timeoutMs);
    return hit() as Event;
  }
  mark(): number {
    return this.events.length;
  }
  get pid(): number {
    return this.child.pid ?? 0;
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const done = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill(signal);
    return done;
  }
}

const unitPid = async () => (await um.systemctl('show', UNIT, '-p', 'MainPID')).stdout.trim().split('=')[1];

describe.skipIf(!userManagerAvailable())('vm watch', () => {
  let w: Watcher | undefined;

  beforeAll(async () => {
    um = await startUserManager();
    [port, tcpPort] = (await freePorts(2)) as [number, number];
    rel = await startReleaseServer({
      releases: [
        { version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) },
        { version: '1.9.2', binary: standinScript({ version: '1.9.2', mode: 'crash' }) },
        { version: '1.9.3', binary: standinScript({ version: '1.9.3', mode: 'never-ready' }) },
      ],
    });
    specPath = `${um.env.HOME}/voicemode.services.yaml`;
    lkDir = `${um.env.HOME}/.voicemode/services/livekit`;
    env = { ...um.env };
    await writeFile(specPath, spec());
  });

  afterEach(async () => {
    await w?.stop();
    w = undefined;
  });

  afterAll(async () => {
    await um?.systemctl('stop', UNIT);
    await um?.stop();
    await rel?.close();
  });

  it('converges on start, then applies a save within moments, one reconcile per save', async () => {
    w = new Watcher(['--interval', '1s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start' && e.ok === true, 30_000);
    expect(await livekitHealth(port)).toBe('200 OK');
    const m = w.mark();
    const t0 = Date.now();
    await save(spec({ end: 55200 }));
    const start = await w.until((e) => e.event === 'reconcile_start' && e.trigger === 'file', 10_000, m);
    expect(Date.parse(start.ts) - t0).toBeLessThan(1_000);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'file', 20_000, m);
    expect(w.events.slice(m).filter((e) => e.event === 'step_done').map((e) => `${e.resource} ${e.action}`)).toEqual(['config update', 'running restart', 'healthy wait-healthy']);
    expect(await readFile(`${lkDir}/livekit.yaml`, 'utf8')).toContain('port_range_end: 55200');
  });

  it('an invalid save is reported with line and column and changes nothing; the next valid save applies', async () => {
    w = new Watcher(['--interval', '5s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const before = await readFile(`${lkDir}/livekit.yaml`, 'utf8');
    const m = w.mark();
    await save(spec({ end: 55300, broken: true }));
    const bad = await w.until((e) => e.event === 'invalid_file', 10_000, m);
    expect(bad.message).toMatch(/voicemode\.services\.yaml:11:5: unknown key "colour"/);
    expect(bad.message).toContain('the last valid file stays in force');
    await new Promise((r) => setTimeout(r, 500));
    expect(await readFile(`${lkDir}/livekit.yaml`, 'utf8')).toBe(before);
    await save(spec({ end: 55300 }));
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'file' && e.ok === true, 20_000, m);
    expect(await readFile(`${lkDir}/livekit.yaml`, 'utf8')).toContain('port_range_end: 55300');
  });

  it('for a person: names the file it found, says 30s, and reports an invalid save once', async () => {
    // A change for the start to apply, so its line shows the watch is following the file.
    await writeFile(specPath, spec({ end: 55350 }));
    // No --file and no --json: the file is the one found from the working directory (HOME).
    const child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'watch'], { cwd: um.env.HOME, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const seen = (re: RegExp, from = 0) => waitFor(() => `${re}; watch said:\n${out}`, () => re.test(out.slice(from)), 30_000);
    try {
      await seen(/watching \S+ \(found searching from the working directory\); resync every 30s\n/);
      expect(out).toContain(`watching ${specPath} (found`);
      await seen(/reconcile \(start\): config update, running restart, healthy wait-healthy — ok in \d+ ms\n/);
      const m = out.length;
      await save(spec({ end: 55360, broken: true }));
      await seen(/unknown key "colour"/, m);
      // The same problems again (an editor's second write of one save): not said twice.
      await writeFile(specPath, spec({ end: 55360, broken: true }));
      await new Promise((r) => setTimeout(r, 1_500));
      await save(spec({ end: 55360 }));
      await seen(/reconcile \(file\): config update, running restart, healthy wait-healthy — ok/, m);
      expect(out.slice(m).match(/unknown key "colour"/g)).toHaveLength(1);
      expect(out).not.toContain('30000 ms');
    } finally {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
  });

  it('a burst of 20 saves ends in one reconcile of the last content', async () => {
    // A debounce far longer than the gaps between saves, even on a loaded machine (at 200 ms, a
    // save delayed past it once reconciled the 19th content first).
    w = new Watcher(['--interval', '30s', '--debounce', '2s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const m = w.mark();
    for (let i = 1; i <= 20; i++) {
      await save(spec({ end: 55400 + i }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'file', 20_000, m);
    await new Promise((r) => setTimeout(r, 2_500)); // a second reconcile would have started by now
    expect(w.events.slice(m).filter((e) => e.event === 'reconcile_start' && e.trigger === 'file')).toHaveLength(1);
    expect(await readFile(`${lkDir}/livekit.yaml`, 'utf8')).toContain('port_range_end: 55420');
  });

  it('resync heals drift: a stopped service, a killed process, a hand-edited config', async () => {
    w = new Watcher(['--interval', '1s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    let m = w.mark();
    await um.systemctl('stop', UNIT);
    await w.until((e) => e.event === 'drift', 10_000, m);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'interval' && e.ok === true, 20_000, m);
    expect(await livekitHealth(port)).toBe('200 OK');

    m = w.mark();
    const pid = Number(await unitPid());
    expect(pid).toBeGreaterThan(1);
    process.kill(pid, 'SIGKILL');
    // Healed either by the watch's next resync or, under load, first by the unit's own
    // Restart=always (2 s): both are right, so this asserts the outcome. The watch noticing a
    // dead process by itself is proven above (stopped) and with the process supervisor.
    const raw = w.raw;
    await waitFor(
      () => `LiveKit healed after SIGKILL; watch said: ${raw.slice(m).join('\n')}`,
      async () => (await livekitHealth(port)) === '200 OK' && Number(await unitPid()) > 1 && Number(await unitPid()) !== pid,
      20_000,
      100,
    );
    expect(w.events.slice(m).filter((e) => e.event === 'reconcile_done' && e.ok === false)).toEqual([]);

    m = w.mark();
    const cfg = `${lkDir}/livekit.yaml`;
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace('empty_timeout: 300', 'empty_timeout: 1'));
    await w.until((e) => e.event === 'drift', 10_000, m);
    // A reconcile already under way (the kill above) may end first: wait for the outcome.
    await waitFor('the watch to restore the config', async () => (await readFile(cfg, 'utf8')).includes('empty_timeout: 300'), 20_000);
    expect((await readdir(lkDir)).some((f) => f.startsWith('livekit.yaml.vm-backup-'))).toBe(true);
  });

  it('a version that crashes and is rolled back is not retried every resync: held back until the file is saved again', async () => {
    w = new Watcher(['--interval', '500ms']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const downloads = () => rel.requests.filter((r) => r.startsWith('/download/v1.9.2/livekit_1.9.2_')).length;
    const record = `${um.env.HOME}/.voicemode/state/failed-livekit.json`;
    const resyncs = (n: number, from: number) =>
      waitFor(
        () => `${n} resyncs; saw: ${w?.raw.slice(from).join('\n')}`,
        () => w === undefined || w.events.slice(from).filter((e) => e.event === 'reconcile_start' && e.trigger === 'interval').length >= n,
        30_000,
      );
    const m = w.mark();
    try {
      await save(spec({ version: '1.9.2', end: 55420 }));
      const held = await w.until((e) => e.event === 'held_back', 60_000, m);
      expect(held.message).toMatch(/^livekit: 1\.9\.2 failed its health check at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d and was rolled back/);
      expect(w.events.slice(m).filter((e) => e.event === 'step_failed').map((e) => `${e.resource} ${e.action}`)).toEqual(['healthy wait-healthy']);
      expect(downloads()).toBe(1);
      expect(await livekitHealth(port)).toBe('200 OK');
      const working = await unitPid();

      // Several resyncs later: no restart of the working LiveKit, no second download, one message.
      const h = w.mark();
      await resyncs(5, h);
      expect(downloads()).toBe(1);
      expect(await unitPid()).toBe(working);
      expect(w.events.slice(h).filter((e) => e.event !== 'reconcile_start')).toEqual([]);
      expect(w.events.slice(m).filter((e) => e.event === 'held_back')).toHaveLength(1);

      const p = await runVm(['plan', '--file', specPath], env);
      expect(p.stdout).toMatch(/note: 1\.9\.2 failed its health check at .* and was rolled back; `[^`]*vm(\.cjs)? apply` will try again/);
      expect(p.stdout).toContain('version 1.9.0 → 1.9.2');
      // The version that never ran healthy is not kept; the record is private and names no secret.
      expect(await readdir(`${lkDir}/versions`)).toEqual(['1.9.0']);
      expect((await stat(record)).mode & 0o777).toBe(0o600);
      expect(await readFile(record, 'utf8')).not.toContain(SECRET);

      // A save is a new request: the watch tries (downloads) again, fails, holds back again.
      const e = w.mark();
      await save(spec({ version: '1.9.2', end: 55430 }));
      await w.until((ev) => ev.event === 'held_back', 60_000, e);
      expect(w.events.slice(e).filter((ev) => ev.event === 'step_failed')).toHaveLength(1);
      expect(downloads()).toBe(2);
      expect(await livekitHealth(port)).toBe('200 OK');

      // A change that works converges, and that clears the record.
      const f = w.mark();
      await save(spec({ end: 55440 }));
      await w.until((ev) => ev.event === 'reconcile_done' && ev.trigger === 'file' && ev.ok === true, 30_000, f);
      expect(await stat(record).then(() => 'there', () => 'gone')).toBe('gone');
    } finally {
      // Whatever happened above, the next tests start from a valid, healthy file.
      await writeFile(specPath, spec({ end: 55420 }));
    }
  });

  it('a change that keeps failing backs off and gives up, never a tight loop; an edit tries again', async () => {
    // A foreign listener on the new port blocks the change on every attempt.
    const blocker: Server = createServer();
    const [busy] = (await freePorts(1)) as [number];
    await new Promise<void>((r) => blocker.listen(busy, '127.0.0.1', r));
    w = new Watcher(['--interval', '500ms', '--max-failures', '3']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const m = w.mark();
    try {
      await save(spec({ port: busy, end: 55420 }));
      const gave = await w.until((e) => e.event === 'gave_up', 60_000, m);
      expect(gave.message).toContain('failed 3 times in a row');
      // Each attempt at the change ends in a failed reconcile (no-op resyncs before the save was
      // noticed are not attempts).
      const attempts = w.events.slice(m).filter((e) => e.event === 'reconcile_done' && e.ok === false);
      expect(attempts, w.raw.slice(m).join('\n')).toHaveLength(3);
      expect(attempts[0]?.message).toContain(`port ${busy} is in use by pid ${process.pid}`);
      const gaps = attempts.slice(1).map((e, i) => Date.parse(e.ts) - Date.parse(attempts[i]?.ts ?? e.ts));
      expect(gaps[1] ?? 0).toBeGreaterThan(gaps[0] ?? 0); // exponential, not a tight loop
      expect(await livekitHealth(port)).toBe('200 OK'); // nothing changed
      const after = w.mark();
      await new Promise((r) => setTimeout(r, 2_000));
      expect(w.events.slice(after).filter((e) => e.event === 'reconcile_start')).toHaveLength(0);
      await save(spec({ end: 55420 }));
      await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'file' && e.ok === true, 20_000, after);
    } finally {
      blocker.close();
      await writeFile(specPath, spec({ end: 55420 }));
    }
  });

  it('a log past its size is rotated on the next cycle, without restarting LiveKit', async () => {
    w = new Watcher(['--interval', '500ms'], { VOICEMODE_LOG_MAX_BYTES: '4096' });
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const log = `${um.env.HOME}/.voicemode/logs/livekit/livekit.log`;
    const pid = await unitPid();
    await writeFile(log, `${'x'.repeat(100)}\n`.repeat(100), { flag: 'a' });
    const m = w.mark();
    const ev = await w.until((e) => e.event === 'log_rotated', 10_000, m);
    expect(ev.message).toContain(`rotated ${log}`);
    expect((await readFile(`${log}.1`, 'utf8')).length).toBeGreaterThan(4096);
    expect(await unitPid()).toBe(pid);
    expect(await livekitHealth(port)).toBe('200 OK');
  });

  it('SIGTERM exits 0 and leaves LiveKit running; every --json line parsed', async () => {
    w = new Watcher(['--interval', '1s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const pid = await unitPid();
    // SIGHUP: re-read the file now.
    const m = w.mark();
    process.kill(w.pid, 'SIGHUP');
    await w.until((e) => e.event === 'reconcile_start' && e.trigger === 'signal', 10_000, m);
    expect(await w.stop('SIGTERM')).toBe(0);
    expect(w.events.at(-1)?.event).toBe('watch_stop');
    expect(await unitPid()).toBe(pid);
    expect(await livekitHealth(port)).toBe('200 OK');
    expect(w.raw.join('\n')).not.toContain(SECRET);
  });

  it('a manual vm apply works while a watch runs (the lock is held only while applying)', async () => {
    w = new Watcher(['--interval', '30s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    await writeFile(specPath, spec({ end: 55500 }));
    const r = await runVm(['apply', '--yes', '--file', specPath], env);
    expect(r.code).toBe(0);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'file');
    expect((await runVm(['plan', '--detailed-exitcode', '--file', specPath], env)).code).toBe(0);
  });

  it('a save and two concurrent vm apply while a watch runs restart LiveKit exactly once', async () => {
    // The race as it was reported: the watch plans from the machine before the change, waits for
    // the lock while an apply makes the change, then gets the lock. A long debounce and an apply
    // that holds the lock a while before it looks (VM_TEST_HOLD_LOCK_MS) make that order certain.
    w = new Watcher(['--interval', '30s', '--debounce', '3s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const log = `${um.env.HOME}/.voicemode/logs/livekit/livekit.log`;
    // One "starting LiveKit server" line per process start, however short-lived.
    const starts = async () => (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('starting LiveKit server')).length;
    const lock = `${um.env.HOME}/.voicemode/state/apply.lock`;
    const holderPid = () => readFile(lock, 'utf8').then((t) => (JSON.parse(t) as { pid: number }).pid, () => undefined);
    const before = await starts();
    const pid = await unitPid();
    const m = w.mark();
    const saved = Date.now();
    await save(spec({ end: 55600 })); // a change that needs a restart
    const first = spawnVm(['apply', '--yes', '--lock-timeout', '60s', '--file', specPath], { ...env, VM_TEST_HOLD_LOCK_MS: '4000' });
    await waitFor(
      () => `the first apply to take the lock before the watch's debounce ended: ${first.stdout()}${first.stderr()}`,
      async () => (await holderPid()) === first.pid,
      saved + 2_500 - Date.now(),
      20,
    );
    const second = spawnVm(['apply', '--yes', '--lock-timeout', '60s', '--file', specPath], env);
    // The watch has planned from the machine before the change, and waits.
    const waited = await w.until((e) => e.event === 'lock_wait', 10_000, m);
    expect(waited.message).toContain(`held by pid ${first.pid}`);
    const [a, b] = await Promise.all([first.done, second.done]);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'file', 30_000, m);
    const told = `watch said:\n${w.raw.slice(m).join('\n')}\napply 1:\n${a.stdout}${a.stderr}\napply 2:\n${b.stdout}${b.stderr}`;
    expect([a.code, b.code], told).toEqual([0, 0]);
    await new Promise((r) => setTimeout(r, 1_000)); // a late second restart would have shown by now
    expect(await starts(), told).toBe(before + 1);
    expect(a.stdout, told).toMatch(/running +restart .* done/);
    expect(b.stdout, told).toContain('Nothing left to do: the machine converged while this apply waited');
    expect(w.events.slice(m).filter((e) => e.event === 'step_start'), told).toEqual([]);
    expect(w.events.slice(m).find((e) => e.event === 'reconcile_done' && e.trigger === 'file')).toMatchObject({ ok: true, message: expect.stringContaining('converged while this reconcile waited') });
    expect(await unitPid()).not.toBe(pid);
    expect(await livekitHealth(port)).toBe('200 OK');
    expect((await runVm(['plan', '--detailed-exitcode', '--file', specPath], env)).code).toBe(0);
  });

  it('SIGINT during an apply says "stopping after this step…" at once, cuts the health wait short and rolls back', async () => {
    w = new Watcher(['--interval', '30s']);
    await w.until((e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const active = async () => (await readlink(`${lkDir}/livekit-server`)).split('/').at(-2);
    const was = await active();
    try {
      const m = w.mark();
      // A version that never becomes ready, with a health timeout only the signal can beat.
      await save(spec({ version: '1.9.3', end: 55600, health: '60s' }));
      await w.until((e) => e.event === 'step_start' && e.action === 'wait-healthy', 30_000, m);
      const sent = Date.now();
      const exit = w.stop('SIGINT');
      const stopping = await w.until((e) => e.event === 'watch_stopping', 5_000, m);
      expect(stopping.message).toBe('stopping after this step… (Ctrl-C again to skip the rollback)');
      expect(Date.parse(stopping.ts) - sent).toBeLessThan(2_000);
      expect(await exit).toBe(0);
      expect(Date.now() - sent).toBeLessThan(30_000);
      const done = w.events.slice(m).find((e) => e.event === 'reconcile_done' && e.trigger === 'file');
      expect(done?.ok).toBe(false);
      expect(done?.message).toMatch(/interrupted \(Ctrl-C\) during step .*wait-healthy\); rolled back to the previous binary, config and unit: .*healthy again/);
      expect(w.events.at(-1)?.event).toBe('watch_stop');
      expect(await active()).toBe(was);
      expect(await livekitHealth(port)).toBe('200 OK');
      expect(await stat(`${um.env.HOME}/.voicemode/state/apply.lock`).then(() => true, () => false)).toBe(false);
    } finally {
      await writeFile(specPath, spec({ end: 55600 }));
    }
  });

  it('--install-service runs vm watch itself under systemd; --uninstall-service removes it and leaves LiveKit running', async () => {
    const inst = await runVm(['watch', '--install-service', '--file', specPath], env);
    expect(inst.stderr).toBe('');
    expect(inst.code).toBe(0);
    const unit = await readFile(`${um.env.XDG_CONFIG_HOME}/systemd/user/voicemode-watch.service`, 'utf8');
    expect(unit).toContain(`watch" "--file" "${specPath}"`);
    expect(unit).not.toContain(SECRET);
    const active = async () => (await um.systemctl('is-active', 'voicemode-watch.service')).stdout.trim();
    expect(await active()).toBe('active');
    expect((await um.systemctl('is-enabled', 'voicemode-watch.service')).stdout.trim()).toBe('enabled');
    const un = await runVm(['watch', '--uninstall-service', '--file', specPath], env);
    expect(un.code).toBe(0);
    expect(await active()).not.toBe('active');
    expect(await livekitHealth(port)).toBe('200 OK');
  });
});

describe.skipIf(!userManagerAvailable())('the apply lock', () => {
  let um2: UserManager;
  let rel2: ReleaseServer;
  let e2: Record<string, string>;
  let file: string;
  beforeAll(async () => {
    um2 = await startUserManager();
    rel2 = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
    const [p, t] = (await freePorts(2)) as [number, number];
    file = `${um2.env.HOME}/voicemode.services.yaml`;
    await writeFile(file, servicesFile({ livekit: livekitEntry({ version: '1.9.0', install: { base_url: rel2.baseUrl }, port: p, tcpPort: t }) }));
    e2 = { ...um2.env, VOICEMODE_SERVICES_FILE: file };
  });
  afterAll(async () => {
    await um2?.systemctl('stop', UNIT);
    await um2?.stop();
    await rel2?.close();
  });

  it('two concurrent applies: one waits for the other, both end converged, no interleaved writes', async () => {
    const [a, b] = await Promise.all([runVm(['apply', '--yes'], e2), runVm(['apply', '--yes'], e2)]);
    expect(a.code, a.stdout + a.stderr).toBe(0);
    expect(b.code, b.stdout + b.stderr).toBe(0);
    const waited = [a, b].filter((r) => r.stderr.includes('waiting for the apply lock'));
    expect(waited).toHaveLength(1);
    // The one that waited observed again and found nothing left to do: no step ran twice.
    expect(waited[0]?.stdout).toContain('Nothing left to do: the machine converged while this apply waited');
    expect((await runVm(['plan', '--detailed-exitcode'], e2)).code).toBe(0);
  });

  it('a stale lock left by a dead process is taken over', async () => {
    const lock = `${um2.env.HOME}/.voicemode/state/apply.lock`;
    await writeFile(lock, `${JSON.stringify({ pid: 2 ** 22 + 12345, command: 'vm apply', since: '2026-01-01T00:00:00.000Z' })}\n`);
    await um2.systemctl('stop', UNIT);
    const r = await runVm(['apply', '--yes', '--lock-timeout', '2s'], e2);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('waiting for the apply lock');
    await expect(readFile(lock)).rejects.toThrow(); // released
  });

  it('a live holder makes apply wait, then give up naming it', async () => {
    const lock = `${um2.env.HOME}/.voicemode/state/apply.lock`;
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const cmd = (await readFile(`/proc/${holder.pid}/cmdline`, 'utf8')).split('\0').filter(Boolean).join(' ');
      await writeFile(lock, `${JSON.stringify({ pid: holder.pid, command: cmd, since: '2026-01-01T00:00:00.000Z' })}\n`);
      await um2.systemctl('stop', UNIT);
      const r = await runVm(['apply', '--yes', '--lock-timeout', '1s'], e2);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`another vm is applying: the apply lock ${lock} is held by pid ${holder.pid} (sleep 30) since 2026-01-01T00:00:00.000Z`);
    } finally {
      holder.kill('SIGKILL');
      await writeFile(lock, '').then(() => import('node:fs/promises').then((f) => f.rm(lock, { force: true })));
    }
  });
});
