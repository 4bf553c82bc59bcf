// A managed fragment: one block or entry vm owns in a file the user also edits (a marked block in
// a dotenv file, a project in lk's YAML config). Like a managed file (managed-file.ts) it is
// compared with what is there, shown as a diff with secrets redacted, kept as a backup of the
// whole file when edited by hand, and noted in vm's record; unlike one, apply re-reads the file
// and changes only the fragment, so whatever the user changed elsewhere is never lost.
//
// vm's record (written.json) names each fragment it wrote by path and locator, so a fragment the
// file no longer asks for (clients.env_file removed, the service absent) can still be found and
// removed. Pure, except observeFragmentFiles.

import { basename, dirname } from 'node:path';
import { stringify } from 'yaml';
import type { FileState, FragmentEdit, FragmentLocator, Step, WrittenRecord } from '../model.js';
import type { Host } from '../platform/host.js';
import type { ServicePlan } from '../services/contract.js';
import { findBlock, redactBlock, setBlock } from './marked-block.js';
import { octal, type Ownership } from './managed-file.js';
import { findEntry, setEntry, type EntryRef } from './yaml-entry.js';

/** What a kind wants in one client file. */
export interface FragmentWant {
  readonly path: string;
  readonly edit: FragmentEdit & { readonly value: NonNullable<FragmentEdit['value']> };
  readonly mode: number;
  /** Mode of the directory when vm creates it; `tightenDir` also fixes an existing one (lk's 0700). */
  readonly dirMode: number;
  readonly tightenDir: boolean;
  /** The fields or variables shown as they are; all others are `(sensitive)`. */
  readonly plain: ReadonlySet<string>;
}

/** The files client fragments live in, as observed; and vm's record. */
export interface FragmentFiles {
  readonly written: WrittenRecord;
  readonly files: Readonly<Record<string, { readonly file: FileState; readonly dirMode: number | undefined }>>;
}

const KEY_MARK = '#vm-fragment:';

/** How vm's record names a fragment: beside the files it records, never taken for one. */
export function fragmentKey(path: string, at: FragmentLocator): string {
  return `${path}${KEY_MARK}${JSON.stringify(at)}`;
}

export function recordedFragments(record: WrittenRecord): Array<{ key: string; path: string; at: FragmentLocator }> {
  const out: Array<{ key: string; path: string; at: FragmentLocator }> = [];
  for (const key of Object.keys(record.files)) {
    const i = key.lastIndexOf(KEY_MARK);
    if (i <= 0) continue;
    try {
      const at = JSON.parse(key.slice(i + KEY_MARK.length)) as FragmentLocator;
      if (at.format === 'marked-block' || at.format === 'yaml-entry') out.push({ key, path: key.slice(0, i), at });
    } catch {
      // Not one of vm's fragment keys: ignore it.
    }
  }
  return out;
}

export async function observeFragmentFiles(host: Host, written: WrittenRecord, paths: readonly string[]): Promise<FragmentFiles> {
  const all = [...new Set([...paths, ...recordedFragments(written).map((f) => f.path)])];
  const seen = await Promise.all(all.map(async (p) => [p, { file: await host.readFile(p), dirMode: (await host.stat(dirname(p)))?.mode }] as const));
  return { written, files: Object.fromEntries(seen) };
}

export function locatorOf(edit: FragmentEdit): FragmentLocator {
  const { value: _value, ...at } = edit;
  return at as FragmentLocator;
}

const refOf = (at: Extract<FragmentLocator, { format: 'yaml-entry' }>): EntryRef => ({
  list: at.list,
  nameKey: at.nameKey,
  name: at.name,
  ...(at.defaultKey === undefined ? {} : { defaultKey: at.defaultKey }),
});

/** The file's text with the fragment set (or removed). Throws on a file vm cannot edit safely. */
export function applyFragmentEdit(text: string | undefined, edit: FragmentEdit): string {
  switch (edit.format) {
    case 'marked-block':
      return setBlock(text, edit.name, edit.value);
    case 'yaml-entry':
      return setEntry(text, refOf(edit), edit.value === undefined ? undefined : pick(edit.value, edit.fields.filter((f) => f !== edit.nameKey)));
  }
}

