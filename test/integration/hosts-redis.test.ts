// One services file for two machines, and LiveKit's own multi-node mode over a real Redis.
// A real redis-server (Debian's package) is started here on 127.0.0.1 with a password and a temp
// dir (never the system service). Two HOMEs, VOICEMODE_HOSTNAME set per HOME, read the same
// file: its `hosts:` entries give each node its port and region, and both stand-in LiveKit nodes
// (which, like the real server, connect to the configured Redis at start and register in its
// `nodes` hash) join the same Redis; `redis-cli` reads both back. Then the `redis` kind itself:
// vm brings up a redis-server under a real systemd user manager, healthy by PING.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, stat, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUserManager, tempHome, userManagerAvailable, type TempHome, type UserManager } from '../helpers/systemd.js';
import { freePorts, livekitEntry, redisEntry, runVm, servicesFile, transcript, waitFor, writeStandin } from '../kit/index.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const REDIS_CLI = '/usr/bin/redis-cli';
const haveRedis = existsSync(REDIS_SERVER) && existsSync(REDIS_CLI);
const PASSWORD = 'redis-test-password-0123456789abcdef';
const SECRET = 'hosts-test-secret-0123456789abcdefghijklmn';

function cli(port: number, password: string | undefined, ...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const env = { PATH: '/usr/bin:/bin', ...(password === undefined ? {} : { REDISCLI_AUTH: password }) };
    execFile(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(port), ...args], { env, timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: `${stdout}${stderr}` });
    });
  });
}

