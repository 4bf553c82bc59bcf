// Secrets by reference. A secret (a LiveKit key's, a Redis password, …: each kind says where its
// entry holds them, ServiceKind.secrets) is inline text, `{ env: NAME }` (read from the
// environment each time vm runs: plan and apply both load the file) or `{ file: PATH }` (read
// from a file only its owner can read), so a checked-in services file need not hold it.
//
// Resolution is plain code over a SecretSource (the environment and a file reader); the one
// reader that touches the disk is readSecretFileSync at the bottom. Problems are located at the
// key's value (the `{ env: ... }` node) and never contain a secret, only names and paths.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { SpecProblem } from '../model.js';
import { valueAt } from './messages.js';
import { expandHome, homeDir, writtenServices } from './normalise.js';
import type { Env } from './normalise.js';
import { locate } from './parse.js';
import type { ParsedSpec } from './parse.js';

/** A secret file holds one line; anything bigger is the wrong file. */
export const MAX_SECRET_FILE_BYTES = 4096;
/** Group and other permission bits: a secret file must have none (like ssh's private keys). */
const NOT_PRIVATE = 0o077;

export type SecretRef =
  | { readonly kind: 'inline'; readonly value: string }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string };

/** What reading a secret file found. `mode` is the permission bits (e.g. 0o600). */
export type SecretFileRead =
  | { readonly kind: 'ok'; readonly bytes: Uint8Array; readonly mode: number }
  | { readonly kind: 'missing' }
  | { readonly kind: 'directory' }
  | { readonly kind: 'not-regular' }
  | { readonly kind: 'too-large'; readonly size: number }
  | { readonly kind: 'denied' }
  | { readonly kind: 'error'; readonly code: string };

export interface SecretSource {
  readonly env: Env;
  readFile(path: string): SecretFileRead;
}

export type Resolved = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly message: string };

/** The reference a written secret makes, or undefined when it has none of the three forms. */
export function secretRef(v: unknown): SecretRef | undefined {
  if (typeof v === 'string') return { kind: 'inline', value: v };
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const entries = Object.entries(v);
  if (entries.length !== 1) return undefined;
  const [kind, value] = entries[0] as [string, unknown];
  if (typeof value !== 'string') return undefined;
  if (kind === 'env') return { kind: 'env', name: value };
  if (kind === 'file') return { kind: 'file', path: value };
  return undefined;
}

/** One line of text, as an inline secret must be (the schema's pattern for keys). */
function oneLine(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f]/.test(s);
}

/** The secret a reference stands for, or why it cannot be had. `who`: `the secret of key "x"`. */
export function resolveSecret(ref: SecretRef, who: string, src: SecretSource): Resolved {
  switch (ref.kind) {
    case 'inline':
      return { ok: true, value: ref.value };
    case 'env': {
      const value = src.env[ref.name];
      const from = `${who} comes from the environment variable ${ref.name}`;
      if (value === undefined) return { ok: false, message: `${from}, which is not set; set it where vm runs (plan and apply read it each time)` };
      if (value === '') return { ok: false, message: `${from}, which is empty` };
      if (!oneLine(value)) return { ok: false, message: `${from}, which holds a newline or control character; a secret is one line of text` };
      return { ok: true, value };
    }
    case 'file':
      return resolveFile(ref.path, who, src);
  }
}

function resolveFile(written: string, who: string, src: SecretSource): Resolved {
  if (written.startsWith('~/') && homeDir(src.env) === undefined) {
    return { ok: false, message: `${who} comes from ${written}, but HOME is not set to an absolute path; write the full path` };
  }
  const path = expandHome(written, src.env);
  const from = `${who} comes from ${path}`;
  const read = src.readFile(path);
  switch (read.kind) {
    case 'missing':
      return { ok: false, message: `${from}, which does not exist; write the secret into it (one line) and run \`chmod 600 ${path}\`` };
    case 'directory':
      return { ok: false, message: `${from}, which is a directory, not a file` };
    case 'not-regular':
      return { ok: false, message: `${from}, which is not a regular file` };
    case 'too-large':
      return { ok: false, message: `${from}, which is ${read.size} bytes; a secret file holds one line (at most ${MAX_SECRET_FILE_BYTES} bytes)` };
    case 'denied':
      return { ok: false, message: `${from}, which vm may not read (permission denied); check its owner and mode` };
    case 'error':
      return { ok: false, message: `${from}, which cannot be read (${read.code})` };
    case 'ok':
      break;
  }
  if ((read.mode & NOT_PRIVATE) !== 0) {
    const mode = (read.mode & 0o777).toString(8).padStart(4, '0');
    return { ok: false, message: `${from}, which group or others may access (mode ${mode}); run \`chmod 600 ${path}\`` };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(read.bytes);
  } catch {
    return { ok: false, message: `${from}, which is not UTF-8 text` };
  }
  // `echo secret > file` and editors end the line: one trailing newline is not part of it.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') return { ok: false, message: `${from}, which is empty` };
  if (!oneLine(value)) return { ok: false, message: `${from}, which holds more than one line or a control character; a secret is one line of text` };
  return { ok: true, value };
}

