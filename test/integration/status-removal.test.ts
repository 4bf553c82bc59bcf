// `vm status` when the file cannot be fully read or no longer declares LiveKit, and removing it:
// an unreadable secret (unset `{ env }`, a 0644 `{ file }`) still shows the running LiveKit and
// names the problem; a LiveKit deleted from the file is reported as still running; after
// `state: absent` (no version needed) nothing is called "up to date"; and
// `vm watch --install-service` warns about `{ env }` secrets the user manager lacks.
// The built CLI against a real systemd user manager, a local release server and a stand-in
// livekit-server. Steps build on each other, in order.

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { freePorts, runVm, standinScript, transcript } from '../kit/index.js';

const SECRET = 'status-secret-do-not-leak-0123456789abcdef';
const VAR = 'VM_STATUS_TEST_SECRET';
const UNIT = 'voicemode-livekit.service';
const WATCH_UNIT = 'voicemode-watch.service';

let um: UserManager;
let rel: ReleaseServer;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let specPath: string;
let secretPath: string;

/**
 * The services file with LiveKit's keys line (`key`) or, with `state: absent`, without a version.
 * Written by hand: the tests assert the line and column of that key (10:16).
 */
function spec(key: string, state: 'running' | 'absent' = 'running'): string {
  return [
    'version: 1',
    'services:',
    '  livekit:',
    `    state: ${state}`,
    ...(state === 'absent' ? [] : ['    version: 1.9.0']),
    `    install: { method: release, base_url: "${rel.baseUrl}" }`,
    `    port: ${port}`,
    `    rtc: { port_range_start: 52000, port_range_end: 52100, tcp_port: ${tcpPort} }`,
    '    keys:',
    `      apikey1: ${key}`,
    '    health: { timeout: 15s }',
    '',
  ].join('\n');
}

const vm = (args: string[], extra: Record<string, string> = {}) => runVm(args, { ...env, ...extra });

async function mainPid(): Promise<string> {
  return (await um.systemctl('show', UNIT, '-p', 'MainPID', '--value')).stdout.trim();
}

