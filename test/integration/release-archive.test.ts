// Offline installs from a local release archive (install.archive) and the link switch apply's
// rollback uses. Same contract as a download: verified or nothing changes.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { installArchive, switchLink, type ArchiveRequest } from '../../src/platform/release/install.js';
import { archiveName, buildReleaseArchive } from '../helpers/release-server.js';

const fakeServer = (version: string): string => `#!/bin/sh\necho "livekit-server version ${version}"\n`;
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

let root: string;
let downloads: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vm-archive-'));
  downloads = join(root, 'my downloads & <stuff>');
  mkdirSync(downloads);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Puts a release archive (and, unless told otherwise, a checksums.txt listing it) in `downloads`. */
function place(version: string, opts: { name?: string; sums?: string | null; binary?: string } = {}): string {
  const body = buildReleaseArchive({ binary: opts.binary ?? fakeServer(version) });
  const name = opts.name ?? archiveName(version, 'amd64');
  writeFileSync(join(downloads, name), body);
  if (opts.sums !== null) writeFileSync(join(downloads, 'checksums.txt'), opts.sums ?? `${sha(body)}  ${name}\n${'0'.repeat(64)}  livekit_${version}_linux_arm64.tar.gz\n`);
  return join(downloads, name);
}

function request(version: string, archive: string, extra: Partial<ArchiveRequest> = {}): ArchiveRequest {
  return { version, arch: 'x64', platform: 'linux', archive, versionsDir: join(root, 'livekit', 'versions'), link: join(root, 'livekit', 'livekit-server'), ...extra };
}

