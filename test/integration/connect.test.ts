// Connecting a client: vm env, exec, token, rooms and status against a real (stand-in) LiveKit
// run by vm's process supervisor, and a second stand-in on another port playing LiveKit Cloud as
// the fallback. Through the built CLI, with a temp HOME; every output is checked for secrets.

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { TokenVerifier } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { freePorts, livekitEntry, ROOT, runVm, servicesFile, transcript, waitFor, writeStandin } from '../kit/index.js';

// Everything a shell or a dotenv reader could trip on, except what validation refuses (newlines).
const SECRET = `it's "$HOME" \`id\` \\n $(echo x) #not-a-comment ${'s'.repeat(12)}`;
const CLOUD_SECRET = 'cloud-secret-0123456789-abcdefghijklmnop';

let home: TempHome;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let cloudPort: number;
let specPath: string;
let cloud: ChildProcess | undefined;
const vm = (...args: string[]) => runVm(args, env);

function spec(state: 'running' | 'stopped', withFallback = true): string {
  const livekit = livekitEntry({
    state,
    install: { method: 'path', path: `${home.env.HOME}/bin/livekit-server` },
    port,
    rtcRange: [54000, 54100],
    tcpPort,
    keys: { apikey1: SECRET },
    health: '10s',
    ...(withFallback ? { fallback: { url: `http://127.0.0.1:${cloudPort}`, api_key: 'cloudkey', api_secret: { env: 'LK_CLOUD_SECRET' } } } : {}),
  });
  return servicesFile({ livekit }, { supervisor: 'process' });
}

async function startCloud(): Promise<void> {
  const bin = `${home.env.HOME}/bin/cloud-server`;
  await writeStandin(bin, { version: '1.9.0', readyAfterMs: 200 });
  const conf = `${home.env.HOME}/cloud.yaml`;
  await writeFile(conf, `port: ${cloudPort}\nbind_addresses: [127.0.0.1]\nkeys: { cloudkey: ${CLOUD_SECRET} }\n`, { mode: 0o600 });
  cloud = spawn(bin, ['--config', conf], { stdio: 'ignore', env: { PATH: process.env['PATH'] ?? '', HOME: home.env.HOME } });
  await waitFor('the cloud stand-in to be healthy', async () => (await livekitHealth(cloudPort)) === '200 OK');
}

async function stopCloud(): Promise<void> {
  const c = cloud;
  cloud = undefined;
  if (c === undefined || c.exitCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await gone;
}

/** Runs `sh -c script` with `input` on stdin; resolves with its stdout. */
function sh(script: string, input: string, extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = execFile('sh', ['-c', script], { env: { PATH: process.env['PATH'] ?? '', ...extraEnv } }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
    c.stdin?.end(input);
  });
}

/** Voice Mode's (≤ v7) reader: KEY=VALUE lines, # comments, one layer of matching quotes, no export. */
function voicemodeDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || !line.includes('=')) continue;
    const i = line.indexOf('=');
    const key = line.slice(0, i).trim();
    let value = line.slice(i + 1).trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
}

const oneLineError = (r: { code: number; stdout: string; stderr: string }) => {
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
};

beforeAll(async () => {
  home = await tempHome();
  [port, tcpPort, cloudPort] = (await freePorts(3)) as [number, number, number];
  await writeStandin(`${home.env.HOME}/bin/livekit-server`, { version: '1.9.0', readyAfterMs: 200 });
  specPath = `${home.env.HOME}/voicemode.services.yaml`;
  env = { ...home.env, VOICEMODE_SERVICES_FILE: specPath, USER: 'alice' };
  await writeFile(specPath, spec('running'));
  const r = await vm('apply', '--yes');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(await livekitHealth(port)).toBe('200 OK');
}, 120_000);

afterAll(async () => {
  await stopCloud();
  await home?.cleanup();
  // No secret ever appeared in anything vm printed, except where it is handed over (checked there).
  for (const out of transcript.filter((t) => !t.includes('LIVEKIT_API_SECRET') && !t.includes('vm-exec-secret-ok'))) {
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(CLOUD_SECRET);
  }
});

