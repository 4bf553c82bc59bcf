// A machine without systemd (WSL, a container): `supervisor: auto` falls back to vm's own process
// supervisor. Through the built CLI, with a temp HOME whose XDG_RUNTIME_DIR has no manager.

import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { freePorts, livekitEntry, ROOT, runVm, servicesFile, standinScript, waitFor } from '../kit/index.js';

let home: TempHome;
let rel: ReleaseServer;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let specPath: string;
let pidFile: string;

function spec(state: 'running' | 'stopped' = 'running'): string {
  const livekit = livekitEntry({ state, version: '1.9.0', install: { base_url: rel.baseUrl }, port, rtcRange: [53000, 53100], tcpPort, health: '20s' });
  return servicesFile({ livekit });
}

const health = () => livekitHealth(port);

const vm = (...args: string[]) => runVm(args, env);
const livePid = async () => (JSON.parse(await readFile(pidFile, 'utf8')) as { pid: number }).pid;

describe('vm without systemd: the process supervisor', () => {
  beforeAll(async () => {
    home = await tempHome();
    [port, tcpPort] = (await freePorts(2)) as [number, number];
    rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
    specPath = `${home.env.HOME}/voicemode.services.yaml`;
    pidFile = `${home.env.HOME}/.voicemode/run/livekit.pid`;
    env = { ...home.env, VOICEMODE_SERVICES_FILE: specPath };
    await writeFile(specPath, spec());
  });

  afterAll(async () => {
    await home?.cleanup(); // kills the detached LiveKit too (its HOME is under the temp root)
    await rel?.close();
  });

  it('plan names the process supervisor and why, and warns that it cannot autostart', async () => {
    const p = await vm('plan');
    expect(p.stdout).toMatch(/Supervisor: process \(auto: no systemd user manager/);
    expect(p.stdout).toContain('cannot start LiveKit at login');
    expect(p.stdout).not.toMatch(/unit\s+create\s+.*\.service/); // no unit file without systemd
  });

  it('apply starts LiveKit as a detached process that outlives vm, and converges', async () => {
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await health()).toBe('200 OK');
    const pid = await livePid();
    expect(pid).toBeGreaterThan(1);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
    expect(await livePid()).toBe(pid);
  });

  it('a killed LiveKit is drift (stale pid file) and one apply heals it', async () => {
    const pid = await livePid();
    process.kill(pid, 'SIGKILL');
    // Until it is gone (or a zombie waiting to be reaped), not a fixed time: the machine may be slow.
    const gone = async () => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
      return stat === undefined || /\) Z /.test(stat);
    };
    await waitFor(`pid ${pid} to be gone`, gone, 20_000, 20);
    const p = await vm('plan', '--detailed-exitcode');
    expect(p.code).toBe(2);
    expect(p.stdout).toMatch(/running\s+start\s+not running: stale pid file/);
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await health()).toBe('200 OK');
    expect(await livePid()).not.toBe(pid);
  });

  it('under vm watch, a crashed LiveKit is started again on the next resync', async () => {
    const child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'watch', '--json', '--interval', '500ms'], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const seen = (re: RegExp, from: number) => waitFor(() => `${re}; watch said:\n${out.slice(from)}`, () => re.test(out.slice(from)), 10_000);
      await seen(/"event":"reconcile_done","trigger":"start"/, 0);
      const pid = await livePid();
      process.kill(pid, 'SIGKILL');
      const from = out.length;
      await seen(/"event":"drift"/, from);
      await seen(/"event":"reconcile_done","trigger":"interval","ok":true/, from);
      expect(await health()).toBe('200 OK');
      expect(await livePid()).not.toBe(pid);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('state: stopped stops it and removes the pid file', async () => {
    await writeFile(specPath, spec('stopped'));
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(await health()).toBe('down');
    await expect(readFile(pidFile)).rejects.toThrow();
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });
});

describe('a file at a managed path that vm never wrote', () => {
  let h: TempHome;
  let r2: ReleaseServer;
  afterAll(async () => {
    await h?.cleanup();
    await r2?.close();
  });

  it('is not overwritten without --force; with it, it is kept as a backup', async () => {
    h = await tempHome();
    r2 = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 200 }) }] });
    const [p2, t2] = (await freePorts(2)) as [number, number];
    const file = `${h.env.HOME}/voicemode.services.yaml`;
    await writeFile(file, servicesFile({ livekit: livekitEntry({ version: '1.9.0', install: { base_url: r2.baseUrl }, port: p2, tcpPort: t2 }) }, { supervisor: 'process' }));
    const cfg = `${h.env.HOME}/.voicemode/services/livekit/livekit.yaml`;
    await mkdir(dirname(cfg), { recursive: true });
    await writeFile(cfg, '# my own LiveKit config, written before vm\nport: 7880\n');
    const e = { ...h.env, VOICEMODE_SERVICES_FILE: file };
    const plan = await runVm(['plan'], e);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain(`${cfg} exists and was not written by vm: vm does not overwrite it without --force`);
    const refused = await runVm(['apply', '--yes'], e);
    expect(refused.code).toBe(1);
    expect(await readFile(cfg, 'utf8')).toContain('my own LiveKit config');
    const forced = await runVm(['apply', '--yes', '--force'], e);
    expect(forced.code).toBe(0);
    const backups = (await readdir(dirname(cfg))).filter((f) => f.startsWith('livekit.yaml.vm-backup-'));
    expect(backups).toHaveLength(1);
    expect(await readFile(`${dirname(cfg)}/${backups[0]}`, 'utf8')).toContain('my own LiveKit config');
    expect((await runVm(['plan', '--detailed-exitcode'], e)).code).toBe(0);
  });
});