/** What people call the fragment: `block "vm: livekit"`, `project "voicemode"`. */
export function describeFragment(at: FragmentLocator): string {
  return at.format === 'marked-block' ? `block "vm: ${at.name}"` : `${at.list.replace(/s$/, '')} "${at.name}"`;
}

type Found =
  | { readonly kind: 'none' }
  | { readonly kind: 'invalid'; readonly why: string }
  /** `canonical`: what its digest is made of; `values`: its variables or fields, for reasons. */
  | { readonly kind: 'found'; readonly canonical: string; readonly values: Readonly<Record<string, string>>; readonly shown: (plain: ReadonlySet<string>) => string };

function find(file: FileState, at: FragmentLocator): Found {
  const text = file.exists ? file.content : undefined;
  if (at.format === 'marked-block') {
    const b = findBlock(text ?? '', at.name);
    if (b.kind === 'none') return b;
    if (b.kind === 'unterminated') return { kind: 'invalid', why: `line ${b.line} opens ${describeFragment(at)} but nothing closes it` };
    return { kind: 'found', canonical: b.text, values: blockValues(b.text), shown: (plain) => redactBlock(b.text, plain) };
  }
  const e = findEntry(text, refOf(at));
  if (e.kind !== 'found') return e;
  const fields = pick(e.fields, at.fields);
  return { kind: 'found', canonical: canonicalEntry(fields, at.fields), values: fields, shown: (plain) => showEntry(at, fields, plain) };
}

function wantedOf(edit: FragmentWant['edit']): { canonical: string; values: Readonly<Record<string, string>>; shown: (plain: ReadonlySet<string>) => string } {
  if (edit.format === 'marked-block') {
    const v = edit.value as string;
    return { canonical: v, values: blockValues(v), shown: (plain) => redactBlock(v, plain) };
  }
  const fields = { [edit.nameKey]: edit.name, ...pick(edit.value as Record<string, string>, edit.fields) };
  return { canonical: canonicalEntry(fields, edit.fields), values: fields, shown: (plain) => showEntry(edit, fields, plain) };
}

const pick = (r: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string> =>
  Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k] as string]));

const canonicalEntry = (fields: Readonly<Record<string, string>>, keys: readonly string[]): string => JSON.stringify(keys.map((k) => fields[k] ?? null));

function showEntry(at: Extract<FragmentLocator, { format: 'yaml-entry' }>, fields: Readonly<Record<string, string>>, plain: ReadonlySet<string>): string {
  const shown = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, k === at.nameKey || plain.has(k) ? v : '(sensitive)']));
  return stringify({ [at.list]: [shown] }, { lineWidth: 0 });
}

/** KEY=VALUE lines of a block, one layer of quotes stripped (as Voice Mode reads them). */
function blockValues(block: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of block.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(line);
    if (m?.[1] === undefined) continue;
    const v = (m[2] ?? '').trim();
    out[m[1]] = v.length >= 2 && (v[0] === "'" || v[0] === '"') && v.endsWith(v[0]) ? v.slice(1, -1) : v;
  }
  return out;
}

function describeValues(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>, plain: ReadonlySet<string>): string {
  const out: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    const was = before[k];
    if (was === undefined) out.push(`${k} added`);
    else if (was !== v) out.push(plain.has(k) ? `${k} ${was} → ${v}` : `${k}: (sensitive) changed`);
  }
  for (const k of Object.keys(before)) if (!(k in after)) out.push(`${k} removed`);
  return out.length === 0 ? 'comments or formatting changed' : out.join(', ');
}

export interface FragmentPlanInput {
  readonly service: string;
  readonly path: string;
  readonly at: FragmentLocator;
  readonly observed: { readonly file: FileState; readonly dirMode: number | undefined };
  /** What it should hold; undefined: remove it (`why` says why). */
  readonly want: FragmentWant | undefined;
  readonly why?: string;
  readonly own: Ownership;
}

