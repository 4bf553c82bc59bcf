import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { assetUrls, parseChecksums, releaseArch } from '../../src/platform/release/assets.js';

const HEX_A = 'a'.repeat(64);
const HEX_B = '0123456789abcdef'.repeat(4);

describe('releaseArch', () => {
  it('maps node arches to the names in LiveKit asset files', () => {
    expect(releaseArch('x64')).toBe('amd64');
    expect(releaseArch('arm64')).toBe('arm64');
    expect(releaseArch('arm')).toBe('armv7');
  });

  it('refuses an arch LiveKit does not build, naming it', () => {
    expect(() => releaseArch('ia32')).toThrow(/no linux build for CPU architecture ia32/);
    expect(() => releaseArch('riscv64')).toThrow(UserError);
  });

  it('on macOS says there are no release builds and points to Homebrew', () => {
    try {
      releaseArch('arm64', 'darwin');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      const e = err as UserError;
      expect(e.code).toBe('INSTALL_FAILED');
      expect(e.message).toMatch(/no macOS release builds/);
      expect(e.hint).toMatch(/install\.method: brew/);
    }
  });

  it('refuses other platforms', () => {
    expect(() => releaseArch('x64', 'win32')).toThrow(/no release builds for win32/);
  });
});

describe('assetUrls', () => {
  it('builds the GitHub layout, with no v inside the file name', () => {
    expect(assetUrls('https://github.com/livekit/livekit/releases', '1.9.0', 'amd64')).toEqual({
      archive: 'https://github.com/livekit/livekit/releases/download/v1.9.0/livekit_1.9.0_linux_amd64.tar.gz',
      archiveName: 'livekit_1.9.0_linux_amd64.tar.gz',
      checksums: 'https://github.com/livekit/livekit/releases/download/v1.9.0/checksums.txt',
    });
  });

  it('ignores trailing slashes on the base URL', () => {
    expect(assetUrls('http://127.0.0.1:8080/rel//', '1.9.1', 'armv7').archive).toBe(
      'http://127.0.0.1:8080/rel/download/v1.9.1/livekit_1.9.1_linux_armv7.tar.gz',
    );
  });

  it('refuses a version that is not exact X.Y.Z (it also names a directory)', () => {
    expect(() => assetUrls('https://x.test', 'v1.9.0', 'amd64')).toThrow(/must look like 1.9.0/);
    expect(() => assetUrls('https://x.test', '../../1.9.0', 'amd64')).toThrow(UserError);
    expect(() => assetUrls('https://x.test', 'latest', 'amd64')).toThrow(UserError);
  });
});

describe('parseChecksums', () => {
  it('reads sha256sum lines as GoReleaser writes them', () => {
    const sums = parseChecksums(`${HEX_A}  livekit_1.9.0_linux_amd64.tar.gz\n${HEX_B}  livekit_1.9.0_linux_arm64.tar.gz\n`);
    expect([...sums]).toEqual([
      ['livekit_1.9.0_linux_amd64.tar.gz', HEX_A],
      ['livekit_1.9.0_linux_arm64.tar.gz', HEX_B],
    ]);
  });

  it('accepts binary-mode markers, blank lines, CRLF and upper-case hex (returned lower-case)', () => {
    const sums = parseChecksums(`\r\n${HEX_B.toUpperCase()} *a.tar.gz\r\n\n  \n${HEX_A}\tb.tar.gz`);
    expect(sums.get('a.tar.gz')).toBe(HEX_B);
    expect(sums.get('b.tar.gz')).toBe(HEX_A);
    expect(sums.size).toBe(2);
  });

  it('an empty file has no entries', () => {
    expect(parseChecksums('').size).toBe(0);
  });

  it('rejects malformed lines with their line number', () => {
    expect(() => parseChecksums(`${HEX_A}  ok.tar.gz\n${'a'.repeat(63)}  short.tar.gz`)).toThrow(/line 2/);
    expect(() => parseChecksums(`${'g'.repeat(64)}  nothex.tar.gz`)).toThrow(UserError);
    expect(() => parseChecksums(`${HEX_A}`)).toThrow(/not "<sha256>  <file name>"/);
    expect(() => parseChecksums(`${HEX_A}${HEX_A}  doubled.tar.gz`)).toThrow(UserError);
  });

  it('rejects a file listing one name with two different checksums', () => {
    expect(() => parseChecksums(`${HEX_A}  x.tar.gz\n${HEX_B}  x.tar.gz\n`)).toThrow(/twice/);
  });
});