/** Everything vm may have touched (not the downloads directory). */
function tree(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (p === downloads) continue;
      out.push(relative(root, p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

async function failure(p: Promise<unknown>): Promise<UserError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('installArchive', () => {
  it('installs the verified binary from a local archive, no network, and links to it', async () => {
    const req = request('1.9.0', place('1.9.0'));
    const { binary } = await installArchive(req);
    expect(binary).toBe(join(req.versionsDir, '1.9.0', 'livekit-server'));
    expect(readFileSync(binary, 'utf8')).toBe(fakeServer('1.9.0'));
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    expect(readlinkSync(req.link)).toBe(binary);
    expect(execFileSync(req.link, ['--version'], { encoding: 'utf8' })).toBe('livekit-server version 1.9.0\n');
    expect(tree()).toEqual(['livekit', 'livekit/livekit-server', 'livekit/versions', 'livekit/versions/1.9.0', 'livekit/versions/1.9.0/livekit-server']);
    expect(readdirSync(downloads).sort()).toEqual(['checksums.txt', 'livekit_1.9.0_linux_amd64.tar.gz']); // the user's files are left alone
  });

  it('picks the asset name from the arch: arm → armv7', async () => {
    const req = request('1.9.0', place('1.9.0', { name: archiveName('1.9.0', 'armv7') }), { arch: 'arm' });
    await installArchive(req);
    expect(readlinkSync(req.link)).toBe(join(req.versionsDir, '1.9.0', 'livekit-server'));
  });

  it('refuses an archive whose name is not the asset for that version and arch', async () => {
    const renamed = place('1.9.0', { name: 'livekit-1.9.0.tar.gz' });
    expect((await failure(installArchive(request('1.9.0', renamed)))).message).toMatch(/its name must be livekit_1\.9\.0_linux_amd64\.tar\.gz/);
    const otherVersion = place('1.9.1');
    expect((await failure(installArchive(request('1.9.0', otherVersion)))).message).toContain('livekit_1.9.0_linux_amd64.tar.gz');
    const otherArch = place('1.9.0', { name: archiveName('1.9.0', 'arm64') });
    expect((await failure(installArchive(request('1.9.0', otherArch)))).code).toBe('INSTALL_FAILED');
    expect(tree()).toEqual([]);
  });

  it('refuses without a checksums.txt beside the archive, or when it does not list the archive', async () => {
    const a = place('1.9.0', { sums: null });
    expect((await failure(installArchive(request('1.9.0', a)))).message).toMatch(/checksums\.txt must sit beside the archive/);
    place('1.9.0', { sums: `${'a'.repeat(64)}  livekit_1.9.0_linux_arm64.tar.gz\n` });
    expect((await failure(installArchive(request('1.9.0', a)))).message).toMatch(/has no entry for livekit_1\.9\.0_linux_amd64\.tar\.gz/);
    expect(tree()).toEqual([]);
  });

  it('a checksum mismatch installs nothing and keeps the installed version linked', async () => {
    const good = request('1.9.0', place('1.9.0'));
    await installArchive(good);
    const before = tree();
    const tampered = place('1.9.1', { sums: `${'b'.repeat(64)}  ${archiveName('1.9.1', 'amd64')}\n` });
    const err = await failure(installArchive(request('1.9.1', tampered)));
    expect(err.code).toBe('CHECKSUM_MISMATCH');
    expect(err.message).toContain(`expected ${'b'.repeat(64)} got ${sha(readFileSync(tampered))}`);
    expect(tree()).toEqual(before);
    expect(execFileSync(good.link, ['--version'], { encoding: 'utf8' })).toBe('livekit-server version 1.9.0\n');
  });

  it('a missing archive or a darwin machine fails cleanly', async () => {
    const missing = join(downloads, archiveName('1.9.0', 'amd64'));
    writeFileSync(join(downloads, 'checksums.txt'), `${'c'.repeat(64)}  ${archiveName('1.9.0', 'amd64')}\n`);
    expect((await failure(installArchive(request('1.9.0', missing)))).message).toMatch(/cannot copy .*ENOENT/);
    expect((await failure(installArchive(request('1.9.0', place('1.9.0'), { platform: 'darwin' })))).message).toMatch(/no macOS release builds/);
    expect(tree()).toEqual([]);
  });

  it('a corrupt archive with a matching checksum is refused at extraction and installs nothing', async () => {
    const name = archiveName('1.9.0', 'amd64');
    writeFileSync(join(downloads, name), 'not a tarball');
    writeFileSync(join(downloads, 'checksums.txt'), `${sha('not a tarball')}  ${name}\n`);
    expect((await failure(installArchive(request('1.9.0', join(downloads, name))))).message).toMatch(/not a readable \.tar\.gz/);
    expect(tree()).toEqual([]);
  });
});

describe('switchLink', () => {
  it('points the link back at a previous version that stays installed (rollback)', async () => {
    const v1 = await installArchive(request('1.9.0', place('1.9.0')));
    const req2 = request('1.9.1', place('1.9.1'));
    await installArchive(req2);
    expect(execFileSync(req2.link, ['--version'], { encoding: 'utf8' })).toContain('1.9.1');
    await switchLink(req2.link, v1.binary);
    expect(lstatSync(req2.link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(req2.link)).toBe(v1.binary);
    expect(execFileSync(req2.link, ['--version'], { encoding: 'utf8' })).toContain('1.9.0');
    expect(tree().filter((p) => p.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a target that does not exist, leaving the link as it was', async () => {
    const v1 = await installArchive(request('1.9.0', place('1.9.0')));
    const link = join(root, 'livekit', 'livekit-server');
    const err = await failure(switchLink(link, join(root, 'livekit', 'versions', '9.9.9', 'livekit-server')));
    expect(err.message).toMatch(/no such file/);
    expect(readlinkSync(link)).toBe(v1.binary);
  });

  it('refuses to replace a directory where the link should be', async () => {
    const v1 = await installArchive(request('1.9.0', place('1.9.0')));
    const dir = join(root, 'a-dir');
    mkdirSync(join(dir, 'inside'), { recursive: true });
    expect((await failure(switchLink(dir, v1.binary))).code).toBe('INSTALL_FAILED');
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(readdirSync(root).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