/** Plans one fragment's write or removal into `out` (nothing when it already matches). */
export function planFragment(out: ServicePlan, p: FragmentPlanInput): void {
  const { file } = p.observed;
  const key = fragmentKey(p.path, p.at);
  const what = describeFragment(p.at);
  const cur = find(file, p.at);
  if (cur.kind === 'invalid') {
    out.blockers.push(`${p.path}: ${cur.why}; vm changes only its ${what} there and will not guess: fix the file by hand`);
    return;
  }
  const digest = (s: string) => p.own.hmac(p.own.salt, s);
  const w = p.own.written;
  const last = w.salt === undefined ? undefined : w.files[key];
  const mine = (c: string) => last !== undefined && (digest(c) === last || digest(c) === w.previous?.[key]);
  // The markers say a block is vm's; a project entry is vm's only when the record says so.
  const whose = cur.kind !== 'found' ? 'absent' : mine(cur.canonical) ? 'ours' : last !== undefined || p.at.format === 'marked-block' ? 'hand-edited' : 'foreign';
  const base = { kind: 'write-fragment', path: p.path, tightenDir: false } as const;

  if (p.want === undefined) {
    if (cur.kind !== 'found' || whose === 'foreign') return; // nothing of vm's is there
    const kept = whose === 'hand-edited' ? `; edited by hand: the file is kept as ${basename(p.path)}.vm-backup-TIMESTAMP` : '';
    const step: Step = {
      service: p.service,
      resource: 'client',
      action: 'remove',
      reason: `${p.path}: ${what}: ${p.why ?? 'no longer wanted'}${kept}`,
      change: { path: p.path, before: cur.shown(new Set()), after: '' },
      effect: {
        ...base,
        edit: { ...p.at, value: undefined } as FragmentEdit,
        mode: file.exists ? file.mode : 0o600,
        dirMode: p.observed.dirMode ?? 0o700,
        ...(whose === 'hand-edited' ? { backup: true } : {}),
        record: { stateFile: p.own.stateFile, salt: p.own.salt, key, digest: undefined },
      },
    };
    out.steps.push(step);
    return;
  }

  const want = wantedOf(p.want.edit);
  const problems: string[] = [];
  if (!file.exists) problems.push('missing');
  else if (cur.kind !== 'found') problems.push(`${what} missing`);
  else if (cur.canonical !== want.canonical) problems.push(`${what}: ${describeValues(cur.values, want.values, p.want.plain)}`);
  if (file.exists && file.mode !== p.want.mode) problems.push(`mode ${octal(file.mode)} → ${octal(p.want.mode)}`);
  if (p.want.tightenDir && p.observed.dirMode !== undefined && p.observed.dirMode !== p.want.dirMode) problems.push(`directory mode ${octal(p.observed.dirMode)} → ${octal(p.want.dirMode)}`);
  if (problems.length === 0) return;
  const rewrites = cur.kind === 'found' && cur.canonical !== want.canonical;
  if (rewrites && whose === 'foreign' && !p.own.force) {
    out.blockers.push(`${p.path}: a ${what} is there that vm did not write: vm does not overwrite it without --force (which keeps the file as ${basename(p.path)}.vm-backup-TIMESTAMP)`);
    return;
  }
  const backup = rewrites && (whose === 'hand-edited' || whose === 'foreign');
  const kept = backup ? `; ${whose === 'foreign' ? 'not written by vm (--force)' : 'edited by hand'}: the file is kept as ${basename(p.path)}.vm-backup-TIMESTAMP` : '';
  out.steps.push({
    service: p.service,
    resource: 'client',
    action: file.exists ? 'update' : 'create',
    reason: `${p.path}: ${problems.join(', ')}${kept}`,
    change: { path: p.path, before: cur.kind === 'found' ? cur.shown(p.want.plain) : file.exists ? '' : undefined, after: want.shown(p.want.plain) },
    effect: {
      ...base,
      edit: p.want.edit,
      mode: p.want.mode,
      dirMode: p.want.dirMode,
      tightenDir: p.want.tightenDir,
      ...(backup ? { backup: true } : {}),
      record: { stateFile: p.own.stateFile, salt: p.own.salt, key, digest: digest(want.canonical) },
    },
  });
}
