// Writes one managed fragment (src/resources/managed-fragment.ts). The file is read again here,
// at apply time, and only the fragment is replaced: a line the user added outside it between
// `vm plan` and `vm apply` is kept. Backup (of the whole file) and record come first, as for a
// managed file (write-managed.ts). An existing directory keeps its mode unless the fragment's
// file needs a private one (lk's ~/.livekit, 0700): an env file may sit in a directory of yours.

import { dirname } from 'node:path';
import { UserError } from '../errors.js';
import type { Effect } from '../model.js';
import type { Host } from '../platform/host.js';
import { applyFragmentEdit } from '../resources/managed-fragment.js';
import { backupPath, noteWritten } from './write-managed.js';

type WriteFragment = Extract<Effect, { kind: 'write-fragment' }>;

export async function writeFragment(host: Host, e: WriteFragment): Promise<void> {
  const cur = await host.readFile(e.path);
  let next: string;
  try {
    next = applyFragmentEdit(cur.exists ? cur.content : undefined, e.edit);
  } catch (err) {
    throw new UserError('STEP_FAILED', `${e.path} changed since the plan and vm cannot edit it safely now: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (e.backup === true && cur.exists) await host.writeFileAtomic(backupPath(e.path, host.now()), cur.content, cur.mode, e.dirMode);
  await noteWritten(host, e.record.stateFile, e.record.salt, e.record.key, e.record.digest);
  if (!cur.exists && e.edit.value === undefined) return;
  const dir = await host.stat(dirname(e.path));
  const dirMode = e.tightenDir || dir === undefined ? e.dirMode : dir.mode & 0o777;
  if (cur.exists && next === cur.content && cur.mode === e.mode && dirMode === dir?.mode) return;
  await host.writeFileAtomic(e.path, next, e.mode, dirMode);
}
