// Another LiveKit already on the declared port (an old Voice Mode, `brew services`, a second vm
// HOME): it answers GET / with OK just as vm's would, so health must be LiveKit's *own* answer.
// Through the built CLI, under the process supervisor and under systemd; the foreign LiveKit is a
// second stand-in the test starts itself.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/model.js';
import { waitHealthy } from '../../src/apply/wait-healthy.js';
import { LIVEKIT_HEALTH } from '../../src/services/livekit/render.js';
import { nodeHost } from '../../src/platform/node-host.js';
import { processSupervisor } from '../../src/platform/supervisors/process.js';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, tempHome, userManagerAvailable, type TempHome, type UserManager } from '../helpers/systemd.js';
import { freePorts, livekitEntry, runVm, servicesFile, standinScript, waitFor, writeStandin } from '../kit/index.js';

const OTHER_SECRET = 'the-other-livekits-secret-0123456789abcdef';

let rel: ReleaseServer;
let scratch: string;

beforeAll(async () => {
  rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
  scratch = await mkdtemp(join(tmpdir(), 'vm-foreign-'));
  await writeStandin(join(scratch, 'bin', 'livekit-server'), { version: '1.8.0', readyAfterMs: 0 });
});

afterAll(async () => {
  await rel?.close();
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
});

function spec(port: number, tcpPort: number, over: { bind?: string } = {}): string {
  const livekit = livekitEntry({
    version: '1.9.0',
    install: { base_url: rel.baseUrl },
    port,
    bind_addresses: [over.bind ?? '127.0.0.1'],
    rtcRange: [53200, 53300],
    tcpPort,
    // A start that should succeed may take seconds on a loaded machine.
    health: '20s',
  });
  return servicesFile({ livekit });
}

/** A LiveKit vm does not manage, on `port` (and its own rtc.tcp_port), answering 200 OK. */
class OtherLiveKit {
  private constructor(readonly child: ChildProcess, readonly port: number) {}

