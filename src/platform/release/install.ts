// Installs one livekit-server release: download (or take a local archive), verify, extract,
// switch the link.
//
// Contract: on success versionsDir/X.Y.Z/livekit-server is the verified binary (0755) and `link`
// points at it. On failure nothing visible changes: the previous version and link keep working,
// temp files are gone, and directories this call created (still empty) are removed again.
// Every step that replaces something is a rename within one file system, so it is atomic.

import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm, rmdir, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
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
  return installVerified(req, urls.archiveName, expected, async (tmp) => (await downloadToFile(urls.archive, tmp, { ...net, onProgress: req.onProgress })).sha256);
}

export interface ArchiveRequest {
  version: string;
  /** Node's process.arch. */
  arch: string;
  /** Node's process.platform; defaults to the running one. */
  platform?: string;
  /** A local livekit_X.Y.Z_linux_ARCH.tar.gz with the release's checksums.txt beside it. */
  archive: string;
  versionsDir: string;
  link: string;
}

/**
 * Offline install from a local archive: same verification as a download (its name is the asset
 * name for this version and arch, and checksums.txt beside it lists that sha256), same install.
 */
export async function installArchive(req: ArchiveRequest): Promise<{ binary: string }> {
  const { archiveName } = assetUrls('', req.version, releaseArch(req.arch, req.platform ?? process.platform));
  const archive = resolve(req.archive);
  if (basename(archive) !== archiveName) {
    throw new UserError('INSTALL_FAILED', `${archive} is not the release archive for livekit-server ${req.version} on this machine: its name must be ${archiveName}`);
  }
  const sumsPath = join(dirname(archive), 'checksums.txt');
  let sumsText: string;
  try {
    sumsText = await readFile(sumsPath, 'utf8');
  } catch (e) {
    throw new UserError('INSTALL_FAILED', `cannot read ${sumsPath} (the release's checksums.txt must sit beside the archive): ${(e as Error).message}`);
  }
  const expected = parseChecksums(sumsText).get(archiveName);
  if (expected === undefined) throw new UserError('INSTALL_FAILED', `${sumsPath} has no entry for ${archiveName}`);
  // Hash a private copy and extract from that copy: the file cannot change between check and use.
  return installVerified(req, archiveName, expected, (tmp) => copyHashing(archive, tmp));
}

/**
 * Points `link` at `target` atomically (a new symlink renamed over the old one). apply's rollback
 * uses it to go back to the previous version, which stays installed under versions/.
 */
export async function switchLink(link: string, target: string): Promise<void> {
  const to = resolve(target);
  const st = await stat(to).catch(() => undefined);
  if (st === undefined || !st.isFile()) throw new UserError('INSTALL_FAILED', `cannot point ${link} at ${to}: no such file`);
  const tmp = `${resolve(link)}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    await mkdir(dirname(tmp), { recursive: true, mode: 0o755 });
    await symlink(to, tmp);
    await rename(tmp, resolve(link));
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw asUserError(err, `switching ${link} to ${to}`);
  }
}

/**
 * The shared second half: `obtain` fills a temp file beside the versions and returns its sha256;
 * it must match `expected`; then extract, install under versionsDir/X.Y.Z and switch the link.
 */
async function installVerified(
  req: { version: string; versionsDir: string; link: string },
  archiveName: string,
  expected: string,
  obtain: (tmp: string) => Promise<string>,
): Promise<{ binary: string }> {
  const versionsDir = resolve(req.versionsDir);
  const versionDir = join(versionsDir, req.version);
  const binary = join(versionDir, 'livekit-server');
  const link = resolve(req.link);
  const tag = randomBytes(6).toString('hex');
  // Temp names sit beside their targets so every rename stays on one file system.
  const temps = [join(versionsDir, `.${archiveName}.tmp-${tag}`), `${binary}.tmp-${tag}`, `${link}.tmp-${tag}`] as const;
  const [tmpArchive, tmpBinary, tmpLink] = temps;
  const createdDirs: string[] = [];
  let done = false;
  try {
    await mkdirTracked(versionsDir, createdDirs);
    const got = await obtain(tmpArchive);
    if (got !== expected) {
      throw new UserError('CHECKSUM_MISMATCH', `checksum mismatch for ${archiveName}: expected ${expected} got ${got}`);
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
    throw asUserError(err, `installing livekit-server ${req.version}`);
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true }).catch(() => undefined)));
    if (!done) await removeEmptyDirs(createdDirs);
  }
}

/** Copies `from` to the new file `to` ('wx', 0600), returning the sha256 of what was copied. */
async function copyHashing(from: string, to: string): Promise<string> {
  const hash = createHash('sha256');
  // Opened before the copy starts, so the file exists (and the caller's clean-up finds it) however
  // the copy fails: a write stream opens its file asynchronously, after a failed read may have
  // ended the pipeline and the clean-up has already run.
  const out = await open(to, 'wx', 0o600);
  try {
    await pipeline(
      createReadStream(from),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          yield chunk;
        }
      },
      out.createWriteStream(),
    );
  } catch (e) {
    throw new UserError('INSTALL_FAILED', `cannot copy ${from}: ${(e as Error).message}`);
  } finally {
    await out.close().catch(() => undefined);
  }
  return hash.digest('hex');
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

function asUserError(err: unknown, what: string): unknown {
  if (err instanceof UserError) return err;
  // File-system failures (EACCES, ENOSPC, a directory where the link should be) are the user's to fix.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return new UserError('INSTALL_FAILED', `${what} failed: ${(err as Error).message}`);
  return err;
}