describe('vm env on a healthy local LiveKit', () => {
  it('sh: eval in a real sh gives exactly the URL, key and secret, whatever the secret holds', async () => {
    const r = await vm('env');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const got = await sh('eval "$(cat)"; printf "%s\\n%s\\n%s" "$LIVEKIT_URL" "$LIVEKIT_API_KEY" "$LIVEKIT_API_SECRET"', r.stdout);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(`ws://127.0.0.1:${port}\napikey1\n${SECRET}`);
    expect(r.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('export LIVEKIT_'))).toBe(true);
  });

  it("dotenv: Voice Mode's reader gets the same values; no export", async () => {
    const r = await vm('env', '--format', 'dotenv');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('export');
    expect(voicemodeDotenv(r.stdout)).toEqual({ LIVEKIT_URL: `ws://127.0.0.1:${port}`, LIVEKIT_API_KEY: 'apikey1', LIVEKIT_API_SECRET: SECRET });
    // Quotes only where needed: the URL and key are bare.
    expect(r.stdout).toContain(`LIVEKIT_URL=ws://127.0.0.1:${port}\nLIVEKIT_API_KEY=apikey1\n`);
  });

  it('json: the three variables and the target', async () => {
    const r = await vm('env', '--format', 'json');
    expect(JSON.parse(r.stdout)).toEqual({ LIVEKIT_URL: `ws://127.0.0.1:${port}`, LIVEKIT_API_KEY: 'apikey1', LIVEKIT_API_SECRET: SECRET, target: 'local' });
  });

  it.runIf(existsSync('/usr/bin/fish'))('fish: `fish -n` accepts it and fish sets the same values', async () => {
    const r = await vm('env', '--format', 'fish');
    expect(r.stdout).toMatch(/^set -gx LIVEKIT_URL /);
    const file = `${home.env.HOME}/env.fish`;
    await writeFile(file, r.stdout);
    const check = await sh(`fish -n ${file}`, '');
    expect(check).toMatchObject({ code: 0, stderr: '' });
    const run = await sh(`fish -c 'source ${file}; printf "%s" $LIVEKIT_API_SECRET'`, '', { HOME: home.env.HOME });
    expect(run.stdout).toBe(SECRET);
  });

  it('bad --target or --format: exit 1, one line', async () => {
    oneLineError(await vm('env', '--target', 'cloud'));
    oneLineError(await vm('env', '--format', 'csv'));
  });
});

describe('vm exec', () => {
  it("gives the child the variables, in its environment and in no process's argv; exit code passed through", async () => {
    const probe = `${home.env.HOME}/probe.cjs`;
    await writeFile(
      probe,
      `const fs = require('fs'); const s = process.env.LIVEKIT_API_SECRET;
       let inArgv = 0; for (const p of fs.readdirSync('/proc')) { if (!/^\\d+$/.test(p)) continue; try { if (fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').includes(s)) inArgv++; } catch {} }
       process.stdout.write(JSON.stringify({ ok: s === ${JSON.stringify(SECRET)} ? 'vm-exec-secret-ok' : 'wrong', url: process.env.LIVEKIT_URL, inArgv })); process.exit(7);`,
    );
    const r = await vm('exec', '--', process.execPath, probe);
    expect(r.code).toBe(7);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ ok: 'vm-exec-secret-ok', url: `ws://127.0.0.1:${port}`, inArgv: 0 });
  });

  it('a missing command: 127 and one line', async () => {
    const r = await vm('exec', '--', 'no-such-program-here');
    expect(r.code).toBe(127);
    expect(r.stderr).toBe('vm: no-such-program-here: command not found\n');
  });

  for (const [sig, n] of [['SIGTERM', 15], ['SIGHUP', 1], ['SIGINT', 2]] as const) {
    it(`${sig} sent to vm reaches the child; vm exits 128+${n} when it ends the child`, async () => {
      const marker = `${home.env.HOME}/started-${sig}`;
      // The child is `exec`ed by sh, so the signal ends the process vm waits for.
      const child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'exec', '--', 'sh', '-c', `echo $$ > ${marker}; exec sleep 60`], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
      await waitFor('the child to start', async () => existsSync(marker) && (await readFile(marker, 'utf8')).trim() !== '');
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(sig);
      expect(await exited).toBe(128 + n);
      const childPid = Number((await readFile(marker, 'utf8')).trim());
      expect(() => process.kill(childPid, 0)).toThrow();
    });
  }

  it('a child that handles the signal decides the exit code', async () => {
    const marker = `${home.env.HOME}/started-trap`;
    const child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'exec', '--', 'sh', '-c', `trap 'exit 5' TERM; echo up > ${marker}; while :; do sleep 0.05; done`], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
    await waitFor('the child to start', async () => existsSync(marker));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(5);
  });
});

