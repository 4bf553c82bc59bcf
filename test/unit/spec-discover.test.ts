// Which file vm reads: -f, then VOICEMODE_SERVICES_FILE, then the nearest
// voicemode.services.yaml upward from cwd, then $XDG_CONFIG_HOME/voicemode/services.yaml, then
// the built-in default. Real temp directories; env is passed explicitly (never the real HOME).

import { livekitOf } from '../helpers/desired.js';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SpecError, UserError } from '../../src/errors.js';
import { defaultDesired } from '../../src/spec/default.js';
import { discoverSpec } from '../../src/spec/discover.js';
import { loadDesired } from '../../src/spec/load.js';

let t: string;
let home: string;
let cwd: string;
let env: Record<string, string | undefined>;

const spec = (port: number): string => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    port: ${port}\n`;
function put(path: string, content: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  return path;
}
async function portFrom(opts: { file?: string } = {}): Promise<number | undefined> {
  return livekitOf(await loadDesired({ ...opts, cwd, env }))?.port;
}
async function refusal(p: Promise<unknown>): Promise<UserError> {
  const e: unknown = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String(e)}`);
  return e;
}

beforeEach(() => {
  t = realpathSync(mkdtempSync(join(tmpdir(), 'vm-spec-discover-')));
  home = join(t, 'home');
  cwd = join(t, 'work', 'project', 'sub');
  mkdirSync(cwd, { recursive: true });
  mkdirSync(home, { recursive: true });
  env = { HOME: home };
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(t, { recursive: true, force: true });
});

describe('discovery order', () => {
  beforeEach(() => {
    put(join(t, 'flag.yaml'), spec(1001));
    put(join(t, 'env.yaml'), spec(1002));
    put(join(t, 'work', 'project', 'voicemode.services.yaml'), spec(1003));
    put(join(home, '.config', 'voicemode', 'services.yaml'), spec(1004));
    env['VOICEMODE_SERVICES_FILE'] = join(t, 'env.yaml');
  });

  it('-f wins over everything, relative to cwd', async () => {
    expect(await portFrom({ file: '../../../flag.yaml' })).toBe(1001);
    expect(await discoverSpec({ file: '../../../flag.yaml', cwd, env })).toEqual({ kind: 'file', path: join(t, 'flag.yaml'), via: 'flag' });
  });

  it('VOICEMODE_SERVICES_FILE comes next', async () => {
    expect(await portFrom()).toBe(1002);
    expect(await discoverSpec({ cwd, env })).toMatchObject({ via: 'env' });
  });

  it('then the nearest voicemode.services.yaml upward from cwd', async () => {
    delete env['VOICEMODE_SERVICES_FILE'];
    expect(await discoverSpec({ cwd, env })).toEqual({ kind: 'file', path: join(t, 'work', 'project', 'voicemode.services.yaml'), via: 'search' });
    put(join(cwd, 'voicemode.services.yml'), spec(1005));
    expect(await portFrom()).toBe(1005);
  });

  it('then $HOME/.config/voicemode/services.yaml', async () => {
    delete env['VOICEMODE_SERVICES_FILE'];
    cwd = join(t, 'elsewhere');
    mkdirSync(cwd);
    expect(await portFrom()).toBe(1004);
    expect(await discoverSpec({ cwd, env })).toMatchObject({ via: 'xdg' });
  });

  it('XDG_CONFIG_HOME replaces $HOME/.config when it is absolute', async () => {
    delete env['VOICEMODE_SERVICES_FILE'];
    cwd = join(t, 'elsewhere');
    mkdirSync(cwd);
    put(join(t, 'xdg', 'voicemode', 'services.yaml'), spec(1006));
    expect(await portFrom()).toBe(1004);
    env['XDG_CONFIG_HOME'] = join(t, 'xdg');
    expect(await portFrom()).toBe(1006);
    env['XDG_CONFIG_HOME'] = 'relative/xdg';
    expect(await portFrom()).toBe(1004);
  });

  it('with no file anywhere, the built-in default (source: default)', async () => {
    const d = await loadDesired({ cwd: join(t, 'work'), env: { HOME: join(t, 'nohome') } });
    expect(d).toEqual(defaultDesired());
    expect(d.source).toEqual({ kind: 'default' });
  });

  it('an empty VOICEMODE_SERVICES_FILE counts as unset', async () => {
    env['VOICEMODE_SERVICES_FILE'] = '';
    expect(await portFrom()).toBe(1003);
  });
});

