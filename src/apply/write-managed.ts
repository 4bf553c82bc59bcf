// Writes a managed file: keep what is there as NAME.vm-backup-TIMESTAMP when asked (a hand edit
// or --force), note the new content's digest in vm's record, then write atomically.
//
// The record comes first: were vm killed after the write but before the record, the file would
// hold vm's content with no record of it, and the next change would take it for a hand edit (a
// needless backup, a wrong reason). Killed after the record but before the write, the file still
// holds the content vm wrote before, whose digest the record keeps as `previous`.

import type { Effect } from '../model.js';
import type { Host } from '../platform/host.js';

type WriteFile = Extract<Effect, { kind: 'write-file' }>;

const PRIVATE = 0o600;
const PRIVATE_DIR = 0o700;

export async function writeManaged(host: Host, e: WriteFile): Promise<void> {
  if (e.backup === true) {
    const old = await host.readFile(e.path);
    // The backup keeps the old file's mode: a key file's backup stays 0600.
    if (old.exists) await host.writeFileAtomic(backupPath(e.path, host.now()), old.content, old.mode, e.dirMode);
  }
  if (e.record !== undefined) await noteWritten(host, e.record.stateFile, e.record.salt, e.path, e.record.digest);
  await host.writeFileAtomic(e.path, e.content, e.mode, e.dirMode);
}

export function backupPath(path: string, nowMs: number): string {
  // 2026-11-21T20:14:32.123Z → 20261121T201432.123Z: sortable, no colons (awkward in file names).
  return `${path}.vm-backup-${new Date(nowMs).toISOString().replace(/[-:]/g, '')}`;
}

/** Notes `digest` as what vm last wrote to `path` (a file, or a fragment's key); undefined forgets it. */
export async function noteWritten(host: Host, stateFile: string, salt: string, path: string, digest: string | undefined): Promise<void> {
  const cur = await host.readFile(stateFile);
  let files: Record<string, string> = {};
  let previous: Record<string, string> = {};
  if (cur.exists) {
    try {
      const j = JSON.parse(cur.content) as { salt?: unknown; files?: Record<string, string>; previous?: Record<string, string> };
      // Digests made with another salt mean nothing: start over with this one.
      if (j.salt === salt && typeof j.files === 'object' && j.files !== null) {
        files = { ...j.files };
        if (typeof j.previous === 'object' && j.previous !== null) previous = { ...j.previous };
      }
    } catch {
      files = {};
    }
  }
  const last = files[path];
  if (digest === undefined) {
    delete files[path];
    delete previous[path];
  } else {
    if (last !== undefined && last !== digest) previous[path] = last;
    files[path] = digest;
  }
  await host.writeFileAtomic(stateFile, `${JSON.stringify({ salt, files, previous }, null, 2)}\n`, PRIVATE, PRIVATE_DIR);
}