describe('vm token', () => {
  it('plain output is the JWT alone; TokenVerifier accepts it with the default grants', async () => {
    const r = await vm('token', '--room', 'kitchen');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = await new TokenVerifier('apikey1', SECRET).verify(r.stdout.trim());
    expect(claims.sub).toMatch(/^vm-alice-[0-9a-f]{4}$/);
    expect(claims.video).toMatchObject({ room: 'kitchen', roomJoin: true, canPublish: true, canSubscribe: true, canPublishData: true, roomList: false, roomAdmin: false });
    const ttl = (claims as { exp?: number; nbf?: number }).exp! - Math.floor(Date.now() / 1000);
    expect(ttl).toBeGreaterThan(6 * 3600 - 120);
    expect(ttl).toBeLessThanOrEqual(6 * 3600);
  });

  it('--json: access_token, url, identity, name, room, grants, expires_at', async () => {
    const r = await vm('token', '--json', '--grant', 'list,create', '--identity', 'bot', '--name', 'Bot', '--ttl', '10m');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ url: `ws://127.0.0.1:${port}`, identity: 'bot', name: 'Bot', room: null, grants: ['list', 'create'], target: 'local' });
    const exp = Date.parse(j['expires_at'] as string);
    expect(Math.abs(exp - (Date.now() + 600_000))).toBeLessThan(60_000);
    const claims = await new TokenVerifier('apikey1', SECRET).verify(j['access_token'] as string);
    expect(claims.video).toMatchObject({ roomList: true, roomCreate: true, roomJoin: false });
    expect(claims.name).toBe('Bot');
  });

  it('a token with list works against the server: the room API answers with it', async () => {
    const r = await vm('token', '--grant', 'list');
    const res = await fetch(`http://127.0.0.1:${port}/twirp/livekit.RoomService/ListRooms`, { method: 'POST', headers: { Authorization: `Bearer ${r.stdout.trim()}`, 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
  });

  it('unknown grant, bad ttl, join without a room: exit 1, one line, no stack', async () => {
    for (const args of [['--room', 'x', '--grant', 'join,fly'], ['--room', 'x', '--ttl', '25h'], ['--room', 'x', '--ttl', 'soon'], []]) {
      const r = await vm('token', ...args);
      oneLineError(r);
    }
    expect((await vm('token', '--grant', 'join,fly', '--room', 'x')).stderr).toContain('unknown grant "fly"');
    expect((await vm('token')).stderr).toContain('--room is required');
    expect((await vm('token', '--room', 'x', '--ttl', '25h')).stderr).toContain('--ttl');
  });
});

describe('vm rooms and vm status', () => {
  it('vm rooms lists the rooms through the room API', async () => {
    const token = (await vm('token', '--grant', 'create')).stdout.trim();
    await fetch(`http://127.0.0.1:${port}/twirp/livekit.RoomService/CreateRoom`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{"name":"lounge"}' });
    const r = await vm('rooms');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+SID\s+PARTICIPANTS\s+CREATED\nlounge\s+RM_\w+\s+0\s+\d{4}-/);
    const j = JSON.parse((await vm('rooms', '--json')).stdout) as { target: string; rooms: Array<{ name: string; participants: number }> };
    expect(j).toMatchObject({ target: 'local', rooms: [{ name: 'lounge', participants: 0 }] });
  });

  it('vm status shows the client URL, the key name, the room API and the token check; never the secret', async () => {
    const validate = await fetch(`http://127.0.0.1:${port}/rtc/validate`);
    const hasValidate = validate.status !== 404;
    const r = await vm('status');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`  client   ws://127.0.0.1:${port}  key apikey1\n`);
    expect(r.stdout).toContain('  api      keys accepted (1 room)\n');
    // The stand-in gains /rtc/validate in another branch; until then status says what it got.
    expect(r.stdout).toContain(hasValidate ? '  token    accepted\n' : '  token    GET /rtc/validate answered 404');
    expect(r.stdout).toMatch(/ {2}fallback ws:\/\/127\.0\.0\.1:\d+ {2}key cloudkey: secret unavailable: the fallback's api_secret comes from the environment variable LK_CLOUD_SECRET, which is not set/);
    const j = JSON.parse((await vm('status', '--json')).stdout) as { services: { livekit: { api: Record<string, unknown>; fallback: Record<string, unknown> } } };
    expect(j.services.livekit.api).toMatchObject({ url: `ws://127.0.0.1:${port}`, api_key: 'apikey1', keys: 'accepted', rooms: 1, token: hasValidate ? 'accepted' : 'refused' });
    expect(j.services.livekit.fallback).toMatchObject({ url: `ws://127.0.0.1:${cloudPort}`, api_key: 'cloudkey', answers: null });
  });

  it('vm plan works without the fallback secret and asks no server for it', async () => {
    const r = await vm('plan', '--detailed-exitcode');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('fallback', () => {
  it('local stopped, no fallback declared: exit 1 naming both reasons', async () => {
    await writeFile(specPath, spec('stopped', false));
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await livekitHealth(port)).toBe('down');
    const r = await vm('env');
    oneLineError(r);
    expect(r.stderr).toBe(`vm: local LiveKit not healthy: connection refused on 127.0.0.1:${port}; no fallback declared\n`);
  });

  it('--target local still prints the local values, with a warning', async () => {
    const r = await vm('env', '--target', 'local', '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ LIVEKIT_URL: `ws://127.0.0.1:${port}`, target: 'local' });
    expect(r.stderr).toMatch(/^vm: warning: local LiveKit not healthy: connection refused/);
  });

  it('fallback declared but its { env } secret unset: exit 1 naming the variable', async () => {
    await writeFile(specPath, spec('stopped'));
    const r = await vm('env');
    oneLineError(r);
    expect(r.stderr).toContain('LK_CLOUD_SECRET');
    expect(r.stderr).toContain('not set');
  });

  it('auto falls back to the cloud stand-in (one stderr line says why); its token verifies with its key', async () => {
    await startCloud();
    env = { ...env, LK_CLOUD_SECRET: CLOUD_SECRET };
    const r = await vm('env', '--format', 'json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ LIVEKIT_URL: `ws://127.0.0.1:${cloudPort}`, LIVEKIT_API_KEY: 'cloudkey', LIVEKIT_API_SECRET: CLOUD_SECRET, target: 'fallback' });
    expect(r.stderr).toBe(`vm: local LiveKit not healthy: connection refused on 127.0.0.1:${port}; using the fallback ws://127.0.0.1:${cloudPort} (its room API accepts key cloudkey)\n`);
    const t = await vm('token', '--room', 'r1', '--json');
    const j = JSON.parse(t.stdout) as { access_token: string; url: string; target: string };
    expect(j).toMatchObject({ url: `ws://127.0.0.1:${cloudPort}`, target: 'fallback' });
    await new TokenVerifier('cloudkey', CLOUD_SECRET).verify(j.access_token);
    const s = await vm('status');
    expect(s.stdout).toContain(`  fallback ws://127.0.0.1:${cloudPort}  key cloudkey: answers (its room API accepts key cloudkey)`);
    expect((await vm('rooms', '--json')).code).toBe(0);
  });

  it('a fallback with a wrong secret, or one that is down, is not used: both reasons named', async () => {
    const wrong = await runVm(['env'], { ...env, LK_CLOUD_SECRET: 'not-the-cloud-secret-0123456789abcdef' });
    oneLineError(wrong);
    expect(wrong.stderr).toMatch(/; the fallback ws:\/\/127\.0\.0\.1:\d+ does not answer: it refuses key cloudkey: 401/);
    await stopCloud();
    const down = await vm('env');
    oneLineError(down);
    expect(down.stderr).toBe(`vm: local LiveKit not healthy: connection refused on 127.0.0.1:${port}; the fallback ws://127.0.0.1:${cloudPort} does not answer: connection refused\n`);
  });

  it('back to local when it is healthy again', async () => {
    await startCloud();
    await writeFile(specPath, spec('running'));
    expect((await vm('apply', '--yes')).code).toBe(0);
    const r = await vm('env', '--format', 'json');
    expect(JSON.parse(r.stdout)).toMatchObject({ LIVEKIT_URL: `ws://127.0.0.1:${port}`, target: 'local' });
    expect(r.stderr).toBe('');
  });
});

describe('what loads', () => {
  it('vm plan and vm env never load livekit-server-sdk; vm token does', async () => {
    const log = `${home.env.HOME}/loads.txt`;
    const hook = `${home.env.HOME}/hook.cjs`;
    await writeFile(hook, `const M = require('module'); const o = M._load; M._load = function (r, ...a) { if (String(r).includes('livekit-server-sdk')) require('fs').appendFileSync(${JSON.stringify(log)}, process.argv.slice(2).join(' ') + '\\n'); return o.call(this, r, ...a); };`);
    const withHook = { ...env, NODE_OPTIONS: `--require ${hook}` };
    await runVm(['plan'], withHook);
    await runVm(['env'], withHook);
    expect(existsSync(log)).toBe(false);
    await runVm(['token', '--room', 'x'], withHook);
    expect(await readFile(log, 'utf8')).toBe('token --room x\n');
  });
});
