// The front doors, end to end: `vm stop|start|restart|uninstall` edit the file and apply through
// the locked flow, and `vm mcp` serves the same operations to an MCP client (the SDK's own
// Client over stdio, spawning the built CLI). A real systemd user manager, the release server and
// the stand-in LiveKit, as in lifecycle.test.ts. Steps build on each other, in order.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdir, readFile, readlink, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { freePorts, ROOT, runVm, standinScript, transcript } from '../kit/index.js';

const SECRET = 'verbs-secret-do-not-leak-0123456789abcdefgh';
const UNIT = 'voicemode-livekit.service';

let um: UserManager;
let rel: ReleaseServer;
let env: Record<string, string>;
let port: number;
let specPath: string;
let original: string;

const vm = (...args: string[]) => runVm(args, env);
const health = () => livekitHealth(port);

async function show(): Promise<Record<string, string>> {
  const r = await um.systemctl('show', UNIT, '-p', 'ActiveState,MainPID,UnitFileState');
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=', 2) as [string, string]));
}

/** The file with `state:` set to `state`: what the verbs must write, byte for byte. */
const withState = (state: string) => original.replace('    state: running        # running | stopped | absent\n', `    state: ${state.padEnd(7)}        # running | stopped | absent\n`);

describe.skipIf(!userManagerAvailable())('service verbs and vm mcp against a real systemd user manager', () => {
  beforeAll(async () => {
    um = await startUserManager();
    const [p, tcp] = (await freePorts(2)) as [number, number];
    port = p;
    rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
    original = [
      '# my LiveKit   (hand-written: every byte of this must survive vm stop)',
      'version: 1',
      '',
      'services:',
      '  livekit:',
      '    state: running        # running | stopped | absent',
      "    version: '1.9.0'",
      `    install: { method: release, base_url: "${rel.baseUrl}" }`,
      `    port: ${port}`,
      '    bind_addresses: [127.0.0.1]',
      `    rtc: { port_range_start: 52000, port_range_end: 52100, tcp_port: ${tcp} }`,
      '    keys:',
      `      apikey1: "${SECRET}"   # inline on purpose`,
      '    health: { timeout: 8s }',
      '',
    ].join('\n');
    specPath = `${um.env.HOME}/dotfiles/voicemode.services.yaml`;
    await mkdir(`${um.env.HOME}/dotfiles`, { recursive: true });
    await writeFile(specPath, original);
    env = { ...um.env, VOICEMODE_SERVICES_FILE: specPath };
  });

  afterAll(async () => {
    await um?.systemctl('stop', UNIT);
    await um?.stop();
    await rel?.close();
  });

  it('refuses to edit the built-in default, saying to run vm init first', async () => {
    const bare = { ...um.env };
    const r = await runVm(['stop', '--yes'], bare);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no voicemode.services.yaml to edit');
    expect(r.stderr).toMatch(/init` first to write it/);
  });

  it('leaves a file that does not validate untouched', async () => {
    const bad = `${um.env.HOME}/dotfiles/bad.yaml`;
    const text = original.replace('    port:', '    colour: red\n    port:');
    await writeFile(bad, text);
    const r = await vm('stop', '-f', bad, '--yes');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.yaml:\d+:\d+: unknown key "colour"/);
    expect(await readFile(bad, 'utf8')).toBe(text);
  });

  it('apply brings LiveKit up (the starting point)', async () => {
    const r = await vm('apply', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await health()).toBe('200 OK');
  });

  it('vm stop sets state: stopped (only those bytes change), shows the diff without the secret, and stops LiveKit', async () => {
    const r = await vm('stop', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(specPath, 'utf8')).toBe(withState('stopped'));
    expect(r.stdout).toContain('-    state: running        # running');
    expect(r.stdout).toContain('+    state: stopped        # running');
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).toContain('running  stop');
    expect((await show())['ActiveState']).toBe('inactive');
    expect(await health()).toBe('down');
  });

  it('vm stop again: nothing to change, nothing applied, the file not rewritten', async () => {
    const before = (await stat(specPath)).mtimeMs;
    const r = await vm('stop', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Nothing to change');
    expect(r.stdout).toContain('Nothing to apply');
    expect((await stat(specPath)).mtimeMs).toBe(before);
  });

  it('vm start sets state: running and ends healthy; an unknown service names the declared ones', async () => {
    const r = await vm('start', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(specPath, 'utf8')).toBe(original);
    expect(await health()).toBe('200 OK');
    const u = await vm('start', 'nope', '--yes');
    expect(u.code).toBe(1);
    expect(u.stderr).toContain('no service named "nope"');
    expect(u.stderr).toContain('declared: livekit');
  });

  it('vm restart restarts once (a new pid), ends healthy, and leaves the file alone', async () => {
    const pid = (await show())['MainPID'];
    const r = await vm('restart', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { pid_before: number; pid: number; healthy: boolean };
    expect(String(j.pid_before)).toBe(pid);
    expect(j.pid).not.toBe(j.pid_before);
    expect((await show())['MainPID']).toBe(String(j.pid));
    expect(await health()).toBe('200 OK');
    expect(await readFile(specPath, 'utf8')).toBe(original);
  });

  it('vm restart of a LiveKit that does not come back exits 1 with its log', async () => {
    // The active version the link points at: replaced by one that never becomes ready.
    const dir = `${um.env.HOME}/.voicemode/services/livekit`;
    const target = await readlink(`${dir}/livekit-server`);
    const real = target.startsWith('/') ? target : `${dir}/${target}`;
    const good = await readFile(real, 'utf8');
    await writeFile(real, standinScript({ version: '1.9.0', mode: 'never-ready' }));
    try {
      const r = await vm('restart');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('LiveKit did not come back after the restart');
      expect(r.stderr).toContain('  | ');
    } finally {
      await writeFile(real, good);
    }
    const again = await vm('restart');
    expect(again.code, again.stderr).toBe(0);
    expect(await health()).toBe('200 OK');
  });

  describe('vm mcp', () => {
    let client: Client;
    let transport: StdioClientTransport;
    const protocolErrors: unknown[] = [];
    let serverStderr = '';

    beforeAll(async () => {
      transport = new StdioClientTransport({ command: process.execPath, args: [`${ROOT}bin/vm.cjs`, 'mcp'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stderr: 'pipe', cwd: um.env.HOME });
      transport.stderr?.on('data', (b: Buffer) => (serverStderr += b.toString()));
      // Anything on stdout that is not a JSON-RPC message shows up here.
      transport.onerror = (e) => protocolErrors.push(e);
      client = new Client({ name: 'vm-test', version: '1' });
      client.onerror = (e) => protocolErrors.push(e);
      await client.connect(transport);
    });

    afterAll(async () => {
      await client?.close();
      transcript.push(serverStderr);
    });

    type Result = { isError?: boolean; content: Array<{ type: string; text?: string }>; structuredContent?: Record<string, unknown> };
    const call = async (name: string, args: Record<string, unknown> = {}) => {
      const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as Result;
      transcript.push(JSON.stringify(r));
      return r;
    };
    const text = (r: Result) => r.content.map((c) => c.text ?? '').join('\n');

    it('lists its tools with input schemas and read-only / destructive hints', async () => {
      const { tools } = await client.listTools();
      const by = Object.fromEntries(tools.map((t) => [t.name, t]));
      expect(Object.keys(by).sort()).toEqual(['apply', 'livekit_connection', 'livekit_token', 'plan', 'service', 'status']);
      expect(by['status']?.annotations?.readOnlyHint).toBe(true);
      expect(by['plan']?.annotations?.readOnlyHint).toBe(true);
      expect(by['apply']?.annotations?.destructiveHint).toBe(true);
      expect(by['service']?.annotations?.destructiveHint).toBe(true);
      const svc = by['service']?.inputSchema as { properties: Record<string, { enum?: string[] }>; required?: string[] };
      expect(svc.properties['action']?.enum).toEqual(['status', 'start', 'stop', 'enable', 'disable', 'install', 'uninstall', 'restart', 'logs']);
      expect(Object.keys(svc.properties).sort()).toEqual(['action', 'lines', 'remove_data', 'service_name']);
      expect((by['apply']?.inputSchema as { required?: string[] }).required).toContain('confirm');
      expect((by['livekit_token']?.inputSchema as { required?: string[] }).required).toEqual(['room']);
    });

    it('status and plan return the same objects as vm status --json and vm plan --json', async () => {
      const s = await call('status');
      expect(s.isError).toBeUndefined();
      const cli = JSON.parse((await vm('status', '--json')).stdout) as Record<string, unknown>;
      const services = (o: Record<string, unknown>) => Object.keys(o['services'] as object);
      expect(services(s.structuredContent as Record<string, unknown>)).toEqual(services(cli));
      expect(((s.structuredContent?.['services'] as Record<string, { healthy?: unknown }>)['livekit'])).toEqual(expect.objectContaining({ healthy: (cli['services'] as Record<string, { healthy?: unknown }>)['livekit']?.healthy }));
      const p = await call('plan');
      expect(p.structuredContent).toEqual(JSON.parse((await vm('plan', '--json')).stdout));
      expect(text(p)).toContain('converged');
    });

    it('livekit_connection gives url, key, target and why; the secret only with include_secret: true', async () => {
      const c = await call('livekit_connection');
      expect(c.structuredContent).toEqual({ url: `ws://127.0.0.1:${port}`, api_key: 'apikey1', target: 'local', why: expect.stringContaining('healthy') });
      expect(JSON.stringify(c)).not.toContain(SECRET);
      const off = await call('livekit_connection', { include_secret: false });
      expect(JSON.stringify(off)).not.toContain(SECRET);
      const on = await call('livekit_connection', { include_secret: true });
      expect(on.structuredContent?.['api_secret']).toBe(SECRET);
    });

    it('livekit_token mints a token the server accepts, as vm token --json', async () => {
      const t = await call('livekit_token', { room: 'kitchen', identity: 'alice', ttl: '10m' });
      expect(t.isError).toBeUndefined();
      const j = t.structuredContent as { access_token: string; url: string; identity: string; room: string; grants: string[]; target: string };
      expect(j).toEqual(expect.objectContaining({ url: `ws://127.0.0.1:${port}`, identity: 'alice', room: 'kitchen', target: 'local' }));
      const v = await fetch(`http://127.0.0.1:${port}/rtc/validate?access_token=${j.access_token}`);
      expect(v.status).toBe(200);
      const bad = await call('livekit_token', { room: 'kitchen', grants: ['fly'] });
      expect(bad.isError).toBe(true);
      expect(text(bad)).toContain('unknown grant "fly"');
    });

    it('bad arguments, hostile input and apply without confirm come back as isError, with no stack', async () => {
      const results = await Promise.all([
        call('service', { service_name: '../../etc', action: 'logs' }),
        call('service', { service_name: 'livekit', action: 'logs', lines: 1e12 }),
        call('service', { service_name: 'livekit', action: 'explode' }),
        call('service', { service_name: 'ghost', action: 'stop' }),
        call('service', { service_name: 'ghost', action: 'logs' }),
        call('livekit_token', {}),
        call('apply', {}),
        call('apply', { confirm: false }),
      ]);
      for (const r of results) {
        expect(r.isError, JSON.stringify(r)).toBe(true);
        expect(text(r)).not.toMatch(/\n\s+at /);
      }
      expect(text(results[3] as Result)).toContain('no service named "ghost"');
      expect(text(results[6] as Result)).toMatch(/confirm|Invalid/);
      expect(text(results[7] as Result)).toContain('confirm: true');
      expect(await readFile(specPath, 'utf8')).toBe(original);
    });

    it('service logs reads the log file; service status is vm status for one service', async () => {
      const l = await call('service', { service_name: 'livekit', action: 'logs', lines: 5 });
      const lines = l.structuredContent?.['lines'] as string[];
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThanOrEqual(5);
      const s = await call('service', { service_name: 'livekit', action: 'status' });
      expect(s.structuredContent?.['service']).toBe('livekit');
    });

    it('service stop and start edit the file and apply; restart gives a new pid', async () => {
      const stop = await call('service', { service_name: 'livekit', action: 'stop' });
      expect(stop.isError, text(stop)).toBeUndefined();
      expect(stop.structuredContent).toEqual(expect.objectContaining({ changed: true, converged: true }));
      expect(String(stop.structuredContent?.['diff'])).not.toContain(SECRET);
      expect(await readFile(specPath, 'utf8')).toBe(withState('stopped'));
      expect(await health()).toBe('down');
      const start = await call('service', { service_name: 'livekit', action: 'start' });
      expect(start.isError, text(start)).toBeUndefined();
      expect(await readFile(specPath, 'utf8')).toBe(original);
      expect(await health()).toBe('200 OK');
      const pid = (await show())['MainPID'];
      const re = await call('service', { service_name: 'livekit', action: 'restart' });
      expect(re.isError, text(re)).toBeUndefined();
      expect(String(re.structuredContent?.['pid'])).not.toBe(pid);
      expect(await health()).toBe('200 OK');
    });

    it('two apply calls at once are serialised by the lock: both converge, one finds nothing to do', async () => {
      await um.systemctl('stop', UNIT); // drift: both calls plan a start
      const [a, b] = await Promise.all([call('apply', { confirm: true }), call('apply', { confirm: true })]);
      for (const r of [a, b]) {
        expect(r.isError, text(r)).toBeUndefined();
        expect(r.structuredContent?.['converged']).toBe(true);
      }
      const applied = [a, b].map((r) => (r.structuredContent?.['applied'] as unknown[]).length).sort();
      expect(applied[0]).toBe(0);
      expect(applied[1]).toBeGreaterThan(0);
      expect(await health()).toBe('200 OK');
    });

    it('wrote nothing but the protocol on stdout', () => {
      expect(protocolErrors).toEqual([]);
    });
  });

  it('vm mcp --print-config prints an mcpServers entry with absolute paths', async () => {
    const r = await vm('mcp', '--print-config', '-f', specPath);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { mcpServers: { vm: { command: string; args: string[] } } };
    expect(j.mcpServers.vm.command).toBe(process.execPath);
    expect(j.mcpServers.vm.args).toEqual([`${ROOT}bin/vm.cjs`, 'mcp', '--file', specPath]);
  });

  it('vm uninstall --yes sets state: absent and removes what vm installed', async () => {
    const r = await vm('uninstall', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(await readFile(specPath, 'utf8')).toBe(withState('absent'));
    expect(await health()).toBe('down');
    await expect(stat(`${um.env.XDG_CONFIG_HOME}/systemd/user/${UNIT}`)).rejects.toThrow();
    const plan = await vm('plan', '--detailed-exitcode');
    expect(plan.code).toBe(0);
  });

  it('never printed the secret', () => {
    for (const t of transcript.filter((x) => !x.includes('"api_secret"'))) expect(t).not.toContain(SECRET);
  });
});
