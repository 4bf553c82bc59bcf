import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { extractBinary } from '../../src/platform/release/extract.js';
import { buildReleaseArchive, type ReleaseMember } from '../helpers/release-server.js';

const BINARY = '#!/bin/sh\necho "livekit-server version 1.9.0"\n';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vm-extract-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function archive(extraMembers: ReleaseMember[] = [], binary = BINARY): string {
  const file = join(dir, `a-${randomBytes(4).toString('hex')}.tar.gz`);
  writeFileSync(file, buildReleaseArchive({ binary, extraMembers }));
  return file;
}

async function refusal(file: string): Promise<string> {
  const dest = join(dir, 'out');
  const err = await extractBinary(file, dest).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect(existsSync(dest)).toBe(false); // no partial or placeholder binary left behind
  return (err as UserError).message;
}

describe('extractBinary', () => {
  it('writes livekit-server, and only it, to the given path', async () => {
    const dest = join(dir, 'out');
    await extractBinary(archive(), dest);
    expect(readFileSync(dest, 'utf8')).toBe(BINARY);
    expect(readdirSync(dir).filter((f) => !f.endsWith('.tar.gz'))).toEqual(['out']);
  });

  it('accepts ./livekit-server as GNU tar writes it with `-C dir .`', async () => {
    const stage = join(dir, 'stage');
    mkdirSync(stage);
    writeFileSync(join(stage, 'livekit-server'), BINARY);
    chmodSync(join(stage, 'livekit-server'), 0o755);
    writeFileSync(join(stage, 'LICENSE'), 'license\n');
    const file = join(dir, 'gnu.tar.gz');
    execFileSync('tar', ['-czf', file, '-C', stage, '.']);
    await extractBinary(file, join(dir, 'out'));
    expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(BINARY);
  });

  it('test archives are real: GNU tar lists them with an executable livekit-server', () => {
    const listing = execFileSync('tar', ['-tvzf', archive()], { encoding: 'utf8' });
    expect(listing).toMatch(/^-rw-r--r-- .* LICENSE$/m);
    expect(listing).toMatch(/^-rwxr-xr-x .* livekit-server$/m);
  });

  it('streams a large binary intact', async () => {
    const big = randomBytes(6 * 1024 * 1024).toString('base64');
    const dest = join(dir, 'out');
    await extractBinary(archive([], big), dest);
    const sha = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');
    expect(sha(readFileSync(dest))).toBe(sha(big));
  });

  it('an archive whose only livekit-server is in a subdirectory: no livekit-server at its root', async () => {
    const stage = join(dir, 'stage');
    mkdirSync(join(stage, 'bin'), { recursive: true });
    writeFileSync(join(stage, 'bin', 'livekit-server'), BINARY);
    writeFileSync(join(stage, 'LICENSE'), 'license\n');
    const nested = join(dir, 'nested.tar.gz');
    execFileSync('tar', ['-czf', nested, '-C', stage, 'bin', 'LICENSE']);
    expect(await refusal(nested)).toBe('nested.tar.gz has no livekit-server at its root');
  });

  it('refuses a hard link named livekit-server', async () => {
    expect(await refusal(archive([{ name: 'livekit-server', type: 'hardlink', linkpath: 'LICENSE' }]))).toMatch(
      /livekit-server is a hard link to "LICENSE", not a regular file; refused/,
    );
  });

  it('refuses livekit-server reached through .. or an absolute path', async () => {
    expect(await refusal(archive([{ name: '../livekit-server', content: 'evil' }]))).toMatch(/"\.\.\/livekit-server" would land on livekit-server/);
    expect(await refusal(archive([{ name: '/livekit-server', content: 'evil' }]))).toMatch(/absolute or "\.\." path; refused/);
    expect(await refusal(archive([{ name: 'x/../livekit-server', content: 'evil' }]))).toMatch(/refused/);
  });

  it('refuses an archive holding livekit-server twice', async () => {
    expect(await refusal(archive([{ name: './livekit-server', content: 'first' }]))).toMatch(/more than once/);
  });

  it('refuses a file that is not a .tar.gz, or one cut short', async () => {
    const junk = join(dir, 'junk.tar.gz');
    writeFileSync(junk, 'this is not an archive at all, not even close'.repeat(20));
    expect(await refusal(junk)).toMatch(/^junk\.tar\.gz is not a readable \.tar\.gz: /);
    // Cut at several points inside the binary: the write may be waiting for data or busy writing.
    const whole = readFileSync(archive([], randomBytes(2 * 1024 * 1024).toString('base64')));
    for (const fraction of [0.1, 0.3, 0.5, 0.7, 0.95]) {
      const cut = join(dir, 'cut.tar.gz');
      writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * fraction)));
      expect(await refusal(cut)).toBe('cut.tar.gz is not a readable .tar.gz: zlib: unexpected end of file');
    }
  });

  it('never writes through an existing file at the destination', async () => {
    const dest = join(dir, 'out');
    writeFileSync(dest, 'keep me');
    await expect(extractBinary(archive(), dest)).rejects.toThrow(/EEXIST/);
    expect(readFileSync(dest, 'utf8')).toBe('keep me');
  });
});
