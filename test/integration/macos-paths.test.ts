// The macOS paths through the built CLI: Homebrew (`install.method: brew`) and launchd
// (`supervisor: launchd`). Neither exists on these Linux machines, so `brew` and `launchctl` are
// fakes put first on PATH (test/fixtures/fake-brew, fake-launchctl: they record every call and,
// like the real ones, install a binary / really run the plist's program). Everything else is real:
// files in a temp HOME, the stand-in livekit-server, health over HTTP on 127.0.0.1.

import { readFile, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeBrew, fakeLaunchctl, type FakeBin, type FakeBrew } from '../helpers/fakes.js';
import { parsePlist } from '../helpers/plist.js';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { freePorts, livekitEntry, runVm, servicesFile, standinScript } from '../kit/index.js';

const health = livekitHealth;

const exists = async (p: string) => stat(p).then(() => true, () => false);

describe('install.method: brew (Homebrew faked)', () => {
  let home: TempHome;
  let brew: FakeBrew;
  let env: Record<string, string>;
  let port: number;
  let tcp: number;
  let spec: string;
  const write = (version: string, state: 'running' | 'absent' = 'running') =>
    writeFile(spec, servicesFile({ livekit: livekitEntry({ state, version, install: { method: 'brew' }, port, tcpPort: tcp, health: '20s' }) }, { supervisor: 'process' }));
  const vm = (...args: string[]) => runVm(args, env);

  beforeAll(async () => {
    home = await tempHome();
    [port, tcp] = (await freePorts(2)) as [number, number];
    brew = await fakeBrew(home.root, { stable: '1.9.0', binarySource: standinScript({ version: '1.9.0', readyAfterMs: 300 }) });
    spec = `${home.env.HOME}/voicemode.services.yaml`;
    env = { ...home.env, ...brew.env, VOICEMODE_SERVICES_FILE: spec };
  });
  afterAll(async () => home?.cleanup());

  it('installs with `brew install livekit` and runs the binary from `brew --prefix`', async () => {
    await write('1.9.0');
    const p = await vm('plan');
    expect(p.stdout).toContain('not installed: brew install livekit');
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await brew.calls()).toContain('install livekit');
    expect(await health(port)).toBe('200 OK');
    const st = JSON.parse((await vm('status', '--json')).stdout) as { services: { livekit: { binary: { path: string; version: string } } } };
    expect(st.services.livekit.binary).toMatchObject({ path: `${brew.prefix}/bin/livekit-server`, version: '1.9.0' });
  });

  it('a pinned version Homebrew cannot give is a plan-time error, and nothing changes', async () => {
    await write('1.9.7');
    const p = await vm('plan');
    expect(p.code).toBe(1);
    expect(p.stdout).toContain('version 1.9.7 is declared, but Homebrew offers livekit 1.9.0');
    await brew.calls();
    expect((await vm('apply', '--yes')).code).toBe(1);
    expect((await brew.calls()).filter((c) => c.startsWith('install') || c.startsWith('upgrade'))).toEqual([]);
  });

  it('upgrades with `brew upgrade livekit` when the formula moves on', async () => {
    env['FAKE_BREW_STABLE'] = '1.9.1';
    await writeFile(env['FAKE_BREW_BINARY_SOURCE'] ?? '', standinScript({ version: '1.9.1', readyAfterMs: 300 }), { mode: 0o755 });
    await write('1.9.1');
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(await brew.calls()).toContain('upgrade livekit');
    expect(await health(port)).toBe('200 OK');
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('state: absent never removes the Homebrew binary, and says so', async () => {
    await write('1.9.1', 'absent');
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('is not vm\'s to remove: it stays');
    expect(await exists(`${brew.prefix}/bin/livekit-server`)).toBe(true);
    expect(await health(port)).toBe('down');
  });
});

describe('supervisor: launchd (launchctl faked)', () => {
  let home: TempHome;
  let launchctl: FakeBin;
  let rel: ReleaseServer;
  let env: Record<string, string>;
  let port: number;
  let tcp: number;
  let spec: string;
  let plist: string;
  const write = (o: { state?: 'running' | 'stopped' | 'absent'; end?: number } = {}) => {
    const livekit = livekitEntry({ state: o.state ?? 'running', version: '1.9.0', install: { base_url: rel.baseUrl }, port, rtcRange: [54000, o.end ?? 54100], tcpPort: tcp, health: '20s' });
    return writeFile(spec, servicesFile({ livekit }, { supervisor: 'launchd' }));
  };
  const vm = (...args: string[]) => runVm(args, env);

  beforeAll(async () => {
    home = await tempHome();
    [port, tcp] = (await freePorts(2)) as [number, number];
    launchctl = await fakeLaunchctl(home.root);
    rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
    spec = `${home.env.HOME}/voicemode.services.yaml`;
    plist = `${home.env.HOME}/Library/LaunchAgents/com.voicemode.livekit.plist`;
    env = { ...home.env, ...launchctl.env, VOICEMODE_SERVICES_FILE: spec };
  });
  afterAll(async () => {
    await runVm(['apply', '--yes'], env).catch(() => undefined);
    await home?.cleanup();
    await rel?.close();
  });

  it('writes a LaunchAgent, bootstraps it into gui/UID, and ends healthy', async () => {
    await write();
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const calls = await launchctl.calls();
    expect(calls.some((c) => /^bootstrap gui\/\d+ .*com\.voicemode\.livekit\.plist$/.test(c))).toBe(true);
    const p = parsePlist(await readFile(plist, 'utf8')) as { Label: string; ProgramArguments: string[]; KeepAlive: boolean; StandardOutPath: string };
    expect(p.Label).toBe('com.voicemode.livekit');
    expect(p.ProgramArguments.slice(1)).toEqual(['--config', `${home.env.HOME}/.voicemode/services/livekit/livekit.yaml`]);
    expect(p.KeepAlive).toBe(true);
    expect(p.StandardOutPath).toBe(`${home.env.HOME}/.voicemode/logs/livekit/livekit.log`);
    expect(await health(port)).toBe('200 OK');
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('a config change restarts the job once and converges', async () => {
    await write({ end: 54200 });
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect((await launchctl.calls()).filter((c) => c.startsWith('kickstart -k') || c.startsWith('bootout')).length).toBe(1);
    expect(await readFile(`${home.env.HOME}/.voicemode/services/livekit/livekit.yaml`, 'utf8')).toContain('port_range_end: 54200');
    expect(await health(port)).toBe('200 OK');
  });

  it('state: absent boots it out and removes the plist', async () => {
    await write({ state: 'absent', end: 54200 });
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(await launchctl.calls()).toContain(`bootout gui/${process.getuid?.() ?? 0}/com.voicemode.livekit`);
    expect(await exists(plist)).toBe(false);
    expect(await health(port)).toBe('down');
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });
});
