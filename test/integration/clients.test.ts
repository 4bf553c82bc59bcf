// Client config files kept in step with LiveKit (`clients:`), end to end: the built `vm` against a
// real systemd user manager, the livekit-server stand-in and real files in a temp HOME. A marked
// block in Voice Mode's env file and a project in lk's cli-config.yaml; everything else in those
// files is the user's and stays byte for byte. Steps build on each other, in order.
//
// The real `lk` CLI cannot be installed here (its releases are GitHub binaries): the project is
// checked against lk's format as FACTS.md ("LiveKit's clients") describes it, and its values are
// proved against the stand-in's room API, which checks JWTs like LiveKit.

import { mkdir, readdir, readFile, stat, writeFile, chmod } from 'node:fs/promises';
import { AccessToken } from 'livekit-server-sdk';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { type Entry, freePorts, livekitEntry, runVm, servicesFile, transcript, writeStandin } from '../kit/index.js';

const UNIT = 'voicemode-livekit.service';
const USER_ENV = 'OPENAI_API_KEY=sk-user-own-key\n# my settings\nVOICEMODE_DEBUG=true'; // no newline at the end
const LK_CONFIG = `# lk's projects (mine)
default_project: cloud
projects:
  # LiveKit Cloud
  - name: cloud
    url: wss://my-project.livekit.cloud
    api_key: APIcloud
    api_secret: cloud-secret-of-mine
`;

let um: UserManager;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let home: string;
let specPath: string;
let envFile: string;
let lkFile: string;

function spec(o: { state?: 'running' | 'absent'; clients?: Entry } = {}): string {
  const livekit = livekitEntry({
    state: o.state ?? 'running',
    install: { method: 'path', path: `${home}/bin/livekit-server` },
    port,
    rtcRange: [51400, 51500],
    tcpPort,
    health: '20s',
  });
  return servicesFile({ livekit }, { clients: o.clients ?? { env_file: '~/.voicemode/voicemode.env', lk_project: 'voicemode' } });
}

const vm = (...args: string[]) => runVm(args, env);
const mode = async (p: string) => (await stat(p)).mode & 0o777;
/** The key file's generated secret: what must never be printed. */
const secret = async () => (parse(await readFile(`${home}/.voicemode/services/livekit/keys.yaml`, 'utf8')) as { devkey: string }).devkey;

/** Voice Mode's reader: KEY=VALUE lines, `#` comments, one layer of quotes stripped, no export. */
function readDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || !line.includes('=')) continue;
    const i = line.indexOf('=');
    let v = line.slice(i + 1).trim();
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0])) v = v.slice(1, -1);
    out[line.slice(0, i).trim()] = v;
  }
  return out;
}