describe('a file vm cannot use is an error, never a fallback', () => {
  beforeEach(() => {
    put(join(cwd, 'voicemode.services.yaml'), spec(1003));
  });

  it('-f to a missing file names it and does not fall back to the search', async () => {
    const e = await refusal(loadDesired({ file: 'nope.yaml', cwd, env }));
    expect(e.code).toBe('SPEC_UNREADABLE');
    expect(e.message).toBe(`${join(cwd, 'nope.yaml')}: no such file (given with --file)`);
    expect(e).not.toBeInstanceOf(SpecError);
  });

  it('VOICEMODE_SERVICES_FILE to a missing file says where the path came from', async () => {
    env['VOICEMODE_SERVICES_FILE'] = join(t, 'gone.yaml');
    const e = await refusal(loadDesired({ cwd, env }));
    expect(e.code).toBe('SPEC_UNREADABLE');
    expect(e.message).toBe(`${join(t, 'gone.yaml')}: no such file (from VOICEMODE_SERVICES_FILE)`);
  });

  it('-f to a directory says it is a directory', async () => {
    const e = await refusal(loadDesired({ file: '.', cwd, env }));
    expect(e.message).toBe(`${cwd}: is a directory, not a file (given with --file)`);
  });

  it('a directory named voicemode.services.yaml on the way up stops the search', async () => {
    const inner = join(cwd, 'deeper');
    mkdirSync(join(inner, 'voicemode.services.yaml'), { recursive: true });
    const e = await refusal(loadDesired({ cwd: inner, env }));
    expect(e.code).toBe('SPEC_UNREADABLE');
    expect(e.message).toContain(`${join(inner, 'voicemode.services.yaml')}: is a directory`);
  });

  it('a directory where the XDG file should be is an error', async () => {
    const elsewhere = join(t, 'elsewhere');
    mkdirSync(join(home, '.config', 'voicemode', 'services.yaml'), { recursive: true });
    mkdirSync(elsewhere);
    const e = await refusal(loadDesired({ cwd: elsewhere, env }));
    expect(e.message).toBe(`${join(home, '.config', 'voicemode', 'services.yaml')}: is a directory, not a file (in the XDG config directory)`);
  });

  it('both .yaml and .yml in one directory is ambiguous', async () => {
    put(join(cwd, 'voicemode.services.yml'), spec(1005));
    const e = await refusal(loadDesired({ cwd, env }));
    expect(e.message).toBe(`${cwd} has both voicemode.services.yaml and voicemode.services.yml; keep one of them`);
  });

  it('an empty voicemode.services.yaml is found and reported, not skipped', async () => {
    const inner = join(cwd, 'deeper');
    put(join(inner, 'voicemode.services.yaml'), '');
    const e = await refusal(loadDesired({ cwd: inner, env }));
    expect(e).toBeInstanceOf(SpecError);
    expect(e.message).toBe('voicemode.services.yaml:1:1: the file is empty; it needs at least `version: 1`');
  });

  it('problems in a file above cwd name it by its absolute path', async () => {
    put(join(cwd, 'voicemode.services.yaml'), 'version: 1\nbogus: 1\n');
    mkdirSync(join(cwd, 'deeper'));
    const e = await refusal(loadDesired({ cwd: join(cwd, 'deeper'), env }));
    expect(e).toBeInstanceOf(SpecError);
    expect(e.message.startsWith(`${join(cwd, 'voicemode.services.yaml')}:2:1: unknown key "bogus"`)).toBe(true);
  });
});

describe('the upward search', () => {
  it('never runs a config.js from cosmiconfig\'s own global directory', async () => {
    const xdg = join(t, 'xdg');
    put(join(xdg, 'voicemode', 'config.js'), 'globalThis.__vmSpecExecuted = true;\nexport default {};\n');
    vi.stubEnv('XDG_CONFIG_HOME', xdg); // cosmiconfig reads process.env for its global directory
    env['XDG_CONFIG_HOME'] = xdg;
    const d = await loadDesired({ cwd: join(t, 'work'), env });
    expect(d.source).toEqual({ kind: 'default' });
    expect((globalThis as { __vmSpecExecuted?: boolean }).__vmSpecExecuted).toBeUndefined();
  });

  // cosmiconfig reads a "meta config" from process.cwd() (not from our cwd option).
  async function fromProcessCwd<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    const before = process.cwd();
    process.chdir(dir);
    try {
      const result = await fn();
      expect(process.cwd()).toBe(dir);
      return result;
    } finally {
      process.chdir(before);
    }
  }

  it('never runs a .config/config.js in the directory vm is started from', async () => {
    const marker = join(t, 'executed');
    put(join(cwd, '.config', 'config.js'), `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = {};\n`);
    const d = await fromProcessCwd(cwd, () => loadDesired({ cwd, env }));
    expect(d.source).toEqual({ kind: 'default' });
    await new Promise((r) => setTimeout(r, 200)); // a stray import would run asynchronously
    expect(() => readFileSync(marker)).toThrow();
  });

  it('reaches the filesystem root (finds a file many levels up)', async () => {
    const deep = join(t, 'a', 'b', 'c', 'd', 'e', 'f', 'g');
    mkdirSync(deep, { recursive: true });
    put(join(t, 'voicemode.services.yaml'), spec(1007));
    expect(livekitOf(await loadDesired({ cwd: deep, env }))?.port).toBe(1007);
  });
});
