// Every broken file in test/fixtures/invalid/ is refused with the exact first line its sibling
// .expected file holds: `FILE:LINE:COL: message`, the file named relative to the working directory.

import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError } from '../../src/errors.js';
import { loadDesired } from '../../src/spec/load.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'invalid');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
const home = mkdtempSync(join(tmpdir(), 'vm-spec-fixtures-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('test/fixtures/invalid', () => {
  it('holds at least 15 broken files, each with its .expected line', () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    const expected = readdirSync(dir).filter((f) => f.endsWith('.expected'));
    expect(expected.map((f) => f.replace(/\.expected$/, '.yaml')).sort()).toEqual(files);
  });

  it.each(files)('%s is refused with the expected located message', async (name) => {
    const want = readFileSync(join(dir, name.replace(/\.yaml$/, '.expected')), 'utf8').trim();
    expect(want).toMatch(new RegExp(`^${name.replace(/\./g, '\\.')}:\\d+:\\d+: `));
    const err: unknown = await loadDesired({ file: name, cwd: dir, env: { HOME: home } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SpecError);
    const first = (err as SpecError).message.split('\n')[0] ?? '';
    expect(first.startsWith(want), `${first}\n  does not start with\n${want}`).toBe(true);
    expect((err as SpecError).message).not.toMatch(/\n\s+at /); // no stack traces
  });
});