/** One place an entry holds a secret, as its kind names it (ServiceKind.secrets). */
export interface SecretPlace {
  /** Its JSON pointer: `/services/livekit/keys/devkey`. */
  readonly pointer: string;
  /** How messages name it: `the secret of key "devkey"`, `the Redis password`. */
  readonly who: string;
  /**
   * Only what hands it to a client needs it (vm env, exec, token, rooms, status): not having it
   * is no problem with the file, so plan and apply go on without it (LiveKit's fallback secret).
   */
  readonly lazy?: boolean;
}

/** Every place the file writes a secret, each service's kind saying where (in file order). */
function secretPlaces(data: unknown): SecretPlace[] {
  return writtenServices(data).flatMap(({ at, entry, kind }) => kind?.secrets?.(entry, at) ?? []);
}

export interface ResolvedSecrets {
  /** Every secret that could be had (inline ones too), by JSON pointer. */
  readonly byPointer: ReadonlyMap<string, string>;
  /** The lazy ones: each its value, or why it cannot be had (never the value in that). */
  readonly lazy: ReadonlyMap<string, Resolved>;
  readonly problems: SpecProblem[];
  /** The environment variables the secrets are read from (not the lazy ones), each once, in file order. */
  readonly envNames: readonly string[];
}

/**
 * Resolves every well-formed secret the file writes. A place whose value the schema already
 * reported (`schemaProblems`) is skipped: one problem per place is enough.
 */
export function resolveSecrets(spec: ParsedSpec, schemaProblems: readonly SpecProblem[], src: SecretSource): ResolvedSecrets {
  const byPointer = new Map<string, string>();
  const lazy = new Map<string, Resolved>();
  const problems: SpecProblem[] = [];
  const envNames = new Set<string>();
  for (const { pointer, who, lazy: isLazy } of secretPlaces(spec.data)) {
    const ref = secretRef(valueAt(spec.data, pointer));
    if (ref?.kind === 'env' && isLazy !== true) envNames.add(ref.name);
    if (ref === undefined || schemaProblems.some((p) => p.pointer === pointer || p.pointer.startsWith(`${pointer}/`))) continue;
    const r = resolveSecret(ref, who, src);
    if (isLazy === true) {
      // "plan and apply read it each time" is about the other secrets; this one is read only when used.
      lazy.set(pointer, r.ok ? r : { ok: false, message: r.message.replace(/; set it where vm runs \(plan and apply read it each time\)$/, '; set it where vm runs') });
    } else if (r.ok) {
      byPointer.set(pointer, r.value);
    } else {
      const { line, column } = locate(spec, pointer, 'value');
      problems.push({ file: spec.file, line, column, pointer, message: r.message });
    }
  }
  return { byPointer, lazy, problems, envNames: [...envNames] };
}



/**
 * Reads a secret file: follows symlinks (dotfiles link them), never blocks on a FIFO, never
 * reads more than MAX_SECRET_FILE_BYTES + 1 bytes. The mode comes from the file opened, so it
 * is the mode of what was read.
 */
export function readSecretFileSync(path: string): SecretFileRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    return openFailure((e as NodeJS.ErrnoException).code ?? 'EIO');
  }
  try {
    const info = fstatSync(fd);
    if (info.isDirectory()) return { kind: 'directory' };
    if (!info.isFile()) return { kind: 'not-regular' };
    if (info.size > MAX_SECRET_FILE_BYTES) return { kind: 'too-large', size: info.size };
    const buf = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    let total = 0;
    for (;;) {
      const n = readSync(fd, buf, total, buf.length - total, total);
      total += n;
      if (n === 0 || total === buf.length) break;
    }
    if (total > MAX_SECRET_FILE_BYTES) return { kind: 'too-large', size: Math.max(info.size, total) };
    return { kind: 'ok', bytes: buf.subarray(0, total), mode: info.mode & 0o7777 };
  } catch (e) {
    return openFailure((e as NodeJS.ErrnoException).code ?? 'EIO');
  } finally {
    closeSync(fd);
  }
}

function openFailure(code: string): SecretFileRead {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { kind: 'missing' };
    case 'EISDIR':
      return { kind: 'directory' };
    case 'EACCES':
    case 'EPERM':
      return { kind: 'denied' };
    default:
      return { kind: 'error', code };
  }
}
