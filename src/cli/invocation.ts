// How to run this vm again, as the user would type it, for the hints vm prints ("run `vm plan`").
// `vm` only when the first `vm` on PATH is this very program: in a fresh clone vm is not on PATH,
// and `npx vm` outside the clone fetches an unrelated registry package of that name.

import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import type { CliIo } from './io.js';

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** The first executable `vm` on PATH, resolved through links; undefined when there is none. */
function vmOnPath(path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = join(dir, 'vm');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    return real(candidate);
  }
  return undefined;
}

const inside = (dir: string, path: string) => {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** A word for a POSIX shell: quoted only when it needs to be. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * `vm` when that is on PATH and is `script` (bin/vm.cjs of this installation); else `npx vm` when
 * `cwd` is inside this installation (npm runs the project's own bin there); else the script's
 * absolute path (it is executable).
 */
export function invocation(script: string, env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const self = real(script) ?? script;
  if (vmOnPath(env['PATH']) === self) return 'vm';
  const root = join(self, '..', '..');
  const here = real(cwd) ?? cwd;
  if (inside(root, here)) return 'npx vm';
  return shellWord(self);
}

/**
 * Rewrites a hint's "`vm " to "`<how> ". Only vm's own words go through it (notes, warnings,
 * summaries, error hints), never file content a plan shows or LiveKit's log lines. `how` is asked
 * once, and only when a hint is written: a converged `vm plan` prints none and searches no PATH.
 */
export function hinter(how: () => string): (text: string) => string {
  let cmd: string | undefined;
  return (text) => {
    if (!text.includes('`vm ')) return text;
    cmd ??= how();
    return cmd === 'vm' ? text : text.replaceAll('`vm ', `\`${cmd} `);
  };
}

/** `io`'s hint rewriter; text as it is when `io` has none (tests driving a command directly). */
export function hint(io: CliIo, text: string): string {
  return io.hint === undefined ? text : io.hint(text);
}
