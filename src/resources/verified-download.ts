// A verified download: fetch `url` into a temp file beside `dest`, check its sha256, and only then
// rename it into place (atomic, same directory). On any failure — network, size, checksum — the
// temp file goes and `dest` is untouched: a retry starts cleanly from the beginning. A temp file
// left by a killed vm is removed by the sweep under the apply lock (apply/sweep.ts).
// Used for whisper models; LiveKit releases go through the release installer, which verifies
// against the release's checksums.txt with the same downloader.

import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';

export interface VerifiedDownload {
  readonly url: string;
  /** Lowercase hex. */
  readonly sha256: string;
  readonly dest: string;
  /** Models are large: whisper's large-v3 is ~3 GiB. */
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
  readonly onProgress?: (received: number, total: number | undefined) => void;
}

const DEFAULT_MAX = 8 * 1024 ** 3;

export function tempNameFor(dest: string): string {
  return join(dirname(dest), `.${basename(dest)}.vm-tmp-${randomBytes(6).toString('hex')}`);
}

export async function downloadVerified(req: VerifiedDownload): Promise<void> {
  const { downloadToFile } = await import('../platform/release/download.js');
  await mkdir(dirname(req.dest), { recursive: true, mode: 0o700 });
  const tmp = tempNameFor(req.dest);
  try {
    const got = await downloadToFile(req.url, tmp, {
      maxBytes: req.maxBytes ?? DEFAULT_MAX,
      ...(req.timeoutMs === undefined ? {} : { timeoutMs: req.timeoutMs }),
      ...(req.onProgress === undefined ? {} : { onProgress: req.onProgress }),
    });
    if (got.sha256 !== req.sha256.toLowerCase()) {
      throw new UserError('CHECKSUM_MISMATCH', `${basename(req.dest)} from ${new URL(req.url).origin}: sha256 ${got.sha256} does not match the declared ${req.sha256}; nothing was installed`);
    }
    await rename(tmp, req.dest);
  } finally {
    await rm(tmp, { force: true });
  }
}
