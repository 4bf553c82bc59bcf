// What each livekit-server binary answered to `--version`, remembered per file. Running the
// binary is the slowest probe of `vm plan` (a Go program of ~40 MB starting up, on top of a
// fork of node that blocks the main thread), and its answer cannot change while the file does
// not: same path, inode, size and mtime (a switched symlink changes the mtime vm sees, see
// Host.stat). apply writes the record after it has seen the machine converge; plan only reads
// it, and runs the binary when the record is missing or names another file.

import type { BinaryState, FileState } from '../../model.js';
import { isSystemError } from '../../errors.js';
import type { Host } from '../../platform/host.js';

export interface RecordedVersion {
  readonly identity: string;
  readonly version: string;
}

/** The record as a map from binary path; anything unreadable is an empty record (it is a cache). */
export function parseVersionRecord(f: FileState): ReadonlyMap<string, RecordedVersion> {
  if (!f.exists) return new Map();
  try {
    const j = JSON.parse(f.content) as { format?: unknown; binaries?: Record<string, { identity?: unknown; version?: unknown }> };
    if (j.format !== 1 || typeof j.binaries !== 'object' || j.binaries === null) return new Map();
    const out = new Map<string, RecordedVersion>();
    for (const [path, v] of Object.entries(j.binaries)) {
      if (typeof v?.identity === 'string' && typeof v.version === 'string' && /^\d+\.\d+\.\d+$/.test(v.version)) out.set(path, { identity: v.identity, version: v.version });
    }
    return out;
  } catch {
    return new Map();
  }
}

/** A file's identity as the record keeps it. */
export function fileIdentity(st: { readonly ino: number; readonly size: number; readonly mtimeMs: number }): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

/**
 * Records what `binary` answered, when the record does not say so already. A failure to write
 * is not an error of apply: the record only saves the next plan a run of the binary.
 */
export async function recordVersion(host: Host, recordPath: string, binary: BinaryState | undefined): Promise<void> {
  if (binary?.kind !== 'present' || binary.identity === undefined) return;
  const record = parseVersionRecord(await host.readFile(recordPath));
  const known = record.get(binary.path);
  if (known?.identity === binary.identity && known.version === binary.version) return;
  const binaries = Object.fromEntries([...record, [binary.path, { identity: binary.identity, version: binary.version }]]);
  try {
    await host.writeFileAtomic(recordPath, `${JSON.stringify({ format: 1, binaries }, null, 2)}\n`, 0o600, 0o700);
  } catch (e) {
    if (!isSystemError(e)) throw e;
  }
}
