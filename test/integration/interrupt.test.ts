// Stopping vm while it applies, as a person does: Ctrl-C (or Ctrl-D) at the confirmation prompt
// in a real terminal, and SIGINT during the health wait of an upgrade, against a real systemd user
// manager, the local release server and a stand-in version that never becomes ready. Steps build
// on each other, in order.

import { spawn } from 'node:child_process';
import { readlink, stat, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';
import { startUserManager, userManagerAvailable, type UserManager } from '../helpers/systemd.js';
import { freePorts, livekitEntry, ROOT, runVm, servicesFile, spawnVm, standinScript, type VmChild, waitFor } from '../kit/index.js';

const UNIT = 'voicemode-livekit.service';
const SECRET = 'interrupt-secret-0123456789abcdefghijklmno';

let um: UserManager;
let rel: ReleaseServer;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let specPath: string;
let lkDir: string;
let lockPath: string;

function spec(version: string): string {
  const livekit = livekitEntry({
    version,
    install: { method: 'release', base_url: rel.baseUrl },
    port,
    rtcRange: [53000, 53100],
    tcpPort,
    keys: { apikey1: SECRET },
    // Long enough that only the signal can end the wait within the test's limits.
    health: '60s',
  });
  return servicesFile({ livekit }, { supervisor: 'systemd' });
}

const activeVersion = async () => (await readlink(`${lkDir}/livekit-server`)).split('/').at(-2);
const exists = (p: string) => stat(p).then(() => true, () => false);

/** Quotes a string for POSIX sh: one word, taken literally. */
const sh = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * Runs `vm ARGS` in a real pseudo-terminal (util-linux `script`), types `key` once `waitFor`
 * appears, and returns what the terminal showed and vm's exit code.
 */
function inTerminal(args: string[], waitFor: string, key: string): Promise<{ code: number | null; screen: string }> {
  const cmd = [process.execPath, `${ROOT}bin/vm.cjs`, ...args].map(sh).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TERM: 'dumb', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let screen = '';
  let typed = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    screen += d;
    if (!typed && screen.includes(waitFor)) {
      typed = true;
      child.stdin.write(key);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (screen += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    }),
  );
}

/** Starts an upgrade to the never-ready 1.9.3 and resolves once its health wait is under way. */
async function upgradeInHealthWait(): Promise<VmChild> {
  await writeFile(specPath, spec('1.9.3'));
  const child = spawnVm(['apply', '--yes'], env);
  // 1.9.3 is up and answers 406: vm is in its health wait (the step after the restart).
  await waitFor('the health wait of 1.9.3', async () => child.stdout().includes('wait-healthy') && (await activeVersion().catch(() => '')) === '1.9.3' && (await livekitHealth(port)).startsWith('406'));
  return child;
}

