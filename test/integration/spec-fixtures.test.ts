// Every broken file in test/fixtures/invalid/ is refused with the exact first line its sibling
// .expected file holds: `FILE:LINE:COL: message` (a prefix), the file named relative to the
// working directory; `<home>` stands for the HOME the corpus is checked with. A whole-file
// problem (a directory where the file should be) has no line: `FILE: reason`.
// Hand-written cases sit beside the generated gen-* ones (scripts/gen-invalid-corpus.mjs).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError, UserError } from '../../src/errors.js';
import { loadDesired } from '../../src/spec/load.js';
import { CORPUS_ENV, CORPUS_SECRETS, makeCorpusHome } from '../fixtures/invalid/corpus-env.js';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'test', 'fixtures', 'invalid');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const home = realpathSync(mkdtempSync(join(tmpdir(), 'vm-spec-fixtures-')));
makeCorpusHome(home);
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('test/fixtures/invalid', () => {
  it(`holds at least 100 broken files (${files.length}), each with its .expected line`, () => {
    expect(files.length).toBeGreaterThanOrEqual(100);
    const expected = readdirSync(dir).filter((f) => f.endsWith('.expected'));
    expect(expected.map((f) => f.replace(/\.expected$/, '.yaml')).sort()).toEqual(files);
  });

  it('the generated cases are what scripts/gen-invalid-corpus.mjs writes', () => {
    expect(() => execFileSync(process.execPath, [join(root, 'scripts', 'gen-invalid-corpus.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it.each(files)('%s is refused with the expected message', async (name) => {
    const want = readFileSync(join(dir, name.replace(/\.yaml$/, '.expected')), 'utf8').trim().replaceAll('<home>', home);
    expect(want).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}(:\\d+:(\\d+: )?|: )`));
    const started = performance.now();
    const err: unknown = await loadDesired({ file: name, cwd: dir, env: { HOME: home, ...CORPUS_ENV } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(UserError);
    const message = (err as UserError).message;
    if (/^[^:]+: /.test(want)) {
      // A whole-file problem names the (absolute) path and the reason.
      expect(err).not.toBeInstanceOf(SpecError);
      expect(message).toContain(`${dir}/${want}`);
    } else {
      expect(err).toBeInstanceOf(SpecError);
      const first = message.split('\n')[0] ?? '';
      expect(first.startsWith(want), `${first}\n  does not start with\n${want}`).toBe(true);
    }
    expect(message).not.toMatch(/\n\s+at /); // no stack traces
    for (const secret of CORPUS_SECRETS) expect(message).not.toContain(secret);
  });
});
