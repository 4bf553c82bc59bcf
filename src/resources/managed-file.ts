// A managed file: a file vm renders and owns (a config, a key file, a unit or plist). Planning
// its write is the same for every kind: compare with what is there, keep a hand edit or a file vm
// never wrote (--force) as NAME.vm-backup-TIMESTAMP, show a diff (secrets redacted by the
// caller), and note the new content's digest in vm's record just before writing. Pure.

import { basename } from 'node:path';
import type { Effect, FileState, ResourceKind, ServiceName, Step, WrittenRecord } from '../model.js';
import type { ServicePlan } from '../services/contract.js';
import { ownership } from './ownership.js';

/** Secrets live in these files and their directories: owner only. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;
export const DEFINITION_FILE_MODE = 0o644;
export const DEFINITION_DIR_MODE = 0o755;

export interface ManagedFile {
  readonly path: string;
  readonly observed: FileState;
  readonly content: string;
  readonly mode: number;
  readonly dirMode: number;
  /** What the user is shown instead of the content, when it holds secrets. */
  readonly shown?: { readonly before: string | undefined; readonly after: string };
}

/** vm's record of its writes, and the salt its digests use this run. */
export interface Ownership {
  readonly written: WrittenRecord;
  readonly salt: string;
  readonly stateFile: string;
  readonly hmac: (salt: string, data: string) => string;
  readonly force: boolean;
}

/** Why `observed` differs from `want` (content or mode), or undefined when it matches. */
export function fileProblem(observed: FileState, want: string, mode: number, describe: (before: string) => string): string | undefined {
  if (!observed.exists) return 'missing';
  if (observed.content !== want) return describe(observed.content);
  if (observed.mode !== mode) return `mode ${octal(observed.mode)} → ${octal(mode)}`;
  return undefined;
}

/** Plans a managed file's write into `out`, or a blocker when the file there is not vm's to overwrite. */
export function planWrite(out: ServicePlan, service: ServiceName, resource: ResourceKind, why: string, f: ManagedFile, own: Ownership): void {
  const digest = (content: string) => own.hmac(own.salt, content);
  const whose = f.observed.exists && f.observed.content !== f.content ? ownership(f.path, f.observed, own.written, digest) : 'ours';
  if (whose === 'foreign' && !own.force) {
    out.blockers.push(`${f.path} exists and was not written by vm: vm does not overwrite it without --force (which keeps it as ${basename(f.path)}.vm-backup-TIMESTAMP)`);
    return;
  }
  const keep = whose === 'hand-edited' || whose === 'foreign';
  const kept = keep ? `; ${whose === 'foreign' ? 'not written by vm (--force)' : 'edited by hand'}: the current file is kept as ${basename(f.path)}.vm-backup-TIMESTAMP` : '';
  const effect: Effect = {
    kind: 'write-file',
    path: f.path,
    content: f.content,
    mode: f.mode,
    dirMode: f.dirMode,
    ...(keep ? { backup: true } : {}),
    record: { stateFile: own.stateFile, salt: own.salt, digest: digest(f.content) },
  };
  const step: Step = {
    service,
    resource,
    action: f.observed.exists ? 'update' : 'create',
    reason: `${f.path}: ${why}${kept}`,
    effect,
    change: { path: f.path, ...(f.shown ?? { before: f.observed.exists ? f.observed.content : undefined, after: f.content }) },
  };
  out.steps.push(step);
}

export function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
