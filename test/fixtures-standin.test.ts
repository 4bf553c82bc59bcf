// Proves the livekit-server stand-in behaves like the real server as shared/FACTS.md describes,
// and that the systemd --user harness works. Other tests rely on both.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startUserManager, userManagerAvailable } from './helpers/systemd.js';
import type { UserManager } from './helpers/systemd.js';
import { freePort, freePorts, waitFor, writeStandin } from './kit/index.js';

const VERSION = '1.9.7';
const KEY = 'APItestkey';
const SECRET = 'a-secret-of-at-least-thirty-two-chars-0123456789';

interface Proc {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<Proc>();
let dir = '';
const bin = { normal: '', slow: '', neverReady: '', crash: '' };

/** Runs a wrapper with a small, clean environment (no LIVEKIT_* from the outer shell). */
function start(path: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(path, args, { cwd: '/', env: { PATH: '/usr/bin:/bin', HOME: dir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  const proc = { child, out, exited };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return { status: res.status, body: await res.text() };
}

/** Starts the stand-in on `port` with a valid key and waits for its startup log line. */
async function startServing(path: string, port: number, extra: string[] = []): Promise<Proc> {
  const p = start(path, ['--bind', '127.0.0.1', '--config-body', `port: ${port}\n`, '--keys', `${KEY}: ${SECRET}`, ...extra]);
  await waitFor('"starting LiveKit server"', () => p.out.stderr.includes('starting LiveKit server') || p.child.exitCode !== null);
  expect(p.out.stdout).toBe('');
  return p;
}

beforeAll(async () => {
  dir = await mkdtemp('/tmp/vmt-standin-');
  bin.normal = join(dir, 'normal', 'livekit-server');
  bin.slow = join(dir, 'slow', 'livekit-server');
  bin.neverReady = join(dir, 'never-ready', 'livekit-server');
  bin.crash = join(dir, 'crash', 'livekit-server');
  await writeStandin(bin.normal, { version: VERSION, readyAfterMs: 300 });
  // Not ready for 5 s: long enough that the first GET after the start line is surely before it.
  await writeStandin(bin.slow, { version: VERSION, readyAfterMs: 5_000 });
  await writeStandin(bin.neverReady, { version: VERSION, mode: 'never-ready', readyAfterMs: 0 });
  await writeStandin(bin.crash, { version: VERSION, mode: 'crash' });
});

afterEach(async () => {
  const procs = [...running];
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('livekit-server stand-in', () => {
  it('--version prints "livekit-server version X.Y.Z" and exits 0', async () => {
    const p = start(bin.normal, ['--version']);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toBe(`livekit-server version ${VERSION}\n`);
  });

  it('GET / answers 406 "Not Ready" right after start, then 200 "OK"', async () => {
    const port = await freePort();
    await startServing(bin.slow, port);
    const first = await get(`http://127.0.0.1:${port}/`);
    expect(first.status).toBe(406);
    expect(first.body).toMatch(/^Not Ready\nNode Updated At /);
    await waitFor('200 on /', async () => (await get(`http://127.0.0.1:${port}/`)).status === 200);
    expect(await get(`http://127.0.0.1:${port}/`)).toEqual({ status: 200, body: 'OK' });
  });

  it('has no /health endpoint: GET /health is 404 "404 page not found"', async () => {
    const port = await freePort();
    await startServing(bin.normal, port);
    const res = await get(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(404);
    expect(res.body.trim()).toBe('404 page not found');
  });

  it('the startup log line names the HTTP port, version and bind addresses, on stderr', async () => {
    const port = await freePort();
    const p = await startServing(bin.normal, port);
    const line = p.out.stderr.split('\n').find((l) => l.includes('starting LiveKit server')) ?? '';
    expect(line).toContain(`"portHttp": ${port}`);
    expect(line).toContain(`"version": "${VERSION}"`);
    expect(line).toContain('"bindAddresses": ["127.0.0.1"]');
  });

  it('an unknown config key is printed on stdout and the process exits 0', async () => {
    const config = join(dir, 'unknown-key.yaml');
    await writeFile(config, 'port: 7880\nrtc:\n  tcp_port: 7881\n  udp_prot: 7882\nhealth_check: true\n');
    const p = start(bin.normal, ['--config', config, '--keys', `${KEY}: ${SECRET}`]);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toContain('could not parse config');
    expect(p.out.stdout).toContain('line 4: field udp_prot not found in type config.RTCConfig');
    expect(p.out.stdout).toContain('line 5: field health_check not found in type config.Config');
  });

  it('a wrong type for a known key is a config error too (stdout, exit 0)', async () => {
    const p = start(bin.normal, ['--keys', `${KEY}: ${SECRET}`], { LIVEKIT_CONFIG: 'port: seven\nroom:\n  empty_timeout: -5\n' });
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toContain('line 1: cannot unmarshal !!str `seven` into uint32');
    expect(p.out.stdout).toContain('line 3: cannot unmarshal !!int `-5` into uint32');
  });

  it('an unreadable config file is printed on stdout, exit 0', async () => {
    const p = start(bin.normal, ['--config', join(dir, 'missing.yaml'), '--keys', `${KEY}: ${SECRET}`]);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toBe(`open ${join(dir, 'missing.yaml')}: no such file or directory\n`);
  });

  it('refuses a key file that others can read (mode 0644): message on stdout, exit 0', async () => {
    const keyFile = join(dir, 'keys-0644.yaml');
    await writeFile(keyFile, `${KEY}: ${SECRET}\n`);
    await chmod(keyFile, 0o644);
    const p = start(bin.normal, ['--key-file', keyFile]);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toBe('key file others permissions must be set to 0\n');
  });

  it('accepts a key file with mode 0600 and its keys work', async () => {
    const port = await freePort();
    const keyFile = join(dir, 'keys-0600.yaml');
    await writeFile(keyFile, `${KEY}: ${SECRET}\n`, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    const p = start(bin.normal, ['--bind', '127.0.0.1', '--config-body', `port: ${port}\nkey_file: ${keyFile}\n`]);
    await waitFor('startup', () => p.out.stderr.includes('starting LiveKit server'));
    const rooms = await new RoomServiceClient(`http://127.0.0.1:${port}`, KEY, SECRET).listRooms();
    expect(rooms).toEqual([]);
  });

  it('refuses to start without keys outside dev mode: message on stdout, exit 0', async () => {
    const p = start(bin.normal, ['--bind', '127.0.0.1']);
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stdout).toContain('one of key-file or keys must be provided');
  });

  it('logs a secret shorter than 32 characters as too short, starts anyway, and never prints a secret', async () => {
    const port = await freePort();
    const shortSecret = 'short-secret-xyz';
    const p = start(bin.normal, ['--bind', '127.0.0.1', '--port', String(port), '--keys', `${KEY}: ${shortSecret}`]);
    await waitFor('startup', () => p.out.stderr.includes('starting LiveKit server'));
    expect(p.out.stderr).toContain('secret is too short, should be at least 32 characters for security');
    p.child.kill('SIGTERM');
    await p.exited;
    expect(p.out.stdout + p.out.stderr).not.toContain(shortSecret);
  });

  it('a port already in use is printed on stdout and the process exits 0', async () => {
    const [httpPort, tcpPort] = await freePorts(2);
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(httpPort, '127.0.0.1', resolve));
    try {
      const p = start(bin.normal, ['--bind', '127.0.0.1', '--config-body', `port: ${httpPort}\n`, '--keys', `${KEY}: ${SECRET}`]);
      expect(await p.exited).toEqual({ code: 0, signal: null });
      expect(p.out.stdout).toBe(`listen tcp 127.0.0.1:${httpPort}: bind: address already in use\n`);

      // The same for the RTC TCP port (bound before the HTTP port).
      const q = start(bin.normal, ['--bind', '127.0.0.1', '--config-body', `port: ${tcpPort}\nrtc:\n  tcp_port: ${httpPort}\n`, '--keys', `${KEY}: ${SECRET}`]);
      expect(await q.exited).toEqual({ code: 0, signal: null });
      expect(q.out.stdout).toContain('address already in use');
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('SIGTERM logs "exit requested, shutting down" and exits 0', async () => {
    const port = await freePort();
    const p = await startServing(bin.normal, port);
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(p.out.stderr).toContain('exit requested, shutting down');
  });

  it('livekit-server-sdk RoomServiceClient creates and lists rooms with the right secret', async () => {
    const port = await freePort();
    await startServing(bin.normal, port);
    const client = new RoomServiceClient(`http://127.0.0.1:${port}`, KEY, SECRET);
    const room = await client.createRoom({ name: 'kitchen', emptyTimeout: 60 });
    expect(room.name).toBe('kitchen');
    expect(room.sid).toMatch(/^RM_/);
    expect(room.emptyTimeout).toBe(60);
    const rooms = await client.listRooms();
    expect(rooms.map((r) => r.name)).toEqual(['kitchen']);
    await client.deleteRoom('kitchen');
    expect(await client.listRooms()).toEqual([]);
  });

  it('livekit-server-sdk calls fail with 401 for a wrong secret, an unknown key or a missing grant', async () => {
    const port = await freePort();
    await startServing(bin.normal, port);
    const url = `http://127.0.0.1:${port}`;
    await expect(new RoomServiceClient(url, KEY, 'x'.repeat(40)).listRooms()).rejects.toMatchObject({ status: 401 });
    await expect(new RoomServiceClient(url, 'APIother', SECRET).createRoom({ name: 'x' })).rejects.toMatchObject({ status: 401 });

    const token = new AccessToken(KEY, SECRET, { ttl: '1m', identity: 'someone' });
    token.addGrant({ roomJoin: true, room: 'x' }); // valid signature, but no roomList grant
    const res = await fetch(`${url}/twirp/livekit.RoomService/ListRooms`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await token.toJwt()}` },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 'unauthenticated', msg: 'permissions denied' });
  });

  it('in never-ready mode GET / keeps answering 406', async () => {
    const port = await freePort();
    await startServing(bin.neverReady, port);
    for (let i = 0; i < 5; i++) {
      expect((await get(`http://127.0.0.1:${port}/`)).status).toBe(406);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('in crash mode the process panics on stderr and exits non-zero', async () => {
    const p = start(bin.crash, ['--bind', '127.0.0.1', '--port', String(await freePort()), '--keys', `${KEY}: ${SECRET}`]);
    const { code } = await p.exited;
    expect(code).toBe(2);
    expect(p.out.stderr).toMatch(/^panic: /m);
  });
});

describe.skipIf(!userManagerAvailable())('systemd --user harness', () => {
  let manager: UserManager | undefined;

  afterEach(async () => {
    await manager?.stop();
    manager = undefined;
  });

  async function unitState(m: UserManager, unit: string): Promise<Record<string, string>> {
    const r = await m.systemctl('show', unit, '-p', 'ActiveState,SubState,Result,MainPID');
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
  }

  it('runs the stand-in as a user unit: active and healthy, then stopped cleanly with the manager', async () => {
    manager = await startUserManager();
    const m = manager;
    const port = await freePort();
    const wrapper = join(m.env.HOME, '.local', 'bin', 'livekit-server');
    await writeStandin(wrapper, { version: VERSION, readyAfterMs: 200 });
    const config = join(m.env.XDG_CONFIG_HOME, 'livekit.yaml');
    const keyFile = join(m.env.XDG_CONFIG_HOME, 'livekit-keys.yaml');
    const log = join(m.env.HOME, 'livekit.log');
    await writeFile(keyFile, `${KEY}: ${SECRET}\n`, { mode: 0o600 });
    await writeFile(config, `port: ${port}\nbind_addresses: [127.0.0.1]\nkey_file: ${keyFile}\n`);
    await writeFile(
      join(m.unitDir, 'livekit-standin.service'),
      [
        '[Unit]',
        'Description=LiveKit stand-in',
        '[Service]',
        `ExecStart=${wrapper} --config ${config}`,
        'Restart=on-failure',
        `StandardOutput=append:${log}`,
        `StandardError=append:${log}`,
        '',
      ].join('\n'),
    );
    expect((await m.systemctl('daemon-reload')).code).toBe(0);
    const started = await m.systemctl('start', 'livekit-standin.service');
    expect(started).toMatchObject({ code: 0 });

    const why = (what: string) => async () => `${what}\n${JSON.stringify(await unitState(m, 'livekit-standin.service'))}\n${await readFile(log, 'utf8').catch(() => '')}`;
    await waitFor(why('unit active'), async () => (await unitState(m, 'livekit-standin.service')).SubState === 'running');
    await waitFor(why('healthy'), async () => (await get(`http://127.0.0.1:${port}/`).catch(() => ({ status: 0 }))).status === 200);

    expect((await m.systemctl('stop', 'livekit-standin.service')).code).toBe(0);
    expect(await unitState(m, 'livekit-standin.service')).toMatchObject({ ActiveState: 'inactive', MainPID: '0' });
    const text = await readFile(log, 'utf8');
    expect(text).toContain('starting LiveKit server');
    expect(text).toContain('exit requested, shutting down');
    expect(text).not.toContain(SECRET);

    // A config error exits 0: the unit ends inactive with Result=success, never restarted.
    await writeFile(config, `port: ${port}\nbind_addresses: [127.0.0.1]\nkey_file: ${keyFile}\nhealth: /health\n`);
    expect((await m.systemctl('start', 'livekit-standin.service')).code).toBe(0);
    await waitFor('unit inactive after config error', async () => (await unitState(m, 'livekit-standin.service')).ActiveState === 'inactive');
    expect(await unitState(m, 'livekit-standin.service')).toMatchObject({ ActiveState: 'inactive', Result: 'success' });
    expect(await readFile(log, 'utf8')).toContain('field health not found in type config.Config');

    const root = m.root;
    await m.stop();
    manager = undefined;
    expect(existsSync(root)).toBe(false);
  });
});
