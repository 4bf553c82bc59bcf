// The launchd adapter and the LaunchAgent plist. launchctl is faked (test/fixtures/fake-launchctl:
// a state directory, and the plist's program really run), so the stand-in answers real health checks.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/model.js';
import type { Host } from '../../src/platform/host.js';
import { nodeHost } from '../../src/platform/node-host.js';
import { launchdSupervisor as sup } from '../../src/platform/supervisors/launchd.js';
import { LAUNCHD_PATH, renderPlist } from '../../src/resources/plist.js';
import { fakeLaunchctl, type FakeBin } from '../helpers/fakes.js';
import { setUpLiveKit, type LiveKitHome } from '../helpers/livekit-home.js';
import { parsePlist } from '../helpers/plist.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { waitFor } from '../kit/index.js';

const HOSTILE = `v m & <b> "dq" 'sq'`;

describe('renderPlist', () => {
  const hostile: ServiceSpec = {
    name: 'livekit',
    label: 'com.voicemode.livekit',
    binary: `/Users/a & b/<lk> "x" 'y'/livekit-server`,
    args: ['--config', `/Users/a & b/c <&> "q".yaml`],
    logFile: `/Users/a & b/logs/it's "here".log`,
    definitionFile: '/Users/a & b/Library/LaunchAgents/com.voicemode.livekit.plist',
    pidFile: '/Users/a & b/.voicemode/run/livekit.pid',
    autostart: true,
  };

  it('survives &, <, quotes and spaces: plistlib reads back exactly the values given', () => {
    const p = parsePlist(renderPlist(hostile));
    expect(p['Label']).toBe(hostile.label);
    expect(p['ProgramArguments']).toEqual([hostile.binary, ...hostile.args]);
    expect(p['StandardOutPath']).toBe(hostile.logFile);
    expect(p['StandardErrorPath']).toBe(hostile.logFile);
    expect(p['KeepAlive']).toBe(true);
    expect(p['RunAtLoad']).toBe(true);
    const path = (p['EnvironmentVariables'] as Record<string, string>)['PATH'] ?? '';
    expect(path.split(':')).toContain('/opt/homebrew/bin');
    expect(path).toBe(LAUNCHD_PATH);
  });

  it('RunAtLoad follows autostart', () => {
    expect(parsePlist(renderPlist({ ...hostile, autostart: false }))['RunAtLoad']).toBe(false);
  });

  it('refuses a control character rather than writing it', () => {
    expect(() => renderPlist({ ...hostile, logFile: '/a\u0001b' })).toThrow(/control character/);
  });
});

