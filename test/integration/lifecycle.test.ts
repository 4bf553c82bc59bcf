// End to end, as a user would run it: the built `vm` against a real systemd user manager, a real
// local release server (tarballs + checksums.txt), a stand-in livekit-server that behaves like
// the real one (FACTS.md), and real files in a temp HOME. Steps build on each other, in order.

import { appendFile, readdir, readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { freePorts, livekitEntry, runVm, servicesFile, standinScript, transcript, waitFor } from '../kit/index.js';

const SECRET = 'e2e-secret-do-not-leak-0123456789abcdefghij';
const UNIT = 'voicemode-livekit.service';

let um: UserManager;
let rel: ReleaseServer;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let specPath: string;
let lkDir: string;

/** Written by hand: the invalid-file test asserts the line and column its `extra` line lands on. */
function spec(over: { version?: string; rangeEnd?: number; extra?: string } = {}): string {
  return [
    'version: 1',
    'services:',
    '  livekit:',
    `    version: ${over.version ?? '1.9.0'}`,
    `    install: { method: release, base_url: "${rel.baseUrl}" }`,
    `    port: ${port}`,
    '    bind_addresses: [127.0.0.1]',
    `    rtc: { port_range_start: 51000, port_range_end: ${over.rangeEnd ?? 51100}, tcp_port: ${tcpPort} }`,
    '    keys:',
    `      apikey1: "${SECRET}"`,
    '    health: { timeout: 15s }',
    over.extra ?? '',
  ].join('\n');
}

async function show(): Promise<Record<string, string>> {
  const r = await um.systemctl('show', UNIT, '-p', 'ActiveState,SubState,MainPID,UnitFileState,NeedDaemonReload');
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
}

const health = () => livekitHealth(port);

const mtime = async (p: string) => (await stat(p)).mtimeMs;
const vm = (...args: string[]) => runVm(args, env);

describe.skipIf(!userManagerAvailable())('vm against a real systemd user manager', () => {
  beforeAll(async () => {
    um = await startUserManager();
    [port, tcpPort] = (await freePorts(2)) as [number, number];
    rel = await startReleaseServer({
      redirectDownloads: true,
      releases: [
        { version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 400 }) },
        { version: '1.9.1', binary: standinScript({ version: '1.9.1', readyAfterMs: 400 }) },
        { version: '1.9.2', binary: standinScript({ version: '1.9.2' }), corruptChecksum: true },
      ],
    });
    env = { ...um.env };
    specPath = `${um.env.HOME}/dotfiles/voicemode.services.yaml`;
    lkDir = `${um.env.HOME}/.voicemode/services/livekit`;
    await mkdir(`${um.env.HOME}/dotfiles`, { recursive: true });
    await writeFile(specPath, spec());
    env['VOICEMODE_SERVICES_FILE'] = specPath;
  });

  afterAll(async () => {
    await um?.systemctl('stop', UNIT);
    await um?.stop();
    await rel?.close();
  });

  it('plan on a fresh machine lists every step with its reason and exits 2 with --detailed-exitcode', async () => {
    const r = await vm('plan', '--detailed-exitcode');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('not installed: livekit-server 1.9.0');
    expect(r.stdout).toMatch(/Plan: 9 steps for livekit/);
    expect(r.stdout).toContain('apikey1: (sensitive)');
    const j = await vm('plan', '--json');
    const plan = JSON.parse(j.stdout) as { format_version: string; changes: boolean; steps: Array<{ resource: string; action: string }> };
    expect(plan.format_version).toBe('1');
    expect(plan.changes).toBe(true);
    expect(plan.steps.map((s) => `${s.resource} ${s.action}`)).toContain('running start');
  });

  it('apply without a terminal and without --yes refuses and changes nothing', async () => {
    const r = await vm('apply');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pass --yes');
    await expect(stat(`${lkDir}/livekit.yaml`)).rejects.toThrow();
  });

  it('apply installs from the release server, starts the unit and ends healthy', async () => {
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/livekit is converged: running \(pid \d+\) and healthy/);
    expect(await health()).toBe('200 OK');
    const s = await show();
    expect(s['ActiveState']).toBe('active');
    expect(s['UnitFileState']).toBe('enabled');
    // Downloads went through the redirect, like GitHub's.
    expect(rel.requests.some((p) => p.includes('/objects/'))).toBe(true);
  });

  it('keeps secrets only in the 0600 key file: not in the unit, the config, or the process arguments', async () => {
    expect((await stat(`${lkDir}/keys.yaml`)).mode & 0o777).toBe(0o600);
    expect((await stat(lkDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(`${lkDir}/keys.yaml`, 'utf8')).toContain(SECRET);
    expect(await readFile(`${um.env.XDG_CONFIG_HOME}/systemd/user/${UNIT}`, 'utf8')).not.toContain(SECRET);
    expect(await readFile(`${lkDir}/livekit.yaml`, 'utf8')).not.toContain(SECRET);
    const pid = (await show())['MainPID'];
    expect(await readFile(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(SECRET);
    expect(await readFile(`/proc/${pid}/environ`, 'utf8')).not.toContain(SECRET);
  });

  it('the keys vm wrote work against the LiveKit API', async () => {
    const rooms = new RoomServiceClient(`http://127.0.0.1:${port}`, 'apikey1', SECRET);
    await rooms.createRoom({ name: 'voice' });
    expect((await rooms.listRooms()).map((r) => r.name)).toContain('voice');
    const wrong = new RoomServiceClient(`http://127.0.0.1:${port}`, 'apikey1', `${SECRET}-wrong`);
    await expect(wrong.listRooms()).rejects.toThrow();
  });

  it('then plan says nothing is to do, and a second apply touches nothing (same pid, same files)', async () => {
    const p = await vm('plan', '--detailed-exitcode');
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('No changes: livekit is converged');
    const pid = (await show())['MainPID'];
    const files = [`${lkDir}/livekit.yaml`, `${lkDir}/keys.yaml`, `${um.env.XDG_CONFIG_HOME}/systemd/user/${UNIT}`, `${um.env.HOME}/.voicemode/state/versions.json`];
    const before = await Promise.all(files.map(mtime));
    const a = await vm('apply', '--yes');
    expect(a.code).toBe(0);
    expect((await show())['MainPID']).toBe(pid);
    expect(await Promise.all(files.map(mtime))).toEqual(before);
  });

  it('once apply has seen the binary answer, plan does not run it again until the file changes', async () => {
    const log = `${um.env.HOME}/version-calls.log`;
    const counted = async (...args: string[]) => {
      const r = await runVm(args, { ...env, LIVEKIT_STANDIN_VERSION_LOG: log });
      const calls = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      await rm(log, { force: true });
      return { ...r, calls };
    };
    const p = await counted('plan', '--detailed-exitcode');
    expect(p.code, p.stdout + p.stderr).toBe(0);
    expect(p.calls).toBe(0);
    // Another file at the same path (one byte longer; its mtime set back to before LiveKit
    // started, so nothing needs a restart): vm cannot know what it answers, so it asks.
    const binary = `${lkDir}/versions/1.9.0/livekit-server`;
    await appendFile(binary, '\n');
    const past = new Date(Date.now() - 3_600_000);
    await utimes(binary, past, past);
    const p2 = await counted('plan', '--detailed-exitcode');
    expect(p2.code, p2.stdout + p2.stderr).toBe(0);
    expect(p2.calls).toBe(1);
    // A converged apply records the new answer; the plan after it runs nothing again.
    const a = await counted('apply', '--yes');
    expect(a.code).toBe(0);
    expect(a.calls).toBe(1);
    expect((await counted('plan', '--detailed-exitcode')).calls).toBe(0);
  });

  it('a config change plans exactly one restart, saying what changed, and apply ends healthy on a new pid', async () => {
    const pid = (await show())['MainPID'];
    await writeFile(specPath, spec({ rangeEnd: 51200 }));
    const p = await vm('plan', '--json');
    const steps = (JSON.parse(p.stdout) as { steps: Array<{ resource: string; action: string; reason: string }> }).steps;
    expect(steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['config update', 'running restart', 'healthy wait-healthy']);
    expect(steps[0]?.reason).toContain('rtc.port_range_end 51100 → 51200');
    const a = await vm('apply', '--yes');
    expect(a.code).toBe(0);
    expect((await show())['MainPID']).not.toBe(pid);
    expect(await health()).toBe('200 OK');
  });

  it('drift: a deleted binary is reinstalled', async () => {
    await rm(`${lkDir}/livekit-server`);
    const p = await vm('plan', '--detailed-exitcode');
    expect(p.code).toBe(2);
    expect(p.stdout).toMatch(/binary\s+install\s+not installed/);
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('drift: a hand-edited config is restored and LiveKit restarted', async () => {
    const cfg = `${lkDir}/livekit.yaml`;
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace('empty_timeout: 300', 'empty_timeout: 5'));
    const p = await vm('plan');
    expect(p.stdout).toContain('room.empty_timeout 5 → 300');
    expect(p.stdout).toMatch(/running\s+restart/);
    expect(p.stdout).toContain('edited by hand: the current file is kept as livekit.yaml.vm-backup-');
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await readFile(cfg, 'utf8')).toContain('empty_timeout: 300');
    // The hand edit was not lost: it is beside the file, with the same (private) mode.
    const backups = (await readdir(lkDir)).filter((f) => f.startsWith('livekit.yaml.vm-backup-'));
    expect(backups).toHaveLength(1);
    expect(await readFile(`${lkDir}/${backups[0]}`, 'utf8')).toContain('empty_timeout: 5');
    expect((await stat(`${lkDir}/${backups[0]}`)).mode & 0o777).toBe(0o600);
  });

  it('drift: a hand-edited unit is rewritten, reloaded and restarted', async () => {
    const unit = `${um.env.XDG_CONFIG_HOME}/systemd/user/${UNIT}`;
    await writeFile(unit, (await readFile(unit, 'utf8')).replace('RestartSec=2', 'RestartSec=9'));
    const p = await vm('plan', '--json');
    const actions = (JSON.parse(p.stdout) as { steps: Array<{ resource: string; action: string }> }).steps.map((s) => `${s.resource} ${s.action}`);
    expect(actions).toEqual(['unit update', 'unit daemon-reload', 'running restart', 'healthy wait-healthy']);
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect((await show())['NeedDaemonReload']).toBe('no');
  });

  it('drift: a killed process is seen and healed by one apply', async () => {
    const pid = Number((await show())['MainPID']);
    expect(pid).toBeGreaterThan(1); // kill(0) would hit our own process group
    process.kill(pid, 'SIGKILL');
    await waitFor('systemd to restart the killed LiveKit', async () => (await show())['MainPID'] !== String(pid), 10_000);
    const p = await vm('plan', '--detailed-exitcode');
    expect(p.code).toBe(2);
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await health()).toBe('200 OK');
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('drift: a stopped service is started again', async () => {
    await um.systemctl('stop', UNIT);
    const p = await vm('plan');
    expect(p.stdout).toMatch(/running\s+start\s+not running: inactive/);
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await health()).toBe('200 OK');
  });

  it('drift: a disabled unit is enabled again', async () => {
    expect(await um.systemctl('disable', UNIT)).toMatchObject({ code: 0 });
    expect((await um.systemctl('is-enabled', UNIT)).stdout.trim()).toBe('disabled');
    const p = await vm('plan', '--json');
    expect((JSON.parse(p.stdout) as { steps: Array<{ action: string }> }).steps.map((s) => s.action)).toEqual(['enable']);
    const a = await vm('apply', '--yes');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/\nApplied 1 step in [0-9.]+ m?s\. livekit is converged: running \(pid \d+\) and healthy\.\n/);
    // apply's own plan ends without telling the user to run apply; piped output has no colour.
    expect(a.stdout).toContain('Plan: 1 step for livekit (enable).\n');
    expect(a.stdout).not.toContain('Run `vm apply`');
    expect(a.stdout).not.toContain('\x1b[');
    expect((await um.systemctl('is-enabled', UNIT)).stdout.trim()).toBe('enabled');
  });

  it('a checksum mismatch installs nothing and leaves the running version alone', async () => {
    const pid = (await show())['MainPID'];
    await writeFile(specPath, spec({ version: '1.9.2', rangeEnd: 51200 }));
    const a = await vm('apply', '--yes');
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('checksum mismatch');
    // Nothing was touched, so nothing was "rolled back"; it says which version runs and which is asked for.
    expect(a.stderr).toContain('nothing was changed: livekit-server 1.9.0 is still the one running; the file asks for 1.9.2, which stays pending');
    expect(a.stderr).not.toContain('rolled back');
    expect(a.stdout).not.toContain('Rolling back');
    // LiveKit wrote nothing during this apply: none of the earlier runs' log lines are shown.
    expect(a.stderr).not.toContain("LiveKit's log");
    expect(a.stderr).not.toContain('starting LiveKit server');
    await expect(stat(`${lkDir}/versions/1.9.2`)).rejects.toThrow();
    expect((await show())['MainPID']).toBe(pid);
    expect(await health()).toBe('200 OK');
  });

  it('an upgrade installs the new version and restarts once', async () => {
    await writeFile(specPath, spec({ version: '1.9.1', rangeEnd: 51200 }));
    const p = await vm('plan');
    expect(p.stdout).toContain('version 1.9.0 → 1.9.1');
    expect((await vm('apply', '--yes')).code).toBe(0);
    const st = await vm('status', '--json');
    const lk = (JSON.parse(st.stdout) as { services: { livekit: { binary: { version: string }; healthy: boolean } } }).services.livekit;
    expect(lk.binary.version).toBe('1.9.1');
    expect(lk.healthy).toBe(true);
  });

  it('an invalid file exits 1 with file:line:column and changes nothing', async () => {
    const cfg = `${lkDir}/livekit.yaml`;
    const before = await mtime(cfg);
    const pid = (await show())['MainPID'];
    await writeFile(specPath, spec({ version: '1.9.1', rangeEnd: 51200, extra: '    colour: blue' }));
    for (const args of [['plan'], ['apply', '--yes'], ['validate']]) {
      const r = await vm(...args);
      expect(r.code).toBe(1);
      // Shown relative to the working directory (HOME here), as a person would type it.
      expect(r.stderr).toMatch(/^dotfiles\/voicemode\.services\.yaml:12:5: unknown key "colour"/m);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    // A program asking for --json gets JSON on stdout, with each problem located.
    const j = await vm('plan', '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toEqual({
      format_version: '1',
      error: 'the file has a problem; nothing was changed',
      problems: [{ file: 'dotfiles/voicemode.services.yaml', line: 12, column: 5, message: expect.stringContaining('unknown key "colour"'), pointer: '/services/livekit/colour' }],
    });
    expect(await mtime(cfg)).toBe(before);
    expect((await show())['MainPID']).toBe(pid);
    await writeFile(specPath, spec({ version: '1.9.1', rangeEnd: 51200 }));
  });

  it('no secret appeared in any output, nor in the service log', async () => {
    const log = await readFile(`${um.env.HOME}/.voicemode/logs/livekit/livekit.log`, 'utf8');
    expect(log).toContain('starting LiveKit server');
    expect(log).not.toContain(SECRET);
    expect(transcript.join('\n')).not.toContain(SECRET);
  });
});

describe.skipIf(!userManagerAvailable())('vm with a generated key', () => {
  let um2: UserManager;
  let rel2: ReleaseServer;
  afterAll(async () => {
    await um2?.systemctl('stop', UNIT);
    await um2?.stop();
    await rel2?.close();
  });

  it('generates one devkey secret once and keeps it across applies', async () => {
    um2 = await startUserManager();
    rel2 = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
    const [p2, t2] = (await freePorts(2)) as [number, number];
    const file = `${um2.env.HOME}/voicemode.services.yaml`;
    await writeFile(file, servicesFile({ livekit: livekitEntry({ version: '1.9.0', install: { base_url: rel2.baseUrl }, port: p2, tcpPort: t2 }) }));
    const e2 = { ...um2.env };
    expect((await runVm(['apply', '--yes'], e2, { cwd: um2.env.HOME })).code).toBe(0);
    const keys = await readFile(`${um2.env.HOME}/.voicemode/services/livekit/keys.yaml`, 'utf8');
    const secret = /devkey: (\S+)/.exec(keys)?.[1] ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect((await runVm(['apply', '--yes'], e2, { cwd: um2.env.HOME })).code).toBe(0);
    expect(await readFile(`${um2.env.HOME}/.voicemode/services/livekit/keys.yaml`, 'utf8')).toBe(keys);
    const rooms = new RoomServiceClient(`http://127.0.0.1:${p2}`, 'devkey', secret);
    await expect(rooms.listRooms()).resolves.toEqual([]);
  });
});

