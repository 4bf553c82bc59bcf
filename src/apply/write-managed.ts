// Writes a managed file: keep what is there as NAME.vm-backup-TIMESTAMP when asked (a hand edit
// or --force), write atomically, then note the new content's digest in vm's record.

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
  await host.writeFileAtomic(e.path, e.content, e.mode, e.dirMode);
  if (e.record !== undefined) await noteWritten(host, e.record.stateFile, e.record.salt, e.path, e.record.digest);
}

export function backupPath(path: string, nowMs: number): string {
  // 2026-11-21T20:14:32.123Z → 20261121T201432.123Z: sortable, no colons (awkward in file names).
  return `${path}.vm-backup-${new Date(nowMs).toISOString().replace(/[-:]/g, '')}`;
}

async function noteWritten(host: Host, stateFile: string, salt: string, path: string, digest: string): Promise<void> {
  const cur = await host.readFile(stateFile);
  let files: Record<string, string> = {};
  if (cur.exists) {
    try {
      const j = JSON.parse(cur.content) as { salt?: unknown; files?: Record<string, string> };
      // Digests made with another salt mean nothing: start over with this one.
      if (j.salt === salt && typeof j.files === 'object' && j.files !== null) files = { ...j.files };
    } catch {
      files = {};
    }
  }
  files[path] = digest;
  await host.writeFileAtomic(stateFile, `${JSON.stringify({ salt, files }, null, 2)}\n`, PRIVATE, PRIVATE_DIR);
}
