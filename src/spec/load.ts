// The spec pipeline: discover → read → decode → parse → validate (schema, then rules) →
// normalise. Problems are collected as data and thrown once, all together, as a SpecError.

import { open } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';
import { SpecError, UserError } from '../errors.js';
import type { DesiredState, SpecSource } from '../model.js';
import { defaultDesired } from './default.js';
import { discoverSpec } from './discover.js';
import { normalise } from './normalise.js';
import type { Env, WrittenSpec } from './normalise.js';
import { MAX_SPEC_BYTES, decodeSpec, parseSpec, sizeProblem } from './parse.js';
import { checkRules } from './rules.js';
import { mergeProblems, validateSchema } from './validate.js';

export interface LoadOptions {
  /** -f/--file, if given. */
  readonly file?: string;
  readonly cwd: string;
  readonly env: Env;
}

/**
 * The desired state for this run. No file found → the built-in default (source `default`).
 * Throws SpecError listing every problem, or UserError('SPEC_UNREADABLE') when the file
 * cannot be read.
 */
export async function loadDesired(opts: LoadOptions): Promise<DesiredState> {
  const source = await discoverSpec(opts);
  if (source.kind === 'default') return defaultDesired();
  const { bytes, size } = await readCapped(source.path);
  const file = displayPath(source.path, opts.cwd);
  if (size > MAX_SPEC_BYTES) throw new SpecError([sizeProblem(file, size)]);
  const text = decodeSpec(bytes, file);
  if (typeof text !== 'string') throw new SpecError([text]);
  return validateText(text, file, opts.env, source);
}

/**
 * Validates and normalises file content. `file` names it in problems. Throws SpecError with
 * every problem found. Used by loadDesired, `vm validate` and tests.
 */
export function validateText(text: string, file: string, env: Env, source?: SpecSource): DesiredState {
  const parsed = parseSpec(text, file);
  if (!parsed.ok) throw new SpecError(parsed.problems);
  const problems = mergeProblems(validateSchema(parsed.spec), checkRules(parsed.spec, env));
  if (problems.length > 0) throw new SpecError(problems);
  return normalise(parsed.spec.data as WrittenSpec, source ?? { kind: 'file', path: file, via: 'flag' }, env);
}

/** Relative to cwd when the file is inside it (short, and what the user typed); else absolute. */
function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Reads at most MAX_SPEC_BYTES + 1 bytes, so a huge file is refused without being read whole.
 * `size` is the larger of the stat size and what was read (a special file may report 0).
 */
async function readCapped(path: string): Promise<{ bytes: Uint8Array; size: number }> {
  try {
    const fh = await open(path, 'r');
    try {
      const info = await fh.stat();
      if (!info.isFile()) throw new UserError('SPEC_UNREADABLE', `${path}: is not a regular file`);
      const buf = Buffer.alloc(MAX_SPEC_BYTES + 1);
      let total = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, total, buf.length - total, total);
        total += bytesRead;
        if (bytesRead === 0 || total === buf.length) break;
      }
      return { bytes: buf.subarray(0, total), size: Math.max(info.size, total) };
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new UserError('SPEC_UNREADABLE', `${path}: cannot read it (${err.code ?? err.message})`);
  }
}
