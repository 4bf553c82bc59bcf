// The built CLI starts from V8's code cache (bin/vm.cjs, scripts/warm-cache.cjs): a fresh build's
// cache is used, a cache for another bundle is never applied, and without a cache vm works the
// same. Each case runs `node` in a child, as a user's `vm` would.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runVm } from '../kit/index.js';

const BIN = join(ROOT, 'bin', 'vm.cjs');

/** What loadCli reports about the cache, loading the bundle in `dist` (default: the build's). */
function cacheState(dist?: string, env: Record<string, string> = {}): string {
  const opts = dist === undefined ? '' : JSON.stringify({ dist });
  const code = `const r = require(${JSON.stringify(BIN)}).loadCli(${opts}); process.stdout.write(r.cache + ' ' + typeof r.cli.main)`;
  return execFileSync(process.execPath, ['-e', code], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
}

describe('the code cache of the built CLI', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vm-cache-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a fresh build has a cache that V8 accepts', () => {
    expect(cacheState()).toBe('used function');
  });

  it('a stack trace from the cached bundle names dist/vm.cjs, not the directory the build warmed it in', () => {
    const code = `const r = require(${JSON.stringify(BIN)}).loadCli(); try { r.cli.colorWanted(false, null) } catch (e) { process.stdout.write(r.cache + '\\n' + e.stack) }`;
    const out = execFileSync(process.execPath, ['-e', code], { env: { PATH: process.env['PATH'] ?? '' }, encoding: 'utf8' });
    const [cache, , frame] = out.split('\n');
    expect(cache).toBe('used');
    expect(frame).toContain(`(${join(ROOT, 'dist', 'vm.cjs')}:`);
  });

  it('a copy of the build keeps its cache; the cache of another build of the same length is not applied', () => {
    const dist = join(tmp, 'dist');
    cpSync(join(ROOT, 'dist'), dist, { recursive: true });
    expect(cacheState(dist)).toBe('used function');
    const bundle = join(dist, 'vm.cjs');
    // Another build: same length, different code and build id. V8's own check (the source's
    // length) would accept the old cache and run the old code.
    const src = readFileSync(bundle, 'utf8');
    const marker = 'Desired state: ';
    expect(src).toContain(marker);
    const id = /\/\/ vm-build ([0-9a-f]{16})\n$/.exec(src)?.[1] ?? '';
    expect(id).toHaveLength(16);
    writeFileSync(bundle, src.replace(marker, 'DESIRED STATE: ').replace(`// vm-build ${id}`, `// vm-build ${'0'.repeat(16)}`));
    expect(cacheState(dist)).toBe('none function');
  });

  it('a truncated cache (a copy cut short) is rejected by V8, and the CLI loads from source', () => {
    const dist = join(tmp, 'dist-truncated');
    cpSync(join(ROOT, 'dist'), dist, { recursive: true });
    const cache = join(dist, 'vm.cjs.v8cache');
    const buf = readFileSync(cache);
    writeFileSync(cache, buf.subarray(0, buf.length - 1000));
    expect(cacheState(dist)).toBe('rejected function');
  });

  it('VM_NO_CODE_CACHE compiles from source, with the same result', async () => {
    // No user manager here (XDG_RUNTIME_DIR is empty): the plan is a fresh install under the
    // process supervisor, with diffs, so most of the plan path runs.
    const env = { HOME: join(tmp, 'home'), XDG_RUNTIME_DIR: join(tmp, 'run') };
    mkdirSync(env.HOME);
    const args = ['plan', '--detailed-exitcode', '-f', join(ROOT, 'examples', 'minimal.yaml')];
    const withCache = await runVm(args, env);
    const without = await runVm(args, { ...env, VM_NO_CODE_CACHE: '1' });
    expect(withCache.code, withCache.stderr).toBe(2);
    expect(withCache.stdout).toMatch(/Plan: \d+ steps for livekit/);
    expect(without).toEqual(withCache);
  });
});
