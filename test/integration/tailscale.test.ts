// LiveKit on the tailnet (`expose:`), for real where it can be: vm, a private systemd user
// manager and the LiveKit stand-in run in a private network namespace made here (loopback up, the
// "tailnet" address on lo as a /32), so LiveKit really listens on 100.101.102.103 and a client in
// that namespace really gets `200 OK` from it. Tailscale itself cannot run here: a fake `tailscale`
// on PATH (test/fixtures/fake-tailscale) answers from a JSON file this test rewrites, and records
// every call. Nothing here reaches outside that namespace.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { livekitEntry, ROOT, servicesFile, waitFor, writeStandin } from '../kit/index.js';

const IP = '100.101.102.103';
const IP2 = '100.101.102.104';
const PORT = 17880;
const TCP_PORT = 17881;
const SECRET = 'tailnet-secret-0123456789-abcdefghijklmnop';
const FAKE = `${ROOT}test/fixtures/fake-tailscale`;

let ns: ChildProcess;
let mgr: UserManager;
let env: Record<string, string>;
let fakeDir: string;
let stateFile: string;
let logFile: string;
let specPath: string;
let configPath: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program inside the test's network namespace. */
function inNs(file: string, args: readonly string[], extraEnv: Record<string, string> = {}, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile('nsenter', ['-t', String(ns.pid), '-n', file, ...args], { env: { ...env, ...extraEnv }, cwd: env['HOME'], timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });
}
const vm = (...args: string[]) => inNs(process.execPath, [`${ROOT}bin/vm.cjs`, ...args]);

/** GET / from inside the namespace: "200 OK", or why not. */
async function get(host: string): Promise<string> {
  const script = `fetch('http://${host}:${PORT}/').then(async (r) => console.log(r.status + ' ' + (await r.text()).trim()), (e) => console.log('error ' + (e.cause?.code ?? e.message)))`;
  return (await inNs(process.execPath, ['-e', script], {}, 10_000)).stdout.trim();
}

async function tailnet(state: object): Promise<void> {
  await writeFile(stateFile, JSON.stringify({ dns: 'box.tail1234.ts.net.', magicDNS: true, ...state }));
}

function spec(expose: { tailscale: boolean; https?: boolean; https_port?: number } | undefined): string {
  const livekit = livekitEntry({
    install: { method: 'path', path: `${env['HOME']}/bin/livekit-server` },
    port: PORT,
    rtcRange: [54000, 54100],
    tcpPort: TCP_PORT,
    keys: { phone: SECRET },
    health: '20s',
    ...(expose === undefined ? {} : { expose }),
  });
  return servicesFile({ livekit });
}

async function mainPid(): Promise<string> {
  return (await mgr.systemctl('show', 'voicemode-livekit.service', '-p', 'MainPID', '--value')).stdout.trim();
}

async function planJson(): Promise<{ steps: { resource: string; action: string; reason: string }[]; warnings: string[] }> {
  const r = await vm('plan', '--json', '-f', specPath);
  expect(r.stderr).not.toContain(SECRET);
  return JSON.parse(r.stdout) as { steps: { resource: string; action: string; reason: string }[]; warnings: string[] };
}

const available = userManagerAvailable();

