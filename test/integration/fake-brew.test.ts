// test/fixtures/fake-brew (there is no Homebrew here), driven through vm's own brew module, so
// the owner's integration tests of install.method: brew can rely on it.

import { execFileSync } from 'node:child_process';
import { lstatSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brewInstall, brewPrefix, brewStableVersion } from '../../src/platform/brew.js';
import { nodeHost } from '../../src/platform/node-host.js';
import { fakeBrew, type FakeBrew } from '../helpers/fakes.js';
import { standinScript } from '../kit/index.js';

let root: string;
let brew: FakeBrew;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'vm-brew-'));
  brew = await fakeBrew(root, { stable: '1.9.0', binarySource: standinScript({ version: '1.9.0' }) });
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const host = (extra: Record<string, string> = {}) => nodeHost({ HOME: root, ...brew.env, ...extra });
const version = (bin: string) => execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();

describe('fake brew', () => {
  it('answers --prefix and info --json=v2 as vm reads them, and records every call', async () => {
    expect(await brewPrefix(host())).toBe(brew.prefix);
    expect(await brewStableVersion(host(), 'livekit')).toEqual({ ok: true, version: '1.9.0' });
    expect(await brew.calls()).toEqual(['--prefix', 'info --json=v2 livekit']);
  });

  it('install puts livekit-server in the Cellar and links <prefix>/bin to it; a second install changes nothing', async () => {
    await brewInstall(host(), 'livekit', false);
    const bin = join(brew.prefix, 'bin', 'livekit-server');
    expect(lstatSync(bin).isSymbolicLink()).toBe(true);
    expect(readlinkSync(bin)).toBe('../Cellar/livekit/1.9.0/bin/livekit-server');
    expect(version(bin)).toBe('livekit-server version 1.9.0');
    await brewInstall(host(), 'livekit', false);
    expect(await brew.calls()).toEqual(['install livekit', 'install livekit']);
  });

  it('upgrade moves to the new stable version; upgrade of a formula not installed fails', async () => {
    await expect(brewInstall(host(), 'livekit', true)).rejects.toMatchObject({ code: 'INSTALL_FAILED', message: 'brew upgrade livekit failed: Error: livekit not installed' });
    await brewInstall(host(), 'livekit', false);
    const next = await fakeBrew(root, { stable: '1.9.1', binarySource: standinScript({ version: '1.9.1' }) });
    const h = nodeHost({ HOME: root, ...next.env });
    expect(JSON.parse((await h.exec('brew', ['info', '--json=v2', 'livekit'])).stdout)).toMatchObject({ formulae: [{ versions: { stable: '1.9.1' }, installed: [{ version: '1.9.0' }], outdated: true }] });
    await brewInstall(h, 'livekit', true);
    expect(version(join(brew.prefix, 'bin', 'livekit-server'))).toBe('livekit-server version 1.9.1');
  });

  it('FAKE_BREW_FAIL makes install fail like a failed download; unknown formulae and commands are errors', async () => {
    await expect(brewInstall(host({ FAKE_BREW_FAIL: '1' }), 'livekit', false)).rejects.toMatchObject({ message: expect.stringContaining('Failed to download resource') });
    expect((await host().exec('brew', ['install', 'nope'])).code).toBe(1);
    expect((await host().exec('brew', ['frobnicate'])).stderr).toContain('Unknown command');
  });
});