describe.skipIf(!userManagerAvailable())('vm status with unreadable secrets, after removal, and install-service', () => {
  beforeAll(async () => {
    um = await startUserManager();
    [port, tcpPort] = (await freePorts(2)) as [number, number];
    rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
    env = { ...um.env };
    await mkdir(`${um.env.HOME}/dotfiles`, { recursive: true });
    specPath = `${um.env.HOME}/dotfiles/voicemode.services.yaml`;
    secretPath = `${um.env.HOME}/livekit.secret`;
    env['VOICEMODE_SERVICES_FILE'] = specPath;
    await writeFile(specPath, spec(`{ env: ${VAR} }`));
  });

  afterAll(async () => {
    await um?.systemctl('stop', WATCH_UNIT);
    await um?.systemctl('stop', UNIT);
    await um?.stop();
    await rel?.close();
  });

  it('apply with the variable set brings LiveKit up', async () => {
    const r = await vm(['apply', '--yes'], { [VAR]: SECRET });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await livekitHealth(port)).toBe('200 OK');
  });

  it('status with the variable unset shows the running, healthy LiveKit, then names the problem and exits 1', async () => {
    const pid = await mainPid();
    expect(Number(pid)).toBeGreaterThan(0);
    const r = await vm(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`  running  yes, pid ${pid}\n`);
    expect(r.stdout).toMatch(/^ {2}healthy {2}yes {2}http:\/\/127\.0\.0\.1:\d+\/$/m);
    expect(r.stdout).toMatch(/^ {2}config {3}up to date; key file not checked \(a secret cannot be read\)/m);
    expect(r.stdout).toContain('not compared with the file: a secret cannot be read');
    expect(r.stderr).toMatch(new RegExp(`^dotfiles/voicemode\\.services\\.yaml:10:16: the secret of key "apikey1" comes from the environment variable ${VAR}, which is not set`, 'm'));
    expect(r.stderr).toContain('`vm plan` and `vm apply` refuse until it is fixed');
    // plan still refuses, unchanged.
    const p = await vm(['plan']);
    expect(p.code).toBe(1);
    expect(p.stderr).toContain(`${VAR}, which is not set`);
    expect(p.stdout).toBe('');
  });

  it('status --json carries the observation and the located problem', async () => {
    const r = await vm(['status', '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout) as { services: { livekit: { running: { pid: number }; healthy: boolean; config: { up_to_date: boolean | null }; pending_steps: number | null } }; problems: { line: number; column: number; message: string }[] };
    expect(j.services.livekit.running.pid).toBe(Number(await mainPid()));
    expect(j.services.livekit.healthy).toBe(true);
    expect(j.services.livekit.config.up_to_date).toBeNull();
    expect(j.services.livekit.pending_steps).toBeNull();
    expect(j.problems).toEqual([{ file: 'dotfiles/voicemode.services.yaml', line: 10, column: 16, message: expect.stringContaining(VAR) as string }]);
  });

  it('status with a secret file others may read shows the LiveKit and says chmod 600', async () => {
    await writeFile(secretPath, `${SECRET}\n`);
    await chmod(secretPath, 0o644);
    await writeFile(specPath, spec(`{ file: ${secretPath} }`));
    const pid = await mainPid();
    const r = await vm(['status']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`  running  yes, pid ${pid}\n`);
    expect(r.stdout).toMatch(/^ {2}healthy {2}yes /m);
    expect(r.stderr).toMatch(/^dotfiles\/voicemode\.services\.yaml:10:16: .*mode 0644\); run `chmod 600 .*livekit\.secret`/m);
    expect((await vm(['apply', '--yes'])).code).toBe(1);
    expect(await mainPid()).toBe(pid);
  });

  it('with the secret file private, status is converged and exits 0', async () => {
    await chmod(secretPath, 0o600);
    const r = await vm(['status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^converged$/m);
  });

  it('with livekit deleted from the file (an empty services:), status says it is still running', async () => {
    await writeFile(specPath, 'version: 1\nservices:\n');
    const pid = await mainPid();
    const r = await vm(['status']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('no services declared');
    expect(r.stdout).toContain(`  running  yes, pid ${pid}\n`);
    expect(r.stdout).toContain(`livekit is not in the file but is still running (pid ${pid}, systemd)`);
    expect(r.stdout).toContain('`state: absent`');
    const p = await vm(['plan', '--detailed-exitcode']);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(`still running (pid ${pid}`);
    expect(await livekitHealth(port)).toBe('200 OK');
  });

  it('state: absent without a version removes it; status then says nothing is installed', async () => {
    await writeFile(specPath, spec(`{ file: ${secretPath} }`, 'absent'));
    const a = await vm(['apply', '--yes']);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const r = await vm(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('up to date');
    expect(r.stdout).toMatch(/^ {2}binary {3}not installed /m);
    expect(r.stdout).toMatch(/^ {2}config {3}removed /m);
    expect(r.stdout).toMatch(/^ {2}unit {5}removed /m);
    expect(r.stdout).toMatch(/^ {2}running {2}no /m);
    expect(r.stdout).toMatch(/^converged: livekit is not installed$/m);
    const j = JSON.parse((await vm(['status', '--json'])).stdout) as { services: { livekit: { config: { exists: boolean; key_file_exists: boolean }; unit: { exists: boolean } } } };
    expect(j.services.livekit.config).toMatchObject({ exists: false, key_file_exists: false });
    expect(j.services.livekit.unit.exists).toBe(false);
  });

  it('--install-service warns about an { env } secret the user manager lacks, with both fixes and no value', async () => {
    await writeFile(specPath, spec(`{ env: ${VAR} }`, 'absent'));
    const r = await vm(['watch', '--install-service', '--file', specPath], { [VAR]: SECRET });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${WATCH_UNIT} installed and started`);
    expect(r.stderr).toMatch(new RegExp(`^warning: the file reads a secret from the environment variable ${VAR}, which the systemd user manager's environment lacks`, 'm'));
    expect(r.stderr).toContain('{ file: ');
    expect(r.stderr).toContain(`systemctl --user set-environment ${VAR}=…`);
    expect(r.stderr).toContain(`systemctl --user restart ${WATCH_UNIT}`);
    expect((await um.systemctl('is-enabled', WATCH_UNIT)).stdout.trim()).toBe('enabled');
  });

  it('--install-service says nothing once the user manager has the variable', async () => {
    const set = await um.systemctl('set-environment', `${VAR}=${SECRET}`);
    expect(set.code, set.stderr).toBe(0);
    const r = await vm(['watch', '--install-service', '--file', specPath], { [VAR]: SECRET });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await vm(['watch', '--uninstall-service', '--file', specPath])).code).toBe(0);
  });

  it('no output carried the secret', () => {
    for (const out of transcript) expect(out).not.toContain(SECRET);
  });
});
