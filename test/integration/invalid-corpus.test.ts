// Every invalid file, through the built CLI, as a user would meet it: `vm validate -f FILE` and
// `vm plan -f FILE` as child processes, each case with its own temp HOME (holding the corpus's
// secret files) and an empty XDG_RUNTIME_DIR (no systemd manager answers). Each run must exit 1
// with a one-line located error (or, for a whole-file problem, the path and the reason), print
// no stack trace, no "internal error", no secret, and write nothing.
//
// Besides test/fixtures/invalid/*.yaml, cases that cannot be committed are built here: an
// unreadable file and secret file (run as nobody: the tests run as root, who may read anything),
// a FIFO and a device where the file should be, a 5 MB file, a path through a file, a missing
// file, and `~/` with no HOME.

import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_ENV, CORPUS_SECRETS, makeCorpusHome } from '../fixtures/invalid/corpus-env.js';
import { ROOT } from '../kit/index.js';

const BIN = join(ROOT, 'bin', 'vm.cjs');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'invalid');
const CONCURRENCY = 8;
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

interface Case {
  readonly name: string;
  /** The -f argument, as given (relative to cwd or absolute). */
  readonly file: string;
  readonly cwd: string;
  /**
   * What the first line of stderr starts with (`FILE:LINE:COL: ...`), `<home>` standing for the
   * case's HOME; or, for a whole-file problem, `{ path, reason }` that the line must contain.
   */
  readonly expected: string | { readonly path: string; readonly reason: string };
  /** Run as nobody (an unreadable file means nothing to root). */
  readonly nobody?: boolean;
  /** Leave HOME out of the environment. */
  readonly noHome?: boolean;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

interface Outcome {
  readonly home: string;
  readonly validate: Run;
  readonly plan: Run;
  readonly treeBefore: string;
  readonly treeAfter: string;
  readonly runtimeDirAfter: string[];
}

// Created at load: the special cases' paths are part of their definitions (and test names).
const t = realpathSync(mkdtempSync(join(tmpdir(), 'vm-invalid-corpus-')));
const pub = join(t, 'public');

const fixtureCases: Case[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => {
    const want = readFileSync(join(FIXTURES, f.replace(/\.yaml$/, '.expected')), 'utf8').trim();
    const whole = /^[^:]+: /.test(want); // `NAME: reason`, no line
    return { name: f, file: f, cwd: FIXTURES, expected: whole ? { path: join(FIXTURES, f), reason: want.slice(f.length + 2) } : want };
  });

const LOCKED = join(pub, 'locked.secret');

/** Cases that cannot be committed; makeSpecialFiles writes what they read. */
const specialCases: Case[] = [
  { name: 'an unreadable file (run as nobody)', file: 'unreadable.yaml', cwd: pub, nobody: true, expected: { path: join(pub, 'unreadable.yaml'), reason: 'cannot be read (permission denied?)' } },
  {
    name: 'an unreadable secret file (run as nobody)',
    file: 'locked-secret.yaml',
    cwd: pub,
    nobody: true,
    expected: `locked-secret.yaml:6:12: the secret of key "lan" comes from ${LOCKED}, which vm may not read (permission denied); check its owner and mode`,
  },
  { name: 'a FIFO where the file should be', file: 'fifo.yaml', cwd: pub, expected: { path: join(pub, 'fifo.yaml'), reason: 'is not a regular file' } },
  { name: 'a device where the file should be', file: '/dev/zero', cwd: pub, expected: { path: '/dev/zero', reason: 'is not a regular file' } },
  { name: 'a 5 MB file', file: 'huge.yaml', cwd: pub, expected: 'huge.yaml:1:1: the file is too large (5120 KiB; at most 256 KiB is read)' },
  { name: 'a path through a file', file: 'huge.yaml/voicemode.services.yaml', cwd: pub, expected: { path: join(pub, 'huge.yaml/voicemode.services.yaml'), reason: 'no such file' } },
  { name: 'a file that does not exist', file: 'nothing.yaml', cwd: pub, expected: { path: join(pub, 'nothing.yaml'), reason: 'no such file' } },
  {
    name: 'install.path ~/ without HOME',
    file: 'no-home-path.yaml',
    cwd: pub,
    noHome: true,
    expected: 'no-home-path.yaml:4:36: path starts with ~/ but HOME is not set to an absolute path; write the full path',
  },
  {
    name: 'a secret file ~/ without HOME',
    file: 'no-home-secret.yaml',
    cwd: pub,
    noHome: true,
    expected: 'no-home-secret.yaml:6:12: the secret of key "lan" comes from ~/livekit.secret, but HOME is not set to an absolute path; write the full path',
  },
];

const cases: Case[] = [...fixtureCases, ...specialCases];

/** Writes the files the special cases read, in a directory every user may enter. */
function makeSpecialFiles(): void {
  chmodSync(t, 0o755);
  mkdirSync(pub, { mode: 0o755 });
  chmodSync(pub, 0o755);
  const lk = (body: string): string => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n${body}`;
  const put = (name: string, content: string | Buffer, mode = 0o644): void => {
    writeFileSync(join(pub, name), content);
    chmodSync(join(pub, name), mode);
  };
  put('unreadable.yaml', lk(''), 0o000);
  put('locked.secret', 'corpus-secret-0123456789abcdefghijklmnop\n', 0o000);
  put('locked-secret.yaml', lk(`    keys:\n      lan: { file: ${LOCKED} }\n`));
  put('huge.yaml', Buffer.alloc(5 * 1024 * 1024, 0x23));
  put('no-home-path.yaml', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: ~/bin/livekit-server }\n');
  put('no-home-secret.yaml', lk('    keys:\n      lan: { file: ~/livekit.secret }\n'));
  execFileSync('mkfifo', ['-m', '644', join(pub, 'fifo.yaml')]);
}

/** Every path under `dir` with its type, mode, size and mtime; FIFOs are never opened. */
function tree(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = lstatSync(p);
      out.push(`${p.slice(dir.length)} ${s.mode.toString(8)} ${s.size} ${s.mtimeMs}`);
      if (s.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.join('\n');
}

function vm(args: readonly string[], c: Case, env: Record<string, string>): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env,
        cwd: c.cwd,
        timeout: 30_000,
        ...(c.nobody === true && asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr, ms: performance.now() - started });
      },
    );
  });
}

async function runCase(c: Case, i: number): Promise<Outcome> {
  const base = join(t, 'cases', String(i));
  const home = join(base, 'home');
  const runtime = join(base, 'run');
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  mkdirSync(home, { recursive: true });
  makeCorpusHome(home);
  // nobody gets the public directory as HOME: it may enter it but not write there.
  const effectiveHome = c.nobody === true ? join(t, 'public') : home;
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    XDG_RUNTIME_DIR: runtime,
    ...CORPUS_ENV,
    ...(c.noHome === true ? {} : { HOME: effectiveHome }),
  };
  const treeBefore = tree(effectiveHome);
  const validate = await vm(['validate', '-f', c.file], c, env);
  const plan = await vm(['plan', '-f', c.file], c, env);
  return { home: effectiveHome, validate, plan, treeBefore, treeAfter: tree(effectiveHome), runtimeDirAfter: readdirSync(runtime) };
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of results. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const outcomes = new Map<string, Outcome>();
let fixturesBefore = '';
let publicBefore = '';
let elapsedMs = 0;

describe(`the built CLI refuses ${cases.length} invalid files (vm validate and vm plan, ${CONCURRENCY} at a time)`, () => {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'vm.cjs'))) throw new Error('dist/vm.cjs is missing: run `npm run build` first (npm test does)');
    makeSpecialFiles();
    fixturesBefore = tree(FIXTURES);
    publicBefore = tree(pub);
    const started = performance.now();
    const results = await pool(cases, CONCURRENCY, runCase);
    elapsedMs = performance.now() - started;
    results.forEach((r, i) => outcomes.set((cases[i] as Case).name, r));
  });
  afterAll(() => rmSync(t, { recursive: true, force: true }));

  it('leaves the committed fixtures and the working directory untouched, within the time budget', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(tree(FIXTURES)).toBe(fixturesBefore);
    expect(tree(pub)).toBe(publicBefore);
    const runs = [...outcomes.values()].flatMap((o) => [o.validate, o.plan]);
    const slowest = Math.max(...runs.map((r) => r.ms));
    console.log(`${cases.length} cases, ${runs.length} runs in ${(elapsedMs / 1000).toFixed(1)} s; slowest run ${slowest.toFixed(0)} ms`);
    expect(elapsedMs).toBeLessThan(60_000);
  });

  it('the same CLI accepts secrets from the environment and from a private file, and never prints them', async () => {
    const home = join(t, 'valid-home');
    mkdirSync(join(home, '.config', 'voicemode'), { recursive: true });
    const fileSecret = 'valid-file-secret-0123456789abcdefghijkl';
    const envSecret = 'valid-env-secret-0123456789abcdefghijklm';
    writeFileSync(join(home, '.config', 'voicemode', 'livekit.secret'), `${fileSecret}\n`, { mode: 0o600 });
    const spec = join(home, 'voicemode.services.yaml');
    writeFileSync(
      spec,
      'version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    bind_addresses: [127.0.0.1, 192.168.1.20]\n' +
        '    keys:\n      lan: { file: ~/.config/voicemode/livekit.secret }\n      ci: { env: LK_CI_SECRET }\n',
    );
    const c: Case = { name: 'valid', file: spec, cwd: home, expected: '' };
    const r = await vm(['validate', '-f', spec], c, { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: home, LK_CI_SECRET: envSecret });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${spec}: valid\n`);
    expect(`${r.stdout}${r.stderr}`).not.toContain(fileSecret);
    expect(`${r.stdout}${r.stderr}`).not.toContain(envSecret);
  });

  it.each(cases.map((c) => c.name))('%s', (name) => {
    const c = cases.find((x) => x.name === name) as Case;
    const o = outcomes.get(name);
    expect(o, name).toBeDefined();
    if (o === undefined) return;
    for (const [command, r] of [['validate', o.validate], ['plan', o.plan]] as const) {
      const why = `${name}: vm ${command} -f ${c.file}\n${r.stderr}`;
      expect(r.code, why).toBe(1);
      expect(r.stdout, why).toBe('');
      const first = r.stderr.split('\n')[0] ?? '';
      if (typeof c.expected === 'string') {
        const want = c.expected.replaceAll('<home>', o.home);
        expect(first.startsWith(want), `${why}\ndoes not start with\n${want}`).toBe(true);
        expect(first, why).toMatch(/^[^\n:]+:\d+:\d+: \S/);
      } else {
        expect(first, why).toContain(c.expected.path);
        expect(first, why).toContain(c.expected.reason);
      }
      expect(r.stderr, why).not.toMatch(/\n\s+at /);
      expect(r.stderr, why).not.toContain('internal error');
      for (const secret of CORPUS_SECRETS) expect(`${r.stdout}${r.stderr}`, why).not.toContain(secret);
    }
    expect(o.treeAfter, `${name}: HOME changed`).toBe(o.treeBefore);
    expect(existsSync(join(o.home, '.voicemode')), `${name}: ~/.voicemode was created`).toBe(false);
    expect(o.runtimeDirAfter, `${name}: XDG_RUNTIME_DIR changed`).toEqual([]);
  });
});
