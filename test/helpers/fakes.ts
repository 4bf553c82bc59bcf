// Fake `launchctl` and `brew` for tests (there is no macOS or Homebrew here): a temp bin directory
// with links to test/fixtures/fake-*, put first on PATH. Each fake records its calls, one a line.

import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface FakeBin {
  /** Prepend to PATH. */
  dir: string;
  /** Environment for the fakes (PATH included), to merge into a host's or a child's env. */
  env: Record<string, string>;
  /** Lines recorded since the last call (then forgotten). */
  calls(): Promise<string[]>;
}

async function binDir(root: string, links: Record<string, string>): Promise<string> {
  const dir = join(root, 'fake-bin');
  await mkdir(dir, { recursive: true });
  // The fakes are `#!/usr/bin/env node` scripts: make sure `node` is this very Node.
  for (const [name, target] of Object.entries({ node: process.execPath, ...links })) await symlink(target, join(dir, name)).catch(() => undefined);
  return dir;
}

function recorder(log: string): () => Promise<string[]> {
  return async () => {
    const text = await readFile(log, 'utf8').catch(() => '');
    await writeFile(log, '');
    return text.split('\n').filter((l) => l !== '');
  };
}

/** `launchctl` → fake-launchctl, its state in `<root>/launchd`. */
export async function fakeLaunchctl(root: string): Promise<FakeBin> {
  const dir = await binDir(root, { launchctl: join(FIXTURES, 'fake-launchctl') });
  const state = join(root, 'launchd');
  await mkdir(state, { recursive: true });
  return { dir, env: { PATH: `${dir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, FAKE_LAUNCHCTL_STATE: state }, calls: recorder(join(state, 'calls.log')) };
}

export interface FakeBrew extends FakeBin {
  prefix: string;
}

/**
 * `brew` → fake-brew with prefix `<root>/homebrew`. `install`/`upgrade` copy `binarySource` (e.g.
 * standinScript({ version })) to <prefix>/Cellar/livekit/<stable>/bin and link <prefix>/bin to it.
 */
export async function fakeBrew(root: string, opts: { stable: string; binarySource: string }): Promise<FakeBrew> {
  const dir = await binDir(root, { brew: join(FIXTURES, 'fake-brew') });
  const prefix = join(root, 'homebrew');
  const source = join(root, 'fake-brew-source', 'livekit-server');
  await mkdir(dirname(source), { recursive: true });
  await writeFile(source, opts.binarySource, { mode: 0o755 });
  const log = join(root, 'fake-brew.log');
  return {
    dir,
    prefix,
    env: { PATH: `${dir}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, FAKE_BREW_PREFIX: prefix, FAKE_BREW_STABLE: opts.stable, FAKE_BREW_BINARY_SOURCE: source, FAKE_BREW_LOG: log },
    calls: recorder(log),
  };
}
