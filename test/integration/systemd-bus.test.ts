// vm reads unit state from the user manager's private D-Bus socket (src/platform/systemd-bus.ts)
// instead of spawning `systemctl --user show`. Here a real `systemd --user` answers both ways
// and they must agree, property by property; and a socket that does not speak D-Bus, or says no,
// makes vm ask systemctl instead (which then says what is wrong).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/platform/node-host.js';
import { parseShow, showUnit } from '../../src/platform/systemd.js';
import { unitPropertiesOverBus } from '../../src/platform/systemd-bus.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';

const PROPS = ['LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'NeedDaemonReload', 'MainPID', 'FragmentPath', 'ExecMainStartTimestampMonotonic'];

describe.skipIf(!userManagerAvailable())('unit state over D-Bus, against a real systemd user manager', () => {
  let um: UserManager;

  async function viaSystemctl(unit: string): Promise<Map<string, string>> {
    const r = await um.systemctl('show', unit, '-p', PROPS.join(','));
    expect(r.code, r.stderr).toBe(0);
    return new Map(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]));
  }

  async function agree(unit: string): Promise<Map<string, string>> {
    const bus = await unitPropertiesOverBus(um.env.XDG_RUNTIME_DIR, unit, PROPS);
    const ctl = await viaSystemctl(unit);
    expect(bus).toBeDefined();
    expect(Object.fromEntries(bus ?? [])).toEqual(Object.fromEntries(ctl));
    return ctl;
  }

  beforeAll(async () => {
    um = await startUserManager();
  }, 30_000);
  afterAll(async () => {
    await um?.systemctl('stop', 'vm-bus-probe.service');
    await um?.stop();
  });

  it('agrees with systemctl show on a unit that does not exist', async () => {
    expect((await agree('vm-bus-absent.service')).get('LoadState')).toBe('not-found');
  });

  it('agrees on absent units asked at once, though each connection also hears of the others being loaded', async () => {
    // Every Get on a unit that is not loaded loads and unloads it, and systemd sends UnitNew and
    // UnitRemoved to each private connection: the replies come between other connections' signals.
    const units = ['vm-bus-absent-a.service', 'vm-bus-absent-b.service', 'vm-bus-absent-c.service'];
    const bus = await Promise.all(units.map((u) => unitPropertiesOverBus(um.env.XDG_RUNTIME_DIR, u, PROPS)));
    for (const [i, u] of units.entries()) {
      expect(bus[i]).toBeDefined();
      expect(Object.fromEntries(bus[i] ?? [])).toEqual(Object.fromEntries(await viaSystemctl(u)));
    }
  });

  it('agrees on a unit as it is written, enabled, started, edited and stopped', async () => {
    const unitPath = join(um.unitDir, 'vm-bus-probe.service');
    writeFileSync(unitPath, '[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/sleep 300\n[Install]\nWantedBy=default.target\n');
    await um.systemctl('daemon-reload');
    expect((await agree('vm-bus-probe.service')).get('UnitFileState')).toBe('disabled');
    expect((await um.systemctl('enable', 'vm-bus-probe.service')).code).toBe(0);
    expect((await um.systemctl('start', 'vm-bus-probe.service')).code).toBe(0);
    const running = await agree('vm-bus-probe.service');
    expect(running.get('ActiveState')).toBe('active');
    expect(Number(running.get('MainPID'))).toBeGreaterThan(1);
    expect(running.get('UnitFileState')).toBe('enabled');
    // Edited on disk, not reloaded: systemd says a reload is needed.
    writeFileSync(unitPath, '[Unit]\nDescription=probe, edited\n[Service]\nExecStart=/bin/sleep 301\n[Install]\nWantedBy=default.target\n');
    expect((await agree('vm-bus-probe.service')).get('NeedDaemonReload')).toBe('yes');
    expect((await um.systemctl('stop', 'vm-bus-probe.service')).code).toBe(0);
    expect((await agree('vm-bus-probe.service')).get('ActiveState')).toBe('inactive');
  });

  it('showUnit gives the same unit state either way', async () => {
    const host = nodeHost({ PATH: process.env['PATH'], ...um.env });
    const shown = await showUnit(host, 'vm-bus-probe.service');
    const r = await um.systemctl('show', 'vm-bus-probe.service', '-p', PROPS.join(','));
    expect(shown.ok).toBe(true);
    if (shown.ok) expect({ ...shown.unit, startedAtMs: undefined }).toEqual({ ...parseShow(r.stdout, 0, 0), startedAtMs: undefined });
  });
});

describe('a private socket that does not answer as systemd does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vm-bus-'));
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A runtime dir whose systemd/private socket behaves as `onConnection` says. */
  function fakeRuntimeDir(name: string, onConnection: (sock: import('node:net').Socket) => void): Promise<string> {
    const runtime = join(dir, name);
    mkdirSync(join(runtime, 'systemd'), { recursive: true });
    const server = createServer(onConnection);
    servers.push(server);
    return new Promise((resolve) => server.listen(join(runtime, 'systemd', 'private'), () => resolve(runtime)));
  }

  it('no socket, no runtime dir: undefined', async () => {
    expect(await unitPropertiesOverBus(join(dir, 'nothing-here'), 'x.service', PROPS)).toBeUndefined();
    expect(await unitPropertiesOverBus(undefined, 'x.service', PROPS)).toBeUndefined();
  });

  it('authentication refused: undefined', async () => {
    const runtime = await fakeRuntimeDir('rejects', (s) => s.once('data', () => s.end('REJECTED EXTERNAL\r\n')));
    expect(await unitPropertiesOverBus(runtime, 'x.service', PROPS)).toBeUndefined();
  });

  it('garbage after OK: undefined', async () => {
    const runtime = await fakeRuntimeDir('garbage', (s) => s.once('data', () => s.write(`OK 0123\r\n${'Z'.repeat(64)}`)));
    expect(await unitPropertiesOverBus(runtime, 'x.service', PROPS)).toBeUndefined();
  });

  it('a socket that never answers: undefined after the timeout', async () => {
    const runtime = await fakeRuntimeDir('silent', () => undefined);
    const t0 = Date.now();
    expect(await unitPropertiesOverBus(runtime, 'x.service', PROPS, 300)).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('then showUnit asks systemctl, which says why it cannot answer', async () => {
    const runtime = await fakeRuntimeDir('rejects-too', (s) => s.once('data', () => s.end('REJECTED EXTERNAL\r\n')));
    const host = nodeHost({ PATH: process.env['PATH'], HOME: dir, XDG_RUNTIME_DIR: runtime });
    const shown = await showUnit(host, 'x.service');
    expect(shown.ok).toBe(false);
    if (!shown.ok) expect(shown.why).toMatch(/^systemctl --user does not answer/);
  });
});
