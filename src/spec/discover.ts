// Finds the desired-state file. First match wins:
//   1. -f/--file PATH            2. $VOICEMODE_SERVICES_FILE
//   3. voicemode.services.yaml|yml in cwd or any parent, up to /
//   4. $XDG_CONFIG_HOME/voicemode/services.yaml (XDG_CONFIG_HOME defaults to $HOME/.config)
//   5. none: the built-in default
// A path the user named (1, 2) that is missing is an error, never a fallback: silently
// managing the default instead of their file would be worse than stopping.

import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import type { SpecSource } from '../model.js';
import type { Env } from './normalise.js';

export const SEARCH_NAMES = ['voicemode.services.yaml', 'voicemode.services.yml'] as const;

export interface DiscoverOptions {
  /** From -f/--file; relative paths are taken from cwd. */
  readonly file?: string;
  readonly cwd: string;
  readonly env: Env;
}

type Via = 'flag' | 'env' | 'search' | 'xdg';

const ORIGIN: Readonly<Record<Via, string>> = {
  flag: 'given with --file',
  env: 'from VOICEMODE_SERVICES_FILE',
  search: 'found searching from the working directory',
  xdg: 'in the XDG config directory',
};

export async function discoverSpec(opts: DiscoverOptions): Promise<SpecSource> {
  if (opts.file !== undefined && opts.file !== '') return named(resolve(opts.cwd, opts.file), 'flag');
  const fromEnv = opts.env['VOICEMODE_SERVICES_FILE'];
  if (fromEnv !== undefined && fromEnv !== '') return named(resolve(opts.cwd, fromEnv), 'env');
  const found = await searchUpward(resolve(opts.cwd));
  if (found !== undefined) return { kind: 'file', path: found, via: 'search' };
  const xdg = xdgFile(opts.env);
  if (xdg !== undefined && (await kindOf(xdg)) !== 'missing') return named(xdg, 'xdg');
  return { kind: 'default' };
}

/** $XDG_CONFIG_HOME/voicemode/services.yaml; a relative XDG_CONFIG_HOME is ignored, as the spec says. */
export function xdgFile(env: Env): string | undefined {
  const xdg = env['XDG_CONFIG_HOME'];
  const home = env['HOME'];
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : home !== undefined && isAbsolute(home) ? join(home, '.config') : undefined;
  return base === undefined ? undefined : join(base, 'voicemode', 'services.yaml');
}

type Kind = 'file' | 'missing' | 'directory' | 'other' | 'unreadable';

async function kindOf(path: string): Promise<Kind> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) return 'directory';
    if (!s.isFile()) return 'other';
    await access(path, constants.R_OK);
    return 'file';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unreadable';
  }
}

/** A path vm was told (or expects) to read: it must be a readable regular file. */
async function named(path: string, via: Via): Promise<SpecSource> {
  const problem = describeKind(await kindOf(path));
  if (problem !== undefined) throw unreadable(path, via, problem);
  return { kind: 'file', path, via };
}

function describeKind(kind: Kind): string | undefined {
  switch (kind) {
    case 'file':
      return undefined;
    case 'missing':
      return 'no such file';
    case 'directory':
      return 'is a directory, not a file';
    case 'other':
      return 'is not a regular file';
    case 'unreadable':
      return 'cannot be read (permission denied?)';
  }
}

function unreadable(path: string, via: Via, problem: string): UserError {
  const hint = via === 'flag' || via === 'env' ? 'check the path; without --file and VOICEMODE_SERVICES_FILE, vm searches for voicemode.services.yaml' : undefined;
  return new UserError('SPEC_UNREADABLE', `${path}: ${problem} (${ORIGIN[via]})`, hint);
}

/**
 * The nearest voicemode.services.yaml/.yml from `cwd` up to /. cosmiconfig does the walk. It is
 * imported here, only when this step runs: loading it takes 10-25 ms, more than parsing and
 * validating the file. Its loaders return the raw text: we parse (with positions) ourselves,
 * and nothing is executed or parsed by cosmiconfig.
 */
async function searchUpward(cwd: string): Promise<string | undefined> {
  let hit: string | undefined;
  try {
    // `.default` is module.exports of this CommonJS package, both under Node and in an esbuild
    // bundle with code splitting, where the dynamic chunk only has a default export.
    const { cosmiconfig, defaultLoaders } = (await import('cosmiconfig')).default;
    const raw = (_path: string, content: string): string => content;
    // Every extension gets the raw loader: after /, cosmiconfig also looks in its own global
    // directory (~/.config/voicemode/config.*) and would otherwise import a config.js there.
    const loaders = Object.fromEntries([...Object.keys(defaultLoaders), 'noExt', 'default'].map((k) => [k, raw]));
    const explorer = fromRoot(() =>
      cosmiconfig('voicemode', {
        searchPlaces: [...SEARCH_NAMES],
        searchStrategy: 'global',
        stopDir: '/',
        cache: false,
        // An empty file is still the user's file (and an error to report), not a reason to go on.
        ignoreEmptySearchPlaces: false,
        loaders,
      }),
    );
    hit = (await explorer.search(cwd))?.filepath;
  } catch (e) {
    throw new UserError('SPEC_UNREADABLE', `searching for voicemode.services.yaml from ${cwd} failed: ${(e as Error).message}`);
  }
  // Only our names in cwd or its parents count; anything else is cosmiconfig's global directory.
  const dir = hit === undefined ? undefined : dirname(hit);
  const ours = hit !== undefined && dir !== undefined && (SEARCH_NAMES as readonly string[]).includes(basename(hit)) && isAncestor(dir, cwd);
  await checkPassedOver(cwd, ours ? dir : undefined);
  return ours ? hit : undefined;
}

/**
 * While it is constructed, cosmiconfig looks for a "meta config" in process.cwd() (package.json,
 * .config/config.{json,yaml,js,...}) with its default loaders, so a .config/config.js there is
 * imported, i.e. run (test: "never runs a .config/config.js"). vm must not run code from the
 * directory it is started in: the construction (synchronous) happens with cwd at /.
 */
function fromRoot<T>(construct: () => T): T {
  let previous: string | undefined;
  try {
    previous = process.cwd();
  } catch {
    previous = undefined; // the working directory was deleted; staying at / is harmless
  }
  process.chdir('/');
  try {
    return construct();
  } finally {
    if (previous !== undefined) process.chdir(previous);
  }
}

function isAncestor(dir: string, cwd: string): boolean {
  return cwd === dir || cwd.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/**
 * cosmiconfig skips a search place it cannot read (a directory by that name, no permission)
 * and goes on upward, which would quietly apply some other file or the default. Walk the same
 * directories and stop on such a place, or on a directory holding both .yaml and .yml.
 */
async function checkPassedOver(cwd: string, foundDir: string | undefined): Promise<void> {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const kinds = await Promise.all(SEARCH_NAMES.map((n) => kindOf(join(dir, n))));
    const present = SEARCH_NAMES.filter((_, i) => kinds[i] !== 'missing');
    for (const [i, name] of SEARCH_NAMES.entries()) {
      const problem = describeKind(kinds[i] ?? 'missing');
      if (kinds[i] !== 'missing' && problem !== undefined) throw unreadable(join(dir, name), 'search', problem);
    }
    if (present.length > 1) {
      throw new UserError('SPEC_UNREADABLE', `${dir} has both ${present.join(' and ')}; keep one of them`);
    }
    if (dir === foundDir || dir === dirname(dir)) return;
  }
}