/** Our own redis-server: 127.0.0.1, a password, a temp dir, nothing saved. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', PASSWORD, '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
  await waitFor('redis PING', async () => (await cli(port, PASSWORD, 'PING')).out.trim() === 'PONG', 20_000, 100);
  return child;
}

async function stopRedis(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

describe.skipIf(!haveRedis)('one file, two hosts, LiveKit nodes sharing a real Redis', () => {
  let shared: string;
  let homes: [TempHome, TempHome];
  let ports: { redis: number; a: number; ta: number; b: number; tb: number };
  let redis: ChildProcess | undefined;
  let specPath: string;
  const envFor = (i: 0 | 1, password = PASSWORD): Record<string, string> => ({
    ...homes[i].env,
    VOICEMODE_HOSTNAME: i === 0 ? 'node-a.tailnet.ts.net' : 'node-b',
    VOICEMODE_SERVICES_FILE: specPath,
    REDIS_PASSWORD: password,
  });
  const vm = (i: 0 | 1, args: string[], password?: string) => runVm(args, envFor(i, password));
  const configOf = (i: 0 | 1) => `${homes[i].root}/home/.voicemode/services/livekit/livekit.yaml`;

  beforeAll(async () => {
    shared = await mkdtemp(`${tmpdir()}/vm-hosts-`);
    homes = [await tempHome(), await tempHome()];
    const [r, a, ta, b, tb] = (await freePorts(5)) as [number, number, number, number, number];
    ports = { redis: r, a, ta, b, tb };
    await writeStandin(`${shared}/bin/livekit-server`, { version: '1.9.0', readyAfterMs: 300 });
    specPath = `${shared}/dotfiles/voicemode.services.yaml`;
    await mkdir(`${shared}/dotfiles`, { recursive: true });
    const livekit = livekitEntry({
      install: { method: 'path', path: `${shared}/bin/livekit-server` },
      keys: { main: SECRET },
      redis: { address: `127.0.0.1:${ports.redis}`, password: { env: 'REDIS_PASSWORD' } },
      health: '20s',
    });
    const nodeA = { services: { livekit: livekitEntry({ port: ports.a, rtcRange: [52000, 52100], tcpPort: ports.ta, region: 'region-a' }) } };
    const nodeB = { services: { livekit: livekitEntry({ port: ports.b, rtcRange: [52200, 52300], tcpPort: ports.tb, region: 'region-b' }) } };
    // In this order: "node-?" matches node-a too, and the later "node-a*" wins over it.
    await writeFile(specPath, servicesFile({ livekit }, { supervisor: 'process', hosts: { 'node-a': nodeA, 'node-?': nodeB, 'node-a*': nodeA } }));
  }, 60_000);

  afterAll(async () => {
    await stopRedis(redis);
    await Promise.all((homes ?? []).map((h) => h.cleanup()));
    if (shared !== undefined) await rm(shared, { recursive: true, force: true });
  }, 60_000);

  it('vm validate checks the base and every hosts entry', async () => {
    const r = await vm(0, ['validate']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('valid (the base and 3 hosts entries: hosts.node-a, hosts."node-?", hosts."node-a*")');
  });

  it('vm render --host shows each host its merged state, secrets (sensitive), and observes nothing', async () => {
    const a = await vm(0, ['render', '--host', 'node-a', '--json']);
    expect(a.code).toBe(0);
    const ra = JSON.parse(a.stdout) as { host: string; applied: string[]; desired: { services: { livekit: Record<string, any> } } };
    // node-a.tailnet.ts.net matches by FQDN or short name; "node-?" matches node-a too, and the
    // later "node-a*" wins over it (file order).
    expect(ra.applied).toEqual(['node-a', 'node-?', 'node-a*']);
    expect(ra.desired.services.livekit['port']).toBe(ports.a);
    expect(ra.desired.services.livekit['region']).toBe('region-a');
    expect(ra.desired.services.livekit['redis']).toEqual({ address: `127.0.0.1:${ports.redis}`, password: '(sensitive)', db: 0, tls: false });
    expect(ra.desired.services.livekit['keys']).toEqual({ kind: 'declared', entries: { main: '(sensitive)' } });

    // node-b (short name): only "node-?" matches; the same keys on both nodes.
    const b = await vm(1, ['render', '--host', 'node-b']);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('# host node-b: hosts."node-?" applied');
    expect(b.stdout).toContain(`port: ${ports.b}`);
    expect(b.stdout).toContain('region: region-b');
    expect(b.stdout).toContain('main: (sensitive)');
    expect(b.stdout).toContain('password: (sensitive)');
    // Changing nothing: no vm directory was made in either HOME.
    for (const h of homes) expect(existsSync(`${h.root}/home/.voicemode`)).toBe(false);
  });

  it('Redis down: a blocker naming the address and the error, nothing changed', async () => {
    const plan = await vm(0, ['plan']);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain('note: host node-a.tailnet.ts.net: hosts.node-a, hosts."node-?", hosts."node-a*" applied');
    expect(plan.stdout).toContain(`LiveKit's Redis at 127.0.0.1:${ports.redis} does not answer: ECONNREFUSED`);
    const apply = await vm(0, ['apply', '--yes']);
    expect(apply.code).toBe(1);
    expect(existsSync(configOf(0))).toBe(false);
  });

  it('wrong password: a blocker before anything changes', async () => {
    redis = await startRedis(ports.redis, shared);
    const apply = await vm(0, ['apply', '--yes'], 'not-the-password-0123456789');
    expect(apply.code).toBe(1);
    expect(`${apply.stdout}${apply.stderr}`).toMatch(new RegExp(`LiveKit's Redis at 127\\.0\\.0\\.1:${ports.redis} does not answer: WRONGPASS`));
    expect(existsSync(configOf(0))).toBe(false);
  });

  it('both nodes, configured from the one file, join the same Redis', async () => {
    const plan = await vm(0, ['plan']);
    expect(plan.code).toBe(0);
    // The password is in the 0600 config only: the plan's diff shows (sensitive).
    expect(plan.stdout).toContain('password: (sensitive)');
    for (const i of [0, 1] as const) {
      const r = await vm(i, ['apply', '--yes']);
      expect(r.stderr + r.stdout).toMatch(/converged|healthy/);
      expect(r.code).toBe(0);
      const st = await stat(configOf(i));
      expect(st.mode & 0o777).toBe(0o600);
      const text = await readFile(configOf(i), 'utf8');
      expect(text).toContain(`address: 127.0.0.1:${ports.redis}`);
      expect(text).toContain(`password: ${PASSWORD}`);
      expect(text).toContain(`region: region-${i === 0 ? 'a' : 'b'}`);
    }
    let nodes: string[] = [];
    await waitFor('two nodes in Redis', async () => {
      const r = await cli(ports.redis, PASSWORD, 'HGETALL', 'nodes');
      nodes = r.out.trim().split('\n').filter((l) => l !== '');
      return nodes.length === 4;
    }, 20_000, 100);
    const ids = [nodes[0], nodes[2]];
    for (const id of ids) expect(id).toMatch(/^ND_/);
    const regions = [nodes[1], nodes[3]].map((v) => (JSON.parse(v ?? '{}') as { region: string }).region).sort();
    expect(regions).toEqual(['region-a', 'region-b']);
    const ports2 = [nodes[1], nodes[3]].map((v) => (JSON.parse(v ?? '{}') as { port: number }).port).sort();
    expect(ports2).toEqual([ports.a, ports.b].sort());

    // A second apply changes nothing.
    const again = await vm(1, ['plan', '--detailed-exitcode']);
    expect(again.code).toBe(0);

    const status = await vm(0, ['status']);
    expect(status.stdout).toMatch(new RegExp(`redis\\s+reachable \\(PING → PONG\\)\\s+127\\.0\\.0\\.1:${ports.redis}`));
    expect(status.stdout).toMatch(/region\s+region-a/);
  }, 120_000);

  it('status says when the Redis is no longer reachable', async () => {
    await stopRedis(redis);
    redis = undefined;
    const status = await vm(0, ['status', '--json']);
    const j = JSON.parse(status.stdout) as { services: Record<string, { redis: { reachable: boolean; error: string } }> } & Record<string, unknown>;
    const lk = (j.services?.['livekit'] ?? (j as unknown as Record<string, { redis: { reachable: boolean; error: string } }>)['livekit']) as { redis: { reachable: boolean; error: string } };
    expect(lk.redis.reachable).toBe(false);
    expect(lk.redis.error).toBe('ECONNREFUSED');
  });

  it('an override error is reported at the override line', async () => {
    const bad = `${shared}/dotfiles/bad.yaml`;
    await writeFile(bad, ['version: 1', 'services:', '  livekit:', '    install: { method: path, path: /bin/true }', 'hosts:', '  "node-b":', '    services:', '      livekit:', '        prot: 7999', '        redis: { address: "10.0.0.5:6379" }', ''].join('\n'));
    const r = await vm(0, ['validate', '-f', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.yaml:9:9: unknown key "prot" (did you mean "port"?)');
    expect(r.stderr).toContain('(with hosts.node-b applied)');
    expect(r.stderr).toMatch(/bad\.yaml:10:27: redis\.address "10\.0\.0\.5:6379" is beyond loopback, but no redis\.password is given/);
    // On node-b itself, plan refuses the same problems at the same lines.
    const p = await vm(1, ['plan', '-f', bad]);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain('bad.yaml:9:9: unknown key "prot"');
  });

  it('never prints a secret', () => {
    const all = transcript.join('\n');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(SECRET);
  });
});

describe.skipIf(!haveRedis || !userManagerAvailable())('the redis kind under systemd', () => {
  let um: UserManager;
  let env: Record<string, string>;
  let port: number;
  const vm = (...args: string[]) => runVm(args, env);

  beforeAll(async () => {
    um = await startUserManager();
    [port] = (await freePorts(1)) as [number];
    const specPath = `${um.env.HOME}/dotfiles/voicemode.services.yaml`;
    await mkdir(`${um.env.HOME}/dotfiles`, { recursive: true });
    await writeFile(specPath, servicesFile({ redis: redisEntry({ install: { method: 'path', path: REDIS_SERVER }, port, bind_addresses: ['127.0.0.1'], password: { env: 'REDIS_PW' } }) }));
    env = { ...um.env, VOICEMODE_SERVICES_FILE: specPath, REDIS_PW: PASSWORD };
  }, 60_000);

  afterAll(async () => {
    await um?.stop();
  }, 60_000);

  it('apply brings up redis-server, healthy by PING; a second apply touches nothing', async () => {
    const plan = await vm('plan');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('requirepass (sensitive)');
    expect(plan.stdout).toContain(`wait until redis://127.0.0.1:${port} answers PING with PONG`);
    const apply = await vm('apply', '--yes');
    expect(apply.code).toBe(0);
    expect((await cli(port, PASSWORD, 'PING')).out.trim()).toBe('PONG');
    expect((await cli(port, undefined, 'PING')).out).toContain('NOAUTH');
    const conf = `${um.env.HOME}/.voicemode/services/redis/redis.conf`;
    expect((await stat(conf)).mode & 0o777).toBe(0o600);
    const text = await readFile(conf, 'utf8');
    expect(text).toContain(`port ${port}`);
    expect(text).toContain('daemonize no');
    expect(text).toContain(`dir "${um.env.HOME}/.voicemode/services/redis/data"`);
    const unit = await readFile(`${um.unitDir}/voicemode-redis.service`, 'utf8');
    expect(unit).not.toContain(PASSWORD);
    const active = await um.systemctl('is-active', 'voicemode-redis.service');
    expect(active.stdout.trim()).toBe('active');

    const pid = (await um.systemctl('show', 'voicemode-redis.service', '-p', 'MainPID', '--value')).stdout.trim();
    const again = await vm('plan', '--detailed-exitcode');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('redis is converged');
    const apply2 = await vm('apply', '--yes');
    expect(apply2.code).toBe(0);
    expect((await um.systemctl('show', 'voicemode-redis.service', '-p', 'MainPID', '--value')).stdout.trim()).toBe(pid);

    const status = await vm('status');
    expect(status.stdout).toMatch(/healthy\s+yes\s+redis:\/\/127\.0\.0\.1:\d+ \(password set\)/);
    expect(transcript.join('\n')).not.toContain(PASSWORD);
  }, 120_000);
});