describe.skipIf(!userManagerAvailable())('stopping vm while it applies', () => {
  beforeAll(async () => {
    um = await startUserManager();
    [port, tcpPort] = (await freePorts(2)) as [number, number];
    rel = await startReleaseServer({
      releases: [
        { version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) },
        { version: '1.9.3', binary: standinScript({ version: '1.9.3', mode: 'never-ready' }) },
      ],
    });
    specPath = `${um.env.HOME}/voicemode.services.yaml`;
    lkDir = `${um.env.HOME}/.voicemode/services/livekit`;
    lockPath = `${um.env.HOME}/.voicemode/state/apply.lock`;
    env = { ...um.env, VOICEMODE_SERVICES_FILE: specPath };
    await writeFile(specPath, spec('1.9.0'));
  });

  afterAll(async () => {
    await um?.systemctl('stop', UNIT);
    await um?.stop();
    await rel?.close();
  });

  it('Ctrl-C at "Take these N steps? [y/N]" is a no: not applied, exit 130, no stack trace', async () => {
    const r = await inTerminal(['apply'], 'steps? [y/N]', '\x03');
    expect(r.screen).toContain('vm: not applied (Ctrl-C)');
    expect(r.screen).not.toMatch(/internal error|AbortError|\n\s+at /);
    expect(r.code).toBe(130);
    expect(await exists(`${lkDir}/livekit.yaml`)).toBe(false);
    expect(await exists(lockPath)).toBe(false);
  });

  it('Ctrl-D at the prompt is a no too: not applied, exit 1, no stack trace', async () => {
    const r = await inTerminal(['apply'], 'steps? [y/N]', '\x04');
    expect(r.screen).toContain('vm: not applied (end of input)');
    expect(r.screen).not.toMatch(/internal error|AbortError|\n\s+at /);
    expect(r.code).toBe(1);
    expect(await exists(`${lkDir}/livekit.yaml`)).toBe(false);
  });

  it('"n" at the prompt says not applied and exits 1', async () => {
    const r = await inTerminal(['apply'], 'steps? [y/N]', 'n\r');
    expect(r.screen).toContain('vm: not applied: not confirmed');
    expect(r.code).toBe(1);
  });

  it('installs 1.9.0 and ends healthy (the setup the next tests go back to)', async () => {
    const r = await runVm(['apply', '--yes'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await livekitHealth(port)).toBe('200 OK');
  });

  it('SIGINT during the health wait of an upgrade says so at once, rolls back, releases the lock and exits 130', async () => {
    const child = await upgradeInHealthWait();
    const sentAt = child.elapsed();
    child.signal('SIGINT');
    await waitFor('the stopping line', () => child.stderr().includes('stopping after this step'), 5_000);
    const r = await child.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('vm: stopping after this step… (Ctrl-C again to skip the rollback)');
    expect(r.stdout).toMatch(/wait-healthy.* interrupted\n/);
    expect(r.stdout).toContain('Rolling back to the previous binary, config and unit');
    expect(r.stderr).toMatch(/vm: interrupted \(Ctrl-C\) during step \d+ of \d+ \(livekit healthy wait-healthy\); rolled back to the previous binary, config and unit: .*healthy again/);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    // Cut short: well before the 60 s health timeout.
    expect(r.ms - sentAt).toBeLessThan(30_000);
    expect(await activeVersion()).toBe('1.9.0');
    expect(await livekitHealth(port)).toBe('200 OK');
    expect(await exists(lockPath)).toBe(false);
    // The change is still pending: the next apply would try it again.
    expect((await runVm(['plan', '--detailed-exitcode'], env)).code).toBe(2);
  });

  it('a second SIGINT skips the rollback, saying so, and still releases the lock', async () => {
    const child = await upgradeInHealthWait();
    child.signal('SIGINT');
    await waitFor('the stopping line', () => child.stderr().includes('stopping after this step'), 5_000);
    child.signal('SIGINT');
    const r = await child.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('vm: skipping the rollback: what was applied stays as it is; run `vm apply` to finish it');
    expect(r.stderr).toMatch(/vm: interrupted \(Ctrl-C\) .*; rollback skipped \(asked twice to stop\)/);
    expect(r.stderr).not.toContain('healthy again');
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(await exists(lockPath)).toBe(false);
    // Whatever the rollback had got to, the next apply of a good file converges.
    await writeFile(specPath, spec('1.9.0'));
    const again = await runVm(['apply', '--yes'], env);
    expect(again.code).toBe(0);
    expect(await livekitHealth(port)).toBe('200 OK');
  });

  it('SIGTERM during the health wait rolls back the same way and exits 143', async () => {
    const child = await upgradeInHealthWait();
    child.signal('SIGTERM');
    const r = await child.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/vm: interrupted \(SIGTERM\) during step .*; rolled back/);
    expect(await activeVersion()).toBe('1.9.0');
    expect(await livekitHealth(port)).toBe('200 OK');
    expect(await exists(lockPath)).toBe(false);
  });
});