  static async start(port: number, tcpPort: number): Promise<OtherLiveKit> {
    const config = join(scratch, `other-${port}.yaml`);
    await writeFile(config, `port: ${port}\nbind_addresses: [127.0.0.1]\nrtc: { tcp_port: ${tcpPort} }\nkeys:\n  other: ${OTHER_SECRET}\n`, { mode: 0o600 });
    const child = spawn(join(scratch, 'bin', 'livekit-server'), ['--config', config], { stdio: 'ignore', detached: true });
    const other = new OtherLiveKit(child, port);
    await waitFor(`the other LiveKit's 200 OK on ${port}`, async () => (await livekitHealth(port)) === '200 OK', 10_000);
    return other;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}

const others: OtherLiveKit[] = [];
const startOther = async (port: number, tcpPort: number) => {
  const o = await OtherLiveKit.start(port, tcpPort);
  others.push(o);
  return o;
};
afterEach(async () => {
  for (const o of others.splice(0)) await o.stop();
});

const blockedByOther = (port: number, pid: number) => new RegExp(`blocked: port ${port} is in use by pid ${pid} \\(.*livekit.*\\), not by vm's LiveKit`);

describe('under the process supervisor', () => {
  let home: TempHome;
  let env: Record<string, string>;
  let port: number;
  let tcpPort: number;
  let otherTcp: number;
  const vm = (...args: string[]) => runVm(args, env);
  const lkDir = () => `${home.env.HOME}/.voicemode/services/livekit`;
  const pidFile = () => `${home.env.HOME}/.voicemode/run/livekit.pid`;

  beforeAll(async () => {
    home = await tempHome();
    [port, tcpPort, otherTcp] = (await freePorts(3)) as [number, number, number];
    env = { ...home.env, VOICEMODE_SERVICES_FILE: `${home.env.HOME}/voicemode.services.yaml` };
    await writeFile(env['VOICEMODE_SERVICES_FILE'] as string, spec(port, tcpPort));
  });
  afterAll(async () => {
    await home?.cleanup();
  });

  it('another LiveKit on the port blocks plan and apply, naming its pid; apply changes nothing', async () => {
    const other = await startOther(port, otherTcp);
    const p = await vm('plan');
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(/Supervisor: process/);
    expect(p.stdout).toMatch(blockedByOther(port, other.pid));

    const a = await vm('apply', '--yes');
    expect(a.code).toBe(1);
    expect(a.stdout + a.stderr).toContain(`port ${port} is in use by pid ${other.pid}`);
    expect(existsSync(`${lkDir()}/livekit.yaml`)).toBe(false);
    expect(existsSync(pidFile())).toBe(false);
    expect(await livekitHealth(port)).toBe('200 OK'); // the other one, untouched
    expect(other.child.exitCode).toBe(null);

    const s = await vm('status');
    expect(s.stdout).toMatch(new RegExp(`healthy\\s+no \\(the port is held by pid ${other.pid} `));
    expect(s.stdout).not.toMatch(/healthy\s+yes/);
  });

  it('once the other LiveKit is gone, apply starts vm\'s own and status says healthy yes', async () => {
    const a = await vm('apply', '--yes');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
    expect((await vm('status')).stdout).toMatch(/healthy\s+yes/);
  });

  it('vm\'s LiveKit gone and another one answering in its place: status never says healthy yes, plan is blocked', async () => {
    const ours = (JSON.parse(await readFile(pidFile(), 'utf8')) as { pid: number }).pid;
    process.kill(ours, 'SIGKILL');
    await waitFor('the killed LiveKit to stop answering', async () => (await livekitHealth(port)) === 'down', 5_000);
    const other = await startOther(port, otherTcp);

    const s = await vm('status');
    expect(s.stdout).toMatch(/running\s+no \(stale pid file/);
    expect(s.stdout).toMatch(new RegExp(`healthy\\s+no \\(the port is held by pid ${other.pid} `));
    const j = JSON.parse((await vm('status', '--json')).stdout) as { services: { livekit: { healthy: boolean } } };
    expect(j.services.livekit.healthy).toBe(false);

    const a = await vm('apply', '--yes');
    expect(a.code).toBe(1);
    expect(a.stdout + a.stderr).toContain(`port ${port} is in use by pid ${other.pid}`);
    expect(a.stdout).not.toContain('converged');
  });
});

describe('a process on rtc.tcp_port', () => {
  let home: TempHome;
  afterAll(async () => {
    await home?.cleanup();
  });

  it('blocks the start, naming its pid; apply starts nothing', async () => {
    home = await tempHome();
    const [port, tcpPort] = (await freePorts(2)) as [number, number];
    const file = `${home.env.HOME}/voicemode.services.yaml`;
    await writeFile(file, spec(port, tcpPort));
    const env = { ...home.env, VOICEMODE_SERVICES_FILE: file };
    const server: Server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen({ port: tcpPort, host: '127.0.0.1' }, r));
    try {
      const p = await runVm(['plan'], env);
      expect(p.code).toBe(1);
      expect(p.stdout).toContain(`blocked: rtc.tcp_port ${tcpPort} is in use by pid ${process.pid} (`);
      const a = await runVm(['apply', '--yes'], env);
      expect(a.code).toBe(1);
      expect(existsSync(`${home.env.HOME}/.voicemode/run/livekit.pid`)).toBe(false);
      expect(await livekitHealth(port)).toBe('down');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

describe('a bind address that is on no interface of this machine', () => {
  let home: TempHome;
  afterAll(async () => {
    await home?.cleanup();
  });

  it('is a plan blocker naming the address; apply exits 1 and writes nothing', async () => {
    home = await tempHome();
    const [port, tcpPort] = (await freePorts(2)) as [number, number];
    const file = `${home.env.HOME}/voicemode.services.yaml`;
    // 192.0.2.1 is TEST-NET-1: never on a real interface, and never contacted here.
    await writeFile(file, spec(port, tcpPort, { bind: '192.0.2.1' }));
    const env = { ...home.env, VOICEMODE_SERVICES_FILE: file };
    const p = await runVm(['plan'], env);
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(/blocked: bind_addresses: 192\.0\.2\.1 is not an address of this machine \(its interfaces have [^)]*127\.0\.0\.1/);
    const a = await runVm(['apply', '--yes'], env);
    expect(a.code).toBe(1);
    expect(a.stdout + a.stderr).toContain('192.0.2.1 is not an address of this machine');
    expect(existsSync(`${home.env.HOME}/.voicemode/services/livekit/livekit.yaml`)).toBe(false);
    expect(existsSync(`${home.env.HOME}/.voicemode/services/livekit/versions`)).toBe(false);
  });
});

describe('wait-healthy', () => {
  let home: TempHome;
  afterAll(async () => {
    await home?.cleanup();
  });

  it('fails when the OK comes from another process while vm\'s own still runs', async () => {
    // vm's "LiveKit" here is a process that never listens: the only OK on the port is foreign.
    home = await tempHome();
    const [port, tcpPort] = (await freePorts(2)) as [number, number];
    const other = await startOther(port, tcpPort);
    const host = nodeHost({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home.env.HOME });
    const svc: ServiceSpec = {
      name: 'livekit', label: 'livekit', binary: '/bin/sleep', args: ['60'], logFile: `${home.root}/log/livekit.log`,
      definitionFile: undefined, pidFile: `${home.root}/run/livekit.pid`, autostart: false,
    };
    await processSupervisor.run(host, svc, 'start');
    try {
      const r = await waitHealthy(host, `http://127.0.0.1:${port}/`, LIVEKIT_HEALTH, 'process', svc, 5_000);
      expect(r).toEqual({ ok: false, why: expect.stringContaining(`was answered by pid ${other.pid} (`) as string });
    } finally {
      await processSupervisor.run(host, svc, 'stop');
    }
  });
});

describe.skipIf(!userManagerAvailable())('under systemd', () => {
  let um: UserManager;
  afterAll(async () => {
    await um?.systemctl('stop', 'voicemode-livekit.service');
    await um?.stop();
  });

  it('another LiveKit on the port blocks plan and apply, naming its pid; no unit is written or started', async () => {
    um = await startUserManager();
    const [port, tcpPort, otherTcp] = (await freePorts(3)) as [number, number, number];
    const file = `${um.env.HOME}/voicemode.services.yaml`;
    await writeFile(file, spec(port, tcpPort));
    const env = { ...um.env, VOICEMODE_SERVICES_FILE: file };
    const other = await startOther(port, otherTcp);

    const p = await runVm(['plan'], env);
    expect(p.code).toBe(1);
    expect(p.stdout).toMatch(/Supervisor: systemd/);
    expect(p.stdout).toMatch(blockedByOther(port, other.pid));
    const a = await runVm(['apply', '--yes'], env);
    expect(a.code).toBe(1);
    expect(a.stdout + a.stderr).toContain(`port ${port} is in use by pid ${other.pid}`);
    expect(existsSync(`${um.unitDir}/voicemode-livekit.service`)).toBe(false);
    expect((await um.systemctl('show', 'voicemode-livekit.service', '-p', 'ActiveState')).stdout.trim()).toBe('ActiveState=inactive');
    expect((await runVm(['status'], env)).stdout).toMatch(new RegExp(`healthy\\s+no \\(the port is held by pid ${other.pid} `));

    // With the other one gone, vm's own converges and its own listener is not mistaken for foreign.
    await other.stop();
    const b = await runVm(['apply', '--yes'], env);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    expect((await runVm(['plan', '--detailed-exitcode'], env)).code).toBe(0);
    expect((await runVm(['status'], env)).stdout).toMatch(/healthy\s+yes/);
  });
});
