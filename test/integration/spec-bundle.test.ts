// vm ships as an esbuild bundle with code splitting (scripts/build.mjs), where a dynamically
// imported CommonJS package behaves differently than under Node: the upward search (the only
// user of cosmiconfig) must work there too, and the spec code must not pull in ajv.

import { livekitOf } from '../helpers/desired.js';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let out: string;
let t: string;

beforeAll(async () => {
  t = realpathSync(mkdtempSync(join(tmpdir(), 'vm-spec-bundle-')));
  out = join(t, 'dist');
  await build({
    entryPoints: { load: join(root, 'src/spec/load.ts') },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: { js: "import { createRequire as __vmCreateRequire } from 'node:module'; const require = __vmCreateRequire(import.meta.url);" },
    logLevel: 'silent',
  });
});
afterAll(() => rmSync(t, { recursive: true, force: true }));

describe('the bundled spec loader', () => {
  it('finds voicemode.services.yaml upward from cwd', async () => {
    const cwd = join(t, 'project', 'sub');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(t, 'project', 'voicemode.services.yaml'), 'version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    port: 7999\n');
    const mod = (await import(pathToFileURL(join(out, 'load.mjs')).href)) as typeof import('../../src/spec/load.js');
    const d = await mod.loadDesired({ cwd, env: { HOME: join(t, 'home') } });
    expect(d.source).toEqual({ kind: 'file', path: join(t, 'project', 'voicemode.services.yaml'), via: 'search' });
    expect(livekitOf(d)?.port).toBe(7999);
  });

  it('does not contain the ajv compiler, and keeps cosmiconfig in a separate chunk', () => {
    const files = readdirSync(out);
    const main = readFileSync(join(out, 'load.mjs'), 'utf8');
    expect(main).not.toMatch(/ajv\/dist\/(core|2020|compile)/);
    expect(main).not.toContain('cosmiconfig/dist');
    expect(files.some((f) => readFileSync(join(out, f), 'utf8').includes('cosmiconfig/dist'))).toBe(true);
  });
});
