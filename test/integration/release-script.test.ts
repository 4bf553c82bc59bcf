// install.method: script, against a local HTTP server serving fake install scripts shaped like
// LiveKit's (install-livekit.sh: needs an existing INSTALL_PATH, uses sudo only when it is not
// writable, installs the latest release whatever was asked).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { nodeHost } from '../../src/platform/node-host.js';
import { installWithScript } from '../../src/platform/release/script.js';
import { standinScript } from '../kit/index.js';

/** Like install-livekit.sh, minus the download: the "release" is written from a heredoc. */
function installer(version: string, opts: { sudo?: boolean; prompt?: boolean; ignoreInstallPath?: boolean; exitAfter?: boolean } = {}): string {
  return [
    '#!/usr/bin/env bash',
    'set -u -o errexit -o pipefail',
    opts.ignoreInstallPath === true ? 'INSTALL_PATH="$HOME/not-vms-dir"; mkdir -p "$INSTALL_PATH"' : 'INSTALL_PATH="${INSTALL_PATH:-/usr/local/bin}"',
    `[ -d "$INSTALL_PATH" ] || { echo "Could not install, $INSTALL_PATH doesn't exist" >&2; exit 1; }`,
    'SUDO_PREFIX=""',
    opts.sudo === true ? 'SUDO_PREFIX="sudo"; echo "sudo is required to install to ${INSTALL_PATH}"' : '[ -w "$INSTALL_PATH" ] || SUDO_PREFIX="sudo"',
    opts.prompt === true ? 'read -r -p "Install livekit? [y/N] " answer; [ "$answer" = y ]' : '',
    `echo "Installing livekit ${version}"`,
    `cat <<'LIVEKIT_EOF' | \${SUDO_PREFIX} tee "$INSTALL_PATH/livekit-server" >/dev/null`,
    standinScript({ version }).trimEnd(),
    'LIVEKIT_EOF',
    'chmod +x "$INSTALL_PATH/livekit-server"',
    opts.exitAfter === true ? 'exit 3' : '',
    'echo "livekit-server is installed to $INSTALL_PATH"',
    '',
  ].join('\n');
}

const scripts = new Map<string, string>();
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const body = scripts.get(req.url ?? '');
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/x-shellscript' }).end(body ?? 'Not Found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  scripts.set('/latest', installer('1.9.4'));
  scripts.set('/sudo', installer('1.9.4', { sudo: true }));
  scripts.set('/prompt', installer('1.9.4', { prompt: true }));
  scripts.set('/old', installer('1.9.4', { ignoreInstallPath: true }));
  scripts.set('/fails', installer('1.9.4', { exitAfter: true }));
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vm-script-'));
  mkdirSync(join(root, 'home'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const host = () => nodeHost({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(root, 'home') });
const target = (path: string, version = '') => ({ scriptUrl: `${base}${path}`, version, versionsDir: join(root, 'livekit', 'versions'), link: join(root, 'livekit', 'livekit-server') });

async function failure(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

/** Nothing installed, nothing linked, no temp directory left. */
function untouched(): void {
  expect(existsSync(join(root, 'livekit', 'livekit-server'))).toBe(false);
  expect(existsSync(join(root, 'livekit', 'versions')) ? readdirSync(join(root, 'livekit', 'versions')) : []).toEqual([]);
}

describe('installWithScript', () => {
  it('runs the script with INSTALL_PATH in vm\'s directory, then installs that version and switches the link', async () => {
    const t = target('/latest');
    await installWithScript(host(), t);
    const binary = join(t.versionsDir, '1.9.4', 'livekit-server');
    expect(readlinkSync(t.link)).toBe(binary);
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    expect(execFileSync(t.link, ['--version'], { encoding: 'utf8' })).toBe('livekit-server version 1.9.4\n');
    expect(readdirSync(t.versionsDir)).toEqual(['1.9.4']); // the .script-* work directory is gone
  });

  it('accepts a declared version the script installs; refuses one it does not, switching nothing', async () => {
    await installWithScript(host(), target('/latest', '1.9.4'));
    const t = target('/latest', '1.9.0');
    const before = readlinkSync(t.link);
    const err = await failure(installWithScript(host(), t));
    expect(err.code).toBe('INSTALL_FAILED');
    expect(err.message).toBe('the install script installed livekit-server 1.9.4, not the declared 1.9.0; nothing was switched');
    expect(err.hint).toMatch(/install\.method: release/);
    expect(readlinkSync(t.link)).toBe(before);
    expect(readdirSync(t.versionsDir)).toEqual(['1.9.4']);
  });

  it('a script that tries sudo fails at once with a clear error, never prompting', async () => {
    const t0 = Date.now();
    const err = await failure(installWithScript(host(), target('/sudo')));
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(err.message).toMatch(/^the install script from http:\/\/127\.0\.0\.1:\d+\/sudo failed \(exit 1\): vm: the install script asked for sudo \(tee .*livekit-server\)/);
    untouched();
  });

  it('a script that reads an answer gets end-of-file at once (stdin is /dev/null)', async () => {
    const err = await failure(installWithScript(host(), target('/prompt')));
    expect(err.message).toMatch(/failed \(exit 1\)/);
    untouched();
  });

  it('a script that ignores INSTALL_PATH (before livekit#3954) is reported, not trusted', async () => {
    const err = await failure(installWithScript(host(), target('/old')));
    expect(err.message).toMatch(/left no livekit-server in INSTALL_PATH/);
    expect(err.hint).toMatch(/ignore INSTALL_PATH/);
    untouched();
  });

  it('a failing script or a missing one installs nothing', async () => {
    expect((await failure(installWithScript(host(), target('/fails')))).message).toMatch(/failed \(exit 3\): Installing livekit 1\.9\.4$/);
    untouched();
    expect((await failure(installWithScript(host(), target('/nope')))).message).toMatch(/→ 404/);
    untouched();
  });

  it('refuses a plain-http script URL that is not loopback, before any request', async () => {
    const err = await failure(installWithScript(host(), { ...target('/latest'), scriptUrl: 'http://example.com/install.sh' }));
    expect(err.message).toMatch(/refusing to download/);
    untouched();
  });
});