describe('launchd supervisor (fake launchctl)', () => {
  let home: TempHome;
  let lk: LiveKitHome;
  let fake: FakeBin;
  let host: Host;
  let svc: ServiceSpec;
  let T: string; // gui/UID/label
  let D: string; // gui/UID

  beforeEach(async () => {
    home = await tempHome();
    fake = await fakeLaunchctl(home.root);
    lk = await setUpLiveKit({ ...home.env }, { voicemodeHome: join(home.env.HOME, HOSTILE) });
    host = nodeHost({ ...lk.env, ...fake.env });
    svc = lk.spec('launchd');
    await writePlist(svc);
    D = `gui/${process.getuid?.() ?? 0}`;
    T = `${D}/${svc.label}`;
  });

  afterEach(async () => {
    await host.exec('launchctl', ['bootout', T]);
    await home.cleanup();
  });

  async function writePlist(s: ServiceSpec): Promise<void> {
    const file = s.definitionFile ?? '';
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, renderPlist(s));
  }

  it('start bootstraps the plist and kickstarts it; LiveKit runs and is healthy', async () => {
    expect(await sup.observe(host, svc)).toMatchObject({ loaded: true, loadDetail: '', enabled: true, running: false, pid: 0, startedAtMs: undefined, state: 'not loaded (launchd does not know the service)' });
    expect((await fake.calls()).sort()).toEqual([`print ${T}`, `print-disabled ${D}`]);

    await sup.run(host, svc, 'start');
    expect(await fake.calls()).toEqual([`print ${T}`, `print-disabled ${D}`, `bootstrap ${D} ${svc.definitionFile}`, `kickstart ${T}`]);
    const rt = await sup.observe(host, svc);
    expect(rt).toMatchObject({ loaded: true, enabled: true, running: true, state: `running (pid ${rt.pid})` });
    expect(rt.pid).toBeGreaterThan(0);
    await lk.waitHealth();
    expect(await readFile(svc.logFile, 'utf8')).toContain('starting LiveKit server');

    await fake.calls();
    await sup.run(host, svc, 'start'); // idempotent: already loaded, kickstart without -k leaves it alone
    expect(await fake.calls()).toEqual([`print ${T}`, `kickstart ${T}`]);
    expect((await sup.observe(host, svc)).pid).toBe(rt.pid);
  });

  it('restart is kickstart -k: a new pid, healthy again', async () => {
    await sup.run(host, svc, 'start');
    const before = (await sup.observe(host, svc)).pid;
    await fake.calls();
    await sup.run(host, svc, 'restart');
    expect(await fake.calls()).toEqual([`print ${T}`, `kickstart -k ${T}`]);
    const after = await sup.observe(host, svc);
    expect(after.running).toBe(true);
    expect(after.pid).not.toBe(before);
    await lk.waitHealth();
  });

  it('stop boots the service out (KeepAlive would restart a killed process); stop again is a no-op', async () => {
    await sup.run(host, svc, 'start');
    await lk.waitHealth();
    await fake.calls();
    await sup.run(host, svc, 'stop');
    expect(await fake.calls()).toEqual([`print ${T}`, `bootout ${T}`, `print ${T}`]);
    expect(await sup.observe(host, svc)).toMatchObject({ loaded: true, running: false, pid: 0 });
    expect(await lk.health()).toBe('down');
    await fake.calls();
    await sup.run(host, svc, 'stop');
    expect(await fake.calls()).toEqual([`print ${T}`]);
  });

  it('disable and enable are launchctl overrides, reflected in observe', async () => {
    await sup.run(host, svc, 'disable');
    expect(await fake.calls()).toEqual([`disable ${T}`]);
    expect((await sup.observe(host, svc)).enabled).toBe(false);
    await sup.run(host, svc, 'enable');
    expect((await sup.observe(host, svc)).enabled).toBe(true);
    // Without the plist in LaunchAgents nothing starts at login, override or not.
    await rm(svc.definitionFile ?? '');
    expect((await sup.observe(host, svc)).enabled).toBe(false);
  });

  it('autostart: false runs now but stays disabled, so launchd does not load it at login', async () => {
    const off = { ...svc, autostart: false };
    await writePlist(off);
    await fake.calls();
    // A plist that is not loaded: reload only sets the override (KeepAlive would start it at login).
    await sup.run(host, off, 'reload');
    expect(await fake.calls()).toEqual([`print ${T}`, `print-disabled ${D}`, `disable ${T}`]);
    expect(await sup.observe(host, off)).toMatchObject({ enabled: false, running: false });

    // launchd refuses to bootstrap a disabled service: the override is lifted for the bootstrap only.
    await fake.calls();
    await sup.run(host, off, 'start');
    expect(await fake.calls()).toEqual([`print ${T}`, `print-disabled ${D}`, `enable ${T}`, `bootstrap ${D} ${svc.definitionFile}`, `disable ${T}`, `kickstart ${T}`]);
    expect(await sup.observe(host, off)).toMatchObject({ loaded: true, enabled: false, running: true });
    await lk.waitHealth();

    // Back to autostart: true: the reload that follows the plist write enables it again.
    await writePlist(svc);
    await sup.run(host, svc, 'reload');
    expect(await sup.observe(host, svc)).toMatchObject({ loaded: true, enabled: true, running: true });
  });

  it('an edited plist is seen as not loaded; reload boots out and bootstraps the new one', async () => {
    await sup.run(host, svc, 'start');
    await lk.waitHealth();
    const oldPid = (await sup.observe(host, svc)).pid;

    const moved = { ...svc, logFile: join(dirname(svc.logFile), 'moved.log') };
    await writePlist(moved);
    expect(await sup.observe(host, moved)).toMatchObject({ loaded: false, loadDetail: 'launchd has an older copy of the plist', running: true });

    await fake.calls();
    await sup.run(host, moved, 'reload');
    expect(await fake.calls()).toEqual([`print ${T}`, `bootout ${T}`, `print ${T}`, `print-disabled ${D}`, `bootstrap ${D} ${svc.definitionFile}`]);
    const rt = await sup.observe(host, moved);
    expect(rt).toMatchObject({ loaded: true, loadDetail: '', running: true });
    expect(rt.pid).not.toBe(oldPid);
    await lk.waitHealth();
    expect(await readFile(moved.logFile, 'utf8')).toContain('starting LiveKit server');
  });

  it('reload leaves a stopped service stopped; its next start uses the plist on disk', async () => {
    await sup.run(host, svc, 'reload');
    expect(await fake.calls()).toEqual([`print ${T}`, `print-disabled ${D}`]); // the override already matches autostart
    expect((await sup.observe(host, svc)).running).toBe(false);
  });

  it('a service bootstrapped by someone else (no record of what vm loaded) is not trusted as loaded', async () => {
    expect((await host.exec('launchctl', ['bootstrap', D, svc.definitionFile ?? ''])).code).toBe(0);
    expect(await sup.observe(host, svc)).toMatchObject({ loaded: false, loadDetail: 'launchd holds a copy of the plist that vm did not load' });
    await sup.run(host, svc, 'reload');
    expect((await sup.observe(host, svc)).loaded).toBe(true);
  });

  it('a killed LiveKit is started again by launchd (KeepAlive, throttled)', async () => {
    await sup.run(host, svc, 'start');
    const { pid } = await sup.observe(host, svc);
    process.kill(pid, 'SIGKILL');
    let now = await sup.observe(host, svc);
    await waitFor('launchd to start it again', async () => {
      now = await sup.observe(host, svc);
      return now.running && now.pid !== pid;
    }, 10_000, 200);
    expect(now).toMatchObject({ loaded: true, running: true });
    expect(now.pid).not.toBe(pid);
    await lk.waitHealth();
  });

  it('unload boots out and forgets; without launchctl the supervisor is unavailable', async () => {
    await sup.run(host, svc, 'start');
    await sup.run(host, svc, 'unload');
    expect((await sup.observe(host, svc)).state).toBe('not loaded (launchd does not know the service)');

    const bare = nodeHost({ ...lk.env, PATH: '/nonexistent' });
    await expect(sup.observe(bare, svc)).rejects.toMatchObject({ code: 'SUPERVISOR_UNAVAILABLE' });
  });

  it('a failing launchctl is a STEP_FAILED naming what it answered', async () => {
    await sup.run(host, svc, 'start');
    const err = await host.exec('launchctl', ['bootstrap', D, svc.definitionFile ?? '']);
    expect(err.code).not.toBe(0); // already loaded
    const missing = { ...svc, definitionFile: join(home.root, 'nope.plist') };
    await sup.run(host, svc, 'stop');
    await expect(sup.run(host, missing, 'start')).rejects.toMatchObject({ code: 'STEP_FAILED', message: expect.stringContaining('nope.plist is missing') });
  });
});
