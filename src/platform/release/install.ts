// Installs one livekit-server release: download, verify, extract, switch the link.
//
// Contract: on success versionsDir/X.Y.Z/livekit-server is the verified binary (0755) and `link`
// points at it. On failure nothing visible changes: the previous version and link keep working,
// temp files are gone, and directories this call created (still empty) are removed again.
// Every step that replaces something is a rename within one file system, so it is atomic.

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, rmdir, symlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { baseUrlProblem } from '../url-policy.js';
import { assetUrls, parseChecksums, releaseArch } from './assets.js';
import { downloadText, downloadToFile } from './download.js';
import { extractBinary } from './extract.js';

export interface InstallRequest {
  version: string;
  baseUrl: string;
  /** Node's process.arch. */
  arch: string;
  versionsDir: string;
  link: string;
  onProgress?: (received: number, total: number | undefined) => void;
  /** Connect, header and body-idle timeout for each download. Default 30 s. */
  timeoutMs?: number;
  /** Node's process.platform; defaults to the running one. */
  platform?: string;
}

export async function installRelease(req: InstallRequest): Promise<{ binary: string }> {
  // Checked again here (not only when the spec was validated): the installer may be called directly.
  const problem = baseUrlProblem(req.baseUrl);
  if (problem !== undefined) throw new UserError('INSTALL_FAILED', `release base_url refused: ${problem}`);
  const urls = assetUrls(req.baseUrl, req.version, releaseArch(req.arch, req.platform ?? process.platform));
  const net = req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs };

  const sums = parseChecksums(await downloadText(urls.checksums, net));
  const expected = sums.get(urls.archiveName);
  if (expected === undefined) throw new UserError('INSTALL_FAILED', `checksums.txt has no entry for ${urls.archiveName}`);

  const versionsDir = resolve(req.versionsDir);
  const versionDir = join(versionsDir, req.version);
  const binary = join(versionDir, 'livekit-server');
  const link = resolve(req.link);
  const tag = randomBytes(6).toString('hex');
  // Temp names sit beside their targets so every rename stays on one file system.
  const temps = [
    join(versionsDir, `.${urls.archiveName}.tmp-${tag}`),
    `${binary}.tmp-${tag}`,
    `${link}.tmp-${tag}`,
  ] as const;
  const [tmpArchive, tmpBinary, tmpLink] = temps;
  const createdDirs: string[] = [];
  let done = false;
  try {
    await mkdirTracked(versionsDir, createdDirs);
    const got = await downloadToFile(urls.archive, tmpArchive, { ...net, onProgress: req.onProgress });
    if (got.sha256 !== expected) {
      throw new UserError('CHECKSUM_MISMATCH', `checksum mismatch for ${urls.archiveName}: expected ${expected} got ${got.sha256}`);
    }
    await mkdirTracked(versionDir, createdDirs);
    await extractBinary(tmpArchive, tmpBinary);
    await chmod(tmpBinary, 0o755);
    // Replacing a same-version binary is safe: a running server keeps its old inode.
    await rename(tmpBinary, binary);
    await mkdirTracked(dirname(link), createdDirs);
    // An absolute target: a relative one breaks if the link's directory is itself reached via a link.
    await symlink(binary, tmpLink);
    await rename(tmpLink, link);
    done = true;
    return { binary };
  } catch (err) {
    throw asUserError(err, req.version);
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true }).catch(() => undefined)));
    if (!done) await removeEmptyDirs(createdDirs);
  }
}

/** `downloading livekit_1.9.0_linux_amd64.tar.gz  12.3/20.1 MiB` (total unknown: `12.3 MiB`). */
export function formatProgress(name: string, received: number, total: number | undefined): string {
  const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1);
  const amount = total === undefined ? `${mib(received)} MiB` : `${mib(received)}/${mib(total)} MiB`;
  return `downloading ${name}  ${amount}`;
}

/** mkdir -p that remembers which directories it created, outermost first. */
async function mkdirTracked(dir: string, created: string[]): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: 0o755 });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    created.push(d);
    if (d === first || dirname(d) === d) break;
  }
}

/** Undo mkdirTracked: innermost first, and only directories that are still empty. */
async function removeEmptyDirs(created: readonly string[]): Promise<void> {
  const innermostFirst = [...new Set(created)].sort((a, b) => b.length - a.length);
  for (const d of innermostFirst) await rmdir(d).catch(() => undefined);
}

function asUserError(err: unknown, version: string): unknown {
  if (err instanceof UserError) return err;
  // File-system failures (EACCES, ENOSPC, a directory where the link should be) are the user's to fix.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    return new UserError('INSTALL_FAILED', `installing livekit-server ${version} failed: ${(err as Error).message}`);
  }
  return err;
}
