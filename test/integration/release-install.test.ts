import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { installRelease, type InstallRequest } from '../../src/platform/release/install.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';

const fakeServer = (version: string): string => `#!/bin/sh\necho "livekit-server version ${version}"\n`;

let root: string;
let servers: ReleaseServer[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vm-release-'));
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await rm(root, { recursive: true, force: true });
});

async function serve(...args: Parameters<typeof startReleaseServer>): Promise<ReleaseServer> {
  const s = await startReleaseServer(...args);
  servers.push(s);
  return s;
}

function request(server: ReleaseServer, version: string, extra: Partial<InstallRequest> = {}): InstallRequest {
  return {
    version,
    baseUrl: server.baseUrl,
    arch: 'x64',
    platform: 'linux',
    versionsDir: join(root, 'livekit', 'versions'),
    link: join(root, 'livekit', 'bin', 'livekit-server'),
    timeoutMs: 5000,
    ...extra,
  };
}

/** Every path under root (relative, sorted), including dot files and links. */
function tree(dir = root): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      out.push(relative(root, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

async function failure(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('installRelease', () => {
  it('installs an executable livekit-server with exactly the served content and links to it', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    const req = request(server, '1.9.0');
    const progress: Array<[number, number | undefined]> = [];
    const { binary } = await installRelease({ ...req, onProgress: (r, t) => progress.push([r, t]) });

    expect(binary).toBe(join(req.versionsDir, '1.9.0', 'livekit-server'));
    expect(readFileSync(binary, 'utf8')).toBe(fakeServer('1.9.0'));
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    expect(lstatSync(req.link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(req.link)).toBe(binary);
    expect(execFileSync(req.link, ['--version'], { encoding: 'utf8' })).toBe('livekit-server version 1.9.0\n');
    expect(server.requests).toEqual(['/download/v1.9.0/checksums.txt', '/download/v1.9.0/livekit_1.9.0_linux_amd64.tar.gz']);
    expect(progress.at(-1)?.[0]).toBe(progress.at(-1)?.[1]);
    expect(tree()).toEqual(['livekit', 'livekit/bin', 'livekit/bin/livekit-server', 'livekit/versions', 'livekit/versions/1.9.0', 'livekit/versions/1.9.0/livekit-server']);
  });

  it('downloads the archive for the machine arch (arm → armv7)', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    await installRelease(request(server, '1.9.0', { arch: 'arm' }));
    expect(server.requests).toContain('/download/v1.9.0/livekit_1.9.0_linux_armv7.tar.gz');
  });

  it('follows GitHub-style 302 redirects to the object store', async () => {
    const server = await serve({ redirectDownloads: true, releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    const req = request(server, '1.9.0');
    await installRelease(req);
    expect(server.requests.filter((p) => p.startsWith('/objects/'))).toHaveLength(2);
    expect(execFileSync(req.link, ['--version'], { encoding: 'utf8' })).toContain('1.9.0');
  });

  it('a second version switches the link and keeps the first version on disk', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }, { version: '1.9.1', binary: fakeServer('1.9.1') }] });
    const first = await installRelease(request(server, '1.9.0'));
    const req = request(server, '1.9.1');
    let sawOldLinkDuringDownload = false;
    const second = await installRelease({
      ...req,
      // The link must keep pointing at the working version until the new one is complete.
      onProgress: () => {
        expect(readlinkSync(req.link)).toBe(first.binary);
        sawOldLinkDuringDownload = true;
      },
    });
    expect(sawOldLinkDuringDownload).toBe(true);
    expect(readlinkSync(req.link)).toBe(second.binary);
    expect(execFileSync(req.link, ['--version'], { encoding: 'utf8' })).toBe('livekit-server version 1.9.1\n');
    expect(execFileSync(first.binary, ['--version'], { encoding: 'utf8' })).toBe('livekit-server version 1.9.0\n');
    expect(tree().filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  it('installing the same version again repairs it in place', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    const req = request(server, '1.9.0');
    await installRelease(req);
    const before = tree();
    await installRelease(req);
    expect(tree()).toEqual(before);
  });

  it('a checksum mismatch fails with both hashes and installs nothing', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0'), corruptChecksum: true }] });
    const err = await failure(installRelease(request(server, '1.9.0')));
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.message).toMatch(/^checksum mismatch for livekit_1\.9\.0_linux_amd64\.tar\.gz: expected [0-9a-f]{64} got [0-9a-f]{64}$/);
    expect(tree()).toEqual([]); // no version dir, no link, no temp archive, not even the dirs
  });

  it('a failed upgrade leaves the installed version and its link working', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }, { version: '1.9.1', binary: fakeServer('1.9.1'), corruptChecksum: true }] });
    const req = request(server, '1.9.0');
    await installRelease(req);
    const before = tree();
    await failure(installRelease(request(server, '1.9.1')));
    expect(tree()).toEqual(before);
    expect(execFileSync(req.link, ['--version'], { encoding: 'utf8' })).toBe('livekit-server version 1.9.0\n');
  });

  it('an archive missing from checksums.txt is refused before it is downloaded', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0'), omitFromChecksums: true }] });
    const err = await failure(installRelease(request(server, '1.9.0')));
    expect(err.message).toBe('checksums.txt has no entry for livekit_1.9.0_linux_amd64.tar.gz');
    expect(server.requests).toEqual(['/download/v1.9.0/checksums.txt']);
    expect(tree()).toEqual([]);
  });

  it('a version that was never released reports the 404 with its URL', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    const err = await failure(installRelease(request(server, '2.0.0')));
    expect(err.code).toBe('INSTALL_FAILED');
    expect(err.message).toBe(`GET ${server.baseUrl}/download/v2.0.0/checksums.txt → 404 Not Found`);
  });

  it('refuses an archive whose livekit-server is a symlink, and installs nothing', async () => {
    const server = await serve({
      releases: [{ version: '1.9.0', binary: '', extraMembers: [{ name: 'livekit-server', type: 'symlink', linkpath: '/bin/sh' }] }],
    });
    const err = await failure(installRelease(request(server, '1.9.0')));
    expect(err.message).toMatch(/livekit-server is a symbolic link to "\/bin\/sh", not a regular file; refused/);
    expect(tree()).toEqual([]);
  });

  it('writes only livekit-server from an archive that also holds ../ and absolute members', async () => {
    const tag = `vm-evil-${process.pid}-${Date.now()}`;
    const absolute = join(tmpdir(), tag);
    const server = await serve({
      releases: [{
        version: '1.9.0',
        binary: fakeServer('1.9.0'),
        extraMembers: [
          { name: `../${tag}`, content: 'evil' },
          { name: `../../${tag}`, content: 'evil' },
          { name: absolute, content: 'evil' },
          { name: 'bin/livekit-server', content: 'not this one' },
          { name: 'sh', type: 'symlink', linkpath: '/bin/sh' },
        ],
      }],
    });
    const req = request(server, '1.9.0');
    await installRelease(req);
    expect(readFileSync(req.link, 'utf8')).toBe(fakeServer('1.9.0'));
    expect(tree()).toEqual(['livekit', 'livekit/bin', 'livekit/bin/livekit-server', 'livekit/versions', 'livekit/versions/1.9.0', 'livekit/versions/1.9.0/livekit-server']);
    expect(existsSync(absolute)).toBe(false);
    expect(existsSync(resolve(root, '..', tag))).toBe(false);
    expect(existsSync(resolve(process.cwd(), '..', tag))).toBe(false);
  });

  it('refuses plain http to a non-loopback host without sending any request', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    // 0.0.0.0 would reach this very server, so a request would show up in server.requests.
    const port = new URL(server.baseUrl).port;
    const err = await failure(installRelease(request(server, '1.9.0', { baseUrl: `http://0.0.0.0:${port}` })));
    expect(err.message).toMatch(/^release base_url refused: http:\/\/ is only allowed for 127\.0\.0\.1 or localhost/);
    expect(server.requests).toEqual([]);
    await failure(installRelease(request(server, '1.9.0', { baseUrl: 'http://releases.example.com/livekit' })));
    expect(tree()).toEqual([]);
  });

  it('refuses a redirect to plain http on another host', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    server.setFault('/download/v1.9.0/livekit_1.9.0_linux_amd64.tar.gz', { redirectTo: 'http://mirror.example.com/livekit.tar.gz' });
    const err = await failure(installRelease(request(server, '1.9.0')));
    expect(err.message).toMatch(/^refusing redirect from http:\/\/127\.0\.0\.1:\d+\/download\/v1\.9\.0\/livekit_1\.9\.0_linux_amd64\.tar\.gz to http:\/\/mirror\.example\.com\/livekit\.tar\.gz: http:\/\/ is only allowed/);
    expect(tree()).toEqual([]);
  });

  it('gives up on a server that never answers within the configured timeout', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0') }] });
    server.setFault('/download/v1.9.0/checksums.txt', 'hang');
    const started = Date.now();
    const err = await failure(installRelease(request(server, '1.9.0', { timeoutMs: 300 })));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err.message).toMatch(/checksums\.txt: no response within 0\.3 s$/);
  });

  it('a download cut short fails and leaves no partial files', async () => {
    const server = await serve({ releases: [{ version: '1.9.0', binary: fakeServer('1.9.0').repeat(2000) }] });
    server.setFault('/download/v1.9.0/livekit_1.9.0_linux_amd64.tar.gz', 'truncate');
    const err = await failure(installRelease(request(server, '1.9.0')));
    expect(err.code).toBe('INSTALL_FAILED');
    expect(err.message).toMatch(/livekit_1\.9\.0_linux_amd64\.tar\.gz failed: /);
    expect(tree()).toEqual([]);
  });
});
