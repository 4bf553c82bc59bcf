// Whose is a file at a managed path? Pure. vm overwrites its own files; a hand edit of one is
// kept as a backup first; a file vm never wrote is not touched without --force.

import type { FileState, WrittenRecord } from '../model.js';

/** Every file vm renders carries this line, so vm knows its files even without a record. */
export const MANAGED_MARK = 'Managed by vm (Voice Mode)';

export type Ownership = 'absent' | 'ours' | 'hand-edited' | 'foreign';

export function ownership(path: string, observed: FileState, record: WrittenRecord, digest: (content: string) => string): Ownership {
  if (!observed.exists) return 'absent';
  const last = record.files[path];
  if (record.salt !== undefined && (last !== undefined || record.previous?.[path] !== undefined)) {
    // `previous`: vm died between noting a write and making it, so the file is vm's older content.
    const d = digest(observed.content);
    if (d === last || d === record.previous?.[path]) return 'ours';
  }
  return last !== undefined || observed.content.includes(MANAGED_MARK) ? 'hand-edited' : 'foreign';
}

export function parseRecord(file: FileState): WrittenRecord {
  if (!file.exists) return { salt: undefined, files: {} };
  try {
    const j = JSON.parse(file.content) as { salt?: unknown; files?: unknown; previous?: unknown };
    const strings = (m: unknown): Record<string, string> =>
      typeof m === 'object' && m !== null ? Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
    return { salt: typeof j.salt === 'string' ? j.salt : undefined, files: strings(j.files), previous: strings(j.previous) };
  } catch {
    // A damaged record only costs backups: every managed file then counts as edited by hand.
    return { salt: undefined, files: {} };
  }
}
