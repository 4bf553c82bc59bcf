// Names and URLs of livekit-server release assets, and the checksums file format.
// Pure: no I/O, so the planner may use these too.
//
// Layout (livekit/livekit .goreleaser.yaml): {base}/download/vX.Y.Z/livekit_X.Y.Z_linux_<arch>.tar.gz
// (no `v` inside the file name) and {base}/download/vX.Y.Z/checksums.txt.

import { UserError } from '../../errors.js';

export type ReleaseArch = 'amd64' | 'arm64' | 'armv7';

export interface AssetUrls {
  readonly archive: string;
  readonly archiveName: string;
  readonly checksums: string;
}

const VERSION = /^\d+\.\d+\.\d+$/;

/**
 * Maps Node's `process.arch` (and `process.platform`) to the arch in LiveKit's asset names.
 * LiveKit publishes linux builds only; on macOS the binary comes from Homebrew.
 */
export function releaseArch(nodeArch: string, platform: string = 'linux'): ReleaseArch {
  if (platform === 'darwin') {
    throw new UserError(
      'INSTALL_FAILED',
      'LiveKit publishes no macOS release builds, so vm cannot install livekit-server here',
      'use install.method: brew (or auto, which uses Homebrew on macOS), or install.method: path with a livekit-server of your own',
    );
  }
  if (platform !== 'linux') {
    throw new UserError('INSTALL_FAILED', `LiveKit publishes no release builds for ${platform}; only linux is supported`);
  }
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'arm64';
    // Node reports every 32-bit ARM as `arm`; LiveKit only builds armv7, so an armv6 board
    // (Raspberry Pi Zero/1) gets a binary that will not start: `--version` observation reports it.
    case 'arm':
      return 'armv7';
    default:
      throw new UserError(
        'INSTALL_FAILED',
        `LiveKit publishes no linux build for CPU architecture ${nodeArch} (only x64, arm64, arm)`,
        'build livekit-server yourself and set install.path to it',
      );
  }
}

/** Asset URLs for one version. `version` must be exact X.Y.Z: it also names a directory. */
export function assetUrls(baseUrl: string, version: string, arch: ReleaseArch): AssetUrls {
  if (!VERSION.test(version)) {
    throw new UserError('INSTALL_FAILED', `livekit version must look like 1.9.0 (got ${JSON.stringify(version)})`);
  }
  const base = baseUrl.replace(/\/+$/, '');
  const archiveName = `livekit_${version}_linux_${arch}.tar.gz`;
  const dir = `${base}/download/v${version}`;
  return { archive: `${dir}/${archiveName}`, archiveName, checksums: `${dir}/checksums.txt` };
}

/**
 * Parses `sha256sum` output: `<64 hex>  <name>` per line (`*name` marks binary mode).
 * Blank lines are skipped; any other malformed line is an error, since a checksums file we only
 * half understand proves nothing. Hex is returned lower-case.
 */
export function parseChecksums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const m = /^([0-9a-fA-F]{64})[ \t]+\*?(\S.*)$/.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) {
      throw new UserError('INSTALL_FAILED', `checksums.txt line ${i + 1} is not "<sha256>  <file name>": ${JSON.stringify(raw.slice(0, 120))}`);
    }
    const hex = m[1].toLowerCase();
    const seen = sums.get(m[2]);
    if (seen !== undefined && seen !== hex) {
      throw new UserError('INSTALL_FAILED', `checksums.txt lists ${m[2]} twice with different checksums`);
    }
    sums.set(m[2], hex);
  });
  return sums;
}