describe.skipIf(!available)('expose: LiveKit on the tailnet (fake tailscale, real network namespace)', () => {
  beforeAll(async () => {
    // The namespace's holder: loopback up, the tailnet address on lo, then it waits.
    ns = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && ip addr add ${IP}/32 dev lo && echo ready && exec sleep 100000`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      ns.stdout?.once('data', () => resolve());
      ns.once('exit', (c) => reject(new Error(`unshare -n exited ${c}`)));
    });
    mgr = await startUserManager({ netnsPid: ns.pid as number });
    fakeDir = `${mgr.root}/fakebin`;
    await mkdir(fakeDir, { recursive: true });
    await symlink(FAKE, `${fakeDir}/tailscale`);
    stateFile = `${mgr.root}/tailscale-state.json`;
    logFile = `${mgr.root}/tailscale.log`;
    env = {
      ...mgr.env,
      PATH: `${fakeDir}:/usr/local/bin:/usr/bin:/bin`,
      FAKE_TAILSCALE_STATE: stateFile,
      FAKE_TAILSCALE_SERVE: `${mgr.root}/tailscale-serve.json`,
      FAKE_TAILSCALE_LOG: logFile,
      VOICEMODE_HOSTNAME: 'box',
    };
    await writeStandin(`${env['HOME']}/bin/livekit-server`, { version: '1.9.0', readyAfterMs: 300 });
    specPath = `${env['HOME']}/voicemode.services.yaml`;
    configPath = `${env['HOME']}/.voicemode/services/livekit/livekit.yaml`;
  }, 60_000);

  afterAll(async () => {
    await mgr?.stop();
    ns?.kill('SIGKILL');
  });

  it('Running: bound on the tailnet address with rtc.node_ip, loopback kept, healthy, converged', async () => {
    await tailnet({ backend: 'Running', ip: IP });
    await writeFile(specPath, spec({ tailscale: true }));
    const a = await vm('apply', '--yes', '-f', specPath);
    expect(a.code, a.stderr + a.stdout).toBe(0);
    const config = await readFile(configPath, 'utf8');
    expect(config).toContain(`bind_addresses:\n  - 127.0.0.1\n  - ${IP}\n`);
    expect(config).toContain(`node_ip: ${IP}`);
    expect(await get(IP)).toBe('200 OK');
    expect(await get('127.0.0.1')).toBe('200 OK');
    const p = await planJson();
    expect(p.steps).toEqual([]);
    expect(p.warnings).toEqual([]);
    // The stand-in logs the node IP it advertises, as livekit-server does.
    expect(await readFile(`${env['HOME']}/.voicemode/logs/livekit/livekit.log`, 'utf8')).toContain(`"nodeIP": "${IP}"`);
  }, 120_000);

  it('the address changes: one restart onto the new address; the next apply restarts nothing', async () => {
    const before = await mainPid();
    expect((await inNs('ip', ['addr', 'add', `${IP2}/32`, 'dev', 'lo'])).code).toBe(0);
    await tailnet({ backend: 'Running', ip: IP2 });
    const p = await planJson();
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['config update', 'running restart', 'healthy wait-healthy']);
    expect(p.steps[0]?.reason).toContain(IP2);
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    const after = await mainPid();
    expect(after).not.toBe(before);
    expect(await readFile(configPath, 'utf8')).toContain(`node_ip: ${IP2}`);
    expect(await get(IP2)).toBe('200 OK');
    expect(await get(IP)).toMatch(/^error/);
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    expect(await mainPid()).toBe(after);
  }, 120_000);

  it('NeedsLogin: loopback only, a warning with the reason and the fix, healthy, no restart loop', async () => {
    await tailnet({ backend: 'NeedsLogin' });
    const a = await vm('apply', '--yes', '-f', specPath);
    expect(a.code, a.stderr + a.stdout).toBe(0);
    expect(a.stdout + a.stderr).toContain('not exposed on the tailnet: tailscale says NeedsLogin — run `tailscale up`');
    const config = await readFile(configPath, 'utf8');
    expect(config).not.toContain('node_ip');
    expect(config).toContain('bind_addresses:\n  - 127.0.0.1\nrtc');
    expect(await get('127.0.0.1')).toBe('200 OK');
    const pid = await mainPid();
    const again = await vm('apply', '--yes', '-f', specPath);
    expect(again.code).toBe(0);
    expect(await mainPid()).toBe(pid);
    const p = await planJson();
    expect(p.steps).toEqual([]);
    expect(p.warnings).toEqual(['not exposed on the tailnet: tailscale says NeedsLogin — run `tailscale up`; LiveKit keeps serving locally']);
    expect((await vm('env', '--remote', '-f', specPath)).stderr).toContain('tailscale says NeedsLogin');
  }, 120_000);

  it('daemon down and not installed are warnings with their reasons, never errors', async () => {
    await tailnet({ backend: 'Running', ip: IP, daemon: false });
    expect((await planJson()).warnings[0]).toContain('tailscaled is not running');
    await rm(`${fakeDir}/tailscale`);
    try {
      expect((await planJson()).warnings[0]).toContain('tailscale is not installed');
    } finally {
      await symlink(FAKE, `${fakeDir}/tailscale`);
    }
  }, 60_000);

  it('back to Running: exposed again; the remote URL is the MagicDNS name', async () => {
    await tailnet({ backend: 'Running', ip: IP });
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    expect(await get(IP)).toBe('200 OK');
    const e = await vm('env', '--remote', '--format', 'dotenv', '-f', specPath);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain(`LIVEKIT_URL=ws://box.tail1234.ts.net:${PORT}`);
    const s = await vm('status', '-f', specPath);
    expect(s.stdout).toContain(`remote   ws://box.tail1234.ts.net:${PORT}`);
    await tailnet({ backend: 'Running', ip: IP, magicDNS: false });
    expect((await vm('env', '--remote', '--format', 'dotenv', '-f', specPath)).stdout).toContain(`LIVEKIT_URL=ws://${IP}:${PORT}`);
    await tailnet({ backend: 'Running', ip: IP });
  }, 120_000);

  it('https: the tailscale serve endpoint is made once, handed out as wss://, and removed on un-expose', async () => {
    await writeFile(logFile, '');
    await writeFile(specPath, spec({ tailscale: true, https: true, https_port: 7443 }));
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    const calls = (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.startsWith('serve --'));
    expect(calls).toEqual([`serve --bg --yes --tls-terminated-tcp=7443 tcp://127.0.0.1:${PORT}`]);
    expect((await planJson()).steps).toEqual([]);
    const t = await vm('token', '--remote', '--json', '--room', 'r1', '-f', specPath);
    expect(t.code, t.stderr).toBe(0);
    expect((JSON.parse(t.stdout) as { url: string }).url).toBe('wss://box.tail1234.ts.net:7443');

    // Someone else's endpoint on another port is not vm's: it stays when vm's goes.
    const serveFile = env['FAKE_TAILSCALE_SERVE'] as string;
    const sc = JSON.parse(await readFile(serveFile, 'utf8')) as { TCP: Record<string, unknown> };
    sc.TCP['9000'] = { TCPForward: '127.0.0.1:9000' };
    await writeFile(serveFile, JSON.stringify(sc));
    await writeFile(specPath, spec({ tailscale: true }));
    const p = await planJson();
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['expose remove']);
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    expect((await readFile(logFile, 'utf8')).split('\n').filter((l) => l.startsWith('serve --'))).toEqual([`serve --bg --yes --tls-terminated-tcp=7443 tcp://127.0.0.1:${PORT}`, 'serve --tls-terminated-tcp=7443 off']);
    expect(Object.keys((JSON.parse(await readFile(serveFile, 'utf8')) as { TCP: object }).TCP)).toEqual(['9000']);
    expect((await planJson()).steps).toEqual([]);
  }, 180_000);

  it('https: a serve endpoint that fails to move is rolled back to the one that worked', async () => {
    const serveFile = env['FAKE_TAILSCALE_SERVE'] as string;
    const record = `${env['HOME']}/.voicemode/state/tailscale-serve-livekit.json`;
    const ports = async () => Object.keys((JSON.parse(await readFile(serveFile, 'utf8')) as { TCP?: object }).TCP ?? {});
    await writeFile(specPath, spec({ tailscale: true, https: true, https_port: 7443 }));
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    expect(await ports()).toEqual(['7443', '9000']);
    // Moving it to 8443: vm removes 7443, then tailscale refuses 8443.
    await tailnet({ backend: 'Running', ip: IP, failServeOn: 8443 });
    await writeFile(specPath, spec({ tailscale: true, https: true, https_port: 8443 }));
    const r = await vm('apply', '--yes', '-f', specPath);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('tailscale serve --bg --yes --tls-terminated-tcp=8443');
    expect(r.stderr).toContain('(fake-tailscale) port 8443 refused');
    expect(r.stderr).toMatch(/rolled back/);
    expect(await ports()).toEqual(['7443', '9000']);
    expect(JSON.parse(await readFile(record, 'utf8'))).toEqual({ port: 7443, target: `127.0.0.1:${PORT}` });
    expect(await get(IP)).toBe('200 OK');
    // Once tailscale takes it, the move goes through; un-exposing removes vm's endpoint only.
    await tailnet({ backend: 'Running', ip: IP });
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    expect(await ports()).toEqual(['8443', '9000']);
    await writeFile(specPath, spec({ tailscale: true }));
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    expect(await ports()).toEqual(['9000']);
    expect((await planJson()).steps).toEqual([]);
  }, 180_000);

  it('without expose, a converged plan never runs tailscale', async () => {
    await writeFile(specPath, spec(undefined));
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    await writeFile(logFile, '');
    expect((await planJson()).steps).toEqual([]);
    expect(await readFile(logFile, 'utf8')).toBe('');
  }, 120_000);

  it('vm watch picks up a tailnet change within one resync interval', async () => {
    await tailnet({ backend: 'Running', ip: IP });
    await writeFile(specPath, spec({ tailscale: true }));
    expect((await vm('apply', '--yes', '-f', specPath)).code).toBe(0);
    const watch = spawn('nsenter', ['-t', String(ns.pid), '-n', process.execPath, `${ROOT}bin/vm.cjs`, 'watch', '--interval', '2s', '-f', specPath], { env, cwd: env['HOME'], stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await tailnet({ backend: 'Running', ip: IP2 });
      const changedAt = Date.now();
      await waitFor('the watch to render the new address', async () => (await readFile(configPath, 'utf8')).includes(`node_ip: ${IP2}`), 30_000, 200);
      // One interval, plus the apply's own time on a loaded machine.
      expect(Date.now() - changedAt).toBeLessThan(15_000);
      // Every 200 ms, not faster: each look runs a program in the namespace.
      await waitFor('LiveKit on the new address', async () => (await get(IP2)) === '200 OK', 30_000, 200);
    } finally {
      const gone = new Promise((r) => watch.once('exit', r));
      watch.kill('SIGTERM');
      await gone;
    }
  }, 120_000);
});