async function listRooms(url: string, key: string, sec: string): Promise<number> {
  const at = new AccessToken(key, sec, { identity: 'clients-test', ttl: '1m' });
  at.addGrant({ roomList: true });
  const r = await fetch(`${url.replace(/^ws/, 'http')}/twirp/livekit.RoomService/ListRooms`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await at.toJwt()}`, 'Content-Type': 'application/json' },
    body: '{}',
  });
  return r.status;
}

describe.skipIf(!userManagerAvailable())('client config files kept in step with LiveKit', () => {
  beforeAll(async () => {
    um = await startUserManager();
    [port, tcpPort] = (await freePorts(2)) as [number, number];
    home = um.env.HOME;
    await writeStandin(`${home}/bin/livekit-server`, { version: '1.9.0', readyAfterMs: 300 });
    envFile = `${home}/.voicemode/voicemode.env`;
    lkFile = `${home}/.livekit/cli-config.yaml`;
    await mkdir(`${home}/.voicemode`, { recursive: true });
    await writeFile(envFile, USER_ENV);
    await chmod(envFile, 0o644);
    await mkdir(`${home}/.livekit`, { recursive: true, mode: 0o755 });
    await chmod(`${home}/.livekit`, 0o755);
    await writeFile(lkFile, LK_CONFIG, { mode: 0o644 });
    specPath = `${home}/voicemode.services.yaml`;
    await writeFile(specPath, spec());
    env = { ...um.env, VOICEMODE_SERVICES_FILE: specPath };
  });

  afterAll(async () => {
    await um?.systemctl('stop', UNIT);
    await um?.stop();
  });

  it('plan shows both fragments with their reasons and diffs, the secret as (sensitive)', async () => {
    const r = await vm('plan');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\nclients:\n');
    expect(r.stdout).toContain(`client   update        ${envFile}: block "vm: livekit" missing, mode 0644 → 0600`);
    expect(r.stdout).toContain(`client   update        ${lkFile}: project "voicemode" missing, mode 0644 → 0600, directory mode 0755 → 0700`);
    expect(r.stdout).toContain(`+LIVEKIT_URL=ws://127.0.0.1:${port}`);
    expect(r.stdout).toContain('+LIVEKIT_API_SECRET=(sensitive)');
    expect(r.stdout).toContain('+    api_secret: (sensitive)');
    // The user's own lines (and their secrets) are not part of the diff.
    expect(r.stdout).not.toContain('sk-user-own-key');
    expect(r.stdout).not.toContain('cloud-secret-of-mine');
    expect(r.stdout).toMatch(/Plan: \d+ steps for livekit, clients/);
  });

  it('apply writes the block and the project, 0600 in a 0700 lk directory, keeping everything else', async () => {
    const r = await vm('apply', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const sec = await secret();
    const text = await readFile(envFile, 'utf8');
    expect(text.startsWith(`${USER_ENV}\n# >>> vm: livekit >>>\n# Managed by vm`)).toBe(true);
    expect(text.endsWith('# <<< vm: livekit <<<\n')).toBe(true);
    expect(text).not.toMatch(/^export /m);
    expect(readDotenv(text)).toEqual({ OPENAI_API_KEY: 'sk-user-own-key', VOICEMODE_DEBUG: 'true', LIVEKIT_URL: `ws://127.0.0.1:${port}`, LIVEKIT_API_KEY: 'devkey', LIVEKIT_API_SECRET: sec });
    expect(await mode(envFile)).toBe(0o600);
    const lk = await readFile(lkFile, 'utf8');
    expect(lk.startsWith(LK_CONFIG)).toBe(true);
    // lk's format (FACTS.md): default_project, projects: [{name, url, api_key, api_secret}].
    expect(parse(lk)).toEqual({
      default_project: 'cloud',
      projects: [
        { name: 'cloud', url: 'wss://my-project.livekit.cloud', api_key: 'APIcloud', api_secret: 'cloud-secret-of-mine' },
        { name: 'voicemode', url: `ws://127.0.0.1:${port}`, api_key: 'devkey', api_secret: sec },
      ],
    });
    expect(await mode(lkFile)).toBe(0o600);
    expect(await mode(`${home}/.livekit`)).toBe(0o700);
  });

  it('the values written are accepted by LiveKit: a token minted from the env file lists rooms', async () => {
    const v = readDotenv(await readFile(envFile, 'utf8'));
    expect(await listRooms(v['LIVEKIT_URL'] ?? '', v['LIVEKIT_API_KEY'] ?? '', v['LIVEKIT_API_SECRET'] ?? '')).toBe(200);
    expect(await listRooms(v['LIVEKIT_URL'] ?? '', v['LIVEKIT_API_KEY'] ?? '', 'not-the-secret-0123456789abcdefghijk')).toBe(401);
    const p = (parse(await readFile(lkFile, 'utf8')) as { projects: Array<Record<string, string>> }).projects.find((x) => x['name'] === 'voicemode');
    expect(await listRooms(p?.['url'] ?? '', p?.['api_key'] ?? '', p?.['api_secret'] ?? '')).toBe(200);
  });

  it('a second apply rewrites nothing', async () => {
    const before = [(await stat(envFile)).mtimeMs, (await stat(lkFile)).mtimeMs];
    const p = await vm('plan', '--detailed-exitcode');
    expect(p.code).toBe(0);
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect([(await stat(envFile)).mtimeMs, (await stat(lkFile)).mtimeMs]).toEqual(before);
  });

  it('a line the user adds outside the block is theirs: nothing to do, and it survives a rewrite', async () => {
    await writeFile(envFile, `EARLY=1\n${await readFile(envFile, 'utf8')}LATE='a b'\n`);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
    // A hand edit inside the block: kept as a backup, then the block is put back.
    const text = await readFile(envFile, 'utf8');
    await writeFile(envFile, text.replace(/^LIVEKIT_API_KEY=devkey$/m, 'LIVEKIT_API_KEY=mykey'));
    const p = await vm('plan');
    expect(p.stdout).toContain(`${envFile}: block "vm: livekit": LIVEKIT_API_KEY mykey → devkey; edited by hand: the file is kept as voicemode.env.vm-backup-TIMESTAMP`);
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(text);
    const backups = (await readdir(`${home}/.voicemode`)).filter((f) => f.startsWith('voicemode.env.vm-backup-'));
    expect(backups).toHaveLength(1);
    expect(await readFile(`${home}/.voicemode/${backups[0]}`, 'utf8')).toContain('LIVEKIT_API_KEY=mykey');
    expect(await mode(`${home}/.voicemode/${backups[0]}`)).toBe(0o600);
  });

  it('removing clients.env_file removes only the block; the project stays', async () => {
    await writeFile(specPath, spec({ clients: { lk_project: 'voicemode' } }));
    const p = await vm('plan');
    expect(p.stdout).toContain(`client   remove        ${envFile}: block "vm: livekit": the file's clients: no longer names it`);
    expect(p.stdout).not.toMatch(/LIVEKIT_API_SECRET=(?!\(sensitive\))/);
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(`EARLY=1\n${USER_ENV}\nLATE='a b'\n`);
    expect(await readFile(lkFile, 'utf8')).toContain('name: voicemode');
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('state: absent removes both fragments and leaves the rest of both files', async () => {
    await writeFile(specPath, spec());
    expect((await vm('apply', '--yes')).code).toBe(0);
    expect(await readFile(envFile, 'utf8')).toContain('# >>> vm: livekit >>>');
    await writeFile(specPath, spec({ state: 'absent' }));
    const p = await vm('plan');
    expect(p.stdout).toContain(`client   remove        ${lkFile}: project "voicemode": no declared service provides it any more`);
    const r = await vm('apply', '--yes');
    expect(r.code).toBe(0);
    expect(await readFile(envFile, 'utf8')).toBe(`EARLY=1\n${USER_ENV}\nLATE='a b'\n`);
    expect(await readFile(lkFile, 'utf8')).toBe(LK_CONFIG);
    expect((await vm('plan', '--detailed-exitcode')).code).toBe(0);
  });

  it('never printed the secret', async () => {
    // The key file is gone with state: absent; the secret was in the env file's backup.
    const backups = (await readdir(`${home}/.voicemode`)).filter((f) => f.startsWith('voicemode.env.vm-backup-'));
    const sec = readDotenv(await readFile(`${home}/.voicemode/${backups[0]}`, 'utf8'))['LIVEKIT_API_SECRET'] ?? '';
    expect(sec.length).toBeGreaterThanOrEqual(32);
    for (const out of transcript) expect(out).not.toContain(sec);
  });
});
