// What a user sees for a file that is not clean YAML (or not text at all).

import { livekitOf } from '../helpers/desired.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SpecError, formatProblem } from '../../src/errors.js';
import { loadDesired, validateText } from '../../src/spec/load.js';
import { MAX_SPEC_BYTES } from '../../src/spec/parse.js';

const env = { HOME: '/home/u' };

function problems(text: string): string[] {
  try {
    validateText(text, 'vm.yaml', env);
  } catch (e) {
    if (e instanceof SpecError) return e.problems.map(formatProblem);
    throw e;
  }
  throw new Error('expected the file to be rejected');
}

async function fileProblems(dir: string, name: string, content: string | Uint8Array): Promise<string[]> {
  writeFileSync(join(dir, name), content);
  try {
    await loadDesired({ file: name, cwd: dir, env: { HOME: dir } });
  } catch (e) {
    if (e instanceof SpecError) return e.problems.map(formatProblem);
    throw e;
  }
  throw new Error('expected the file to be rejected');
}

describe('YAML syntax', () => {
  it('an unclosed flow list is located where YAML notices it', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    bind_addresses: [127.0.0.1\n    port: 7880\n')[0]).toMatch(/^vm\.yaml:5:\d+: YAML syntax: /);
  });

  it('an unclosed quote is a located syntax error, not a library stack', () => {
    const [first] = problems('version: 1\nservices:\n  livekit:\n    version: "1.9.0\n');
    expect(first).toMatch(/^vm\.yaml:\d+:\d+: YAML syntax: Missing closing "quote$/);
  });

  it('a tab used for indentation says to use spaces', () => {
    expect(problems('version: 1\nservices:\n\tlivekit: {}\n')).toEqual(['vm.yaml:3:1: tabs cannot indent YAML; use spaces']);
  });

  it('a duplicate key is an error that names the key and its first line', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    port: 7880\n    port: 7881\n')).toEqual([
      'vm.yaml:6:5: duplicate key "port" (first set on line 5): each key may appear once',
    ]);
  });

  it('a duplicate top-level key is an error too', () => {
    expect(problems('version: 1\nversion: 1\n')).toEqual(['vm.yaml:2:1: duplicate key "version" (first set on line 1): each key may appear once']);
  });

  it('a second document is refused', () => {
    expect(problems('version: 1\n---\nversion: 1\n')).toEqual(['vm.yaml:2:1: only one YAML document is allowed; remove the second `---` and what follows']);
  });

  it('an unknown tag is refused rather than silently ignored', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    version: !semver 1.9.0\n')).toEqual(['vm.yaml:4:14: YAML syntax: Unresolved tag: !semver']);
  });

  it('a list used as a key is refused', () => {
    expect(problems('version: 1\n? [a, b]\n: 1\n')).toEqual(['vm.yaml:2:3: keys must be plain names, not lists or mappings']);
  });

  it('a leading document marker and a BOM are fine', () => {
    expect(() => validateText('\uFEFF---\nversion: 1\n', 'vm.yaml', env)).not.toThrow();
  });
});

describe('hostile files', () => {
  it('an alias bomb is rejected quickly, at the first alias', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    const started = performance.now();
    const out = problems(`${levels.join('\n')}\n`);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(out).toEqual([
      'vm.yaml:2:8: YAML aliases expand too much (limit 100); write the values out instead of using anchors and aliases',
    ]);
  });

  it('a few aliases are fine', () => {
    const d = validateText('version: 1\nservices:\n  livekit:\n    version: &v 1.9.0\n    keys: { a: *v }\n', 'vm.yaml', env);
    expect(livekitOf(d)?.keys).toEqual({ kind: 'declared', entries: { a: '1.9.0' } });
  });

  it('10,000 nested [ are refused quickly, at the 33rd level, with one problem', () => {
    const cases: Array<[string, string]> = [
      [`version: 1\nx: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, '2:36'],
      [`version: 1\nx: ${'['.repeat(100_000)}\n`, '2:36'],
      [`version: 1\nx: ${'{a: '.repeat(50_000)}\n`, '2:132'],
      [`version: 1\nx: "[[[[" # [[[[\ny: ${'['.repeat(40)}\n`, '3:36'], // quoted and commented brackets do not count
    ];
    for (const [text, where] of cases) {
      const started = performance.now();
      expect(problems(text)).toEqual([`vm.yaml:${where}: the file nests more than 32 levels deep; a services file needs about 6`]);
      expect(performance.now() - started).toBeLessThan(1000);
    }
  });

  it('nesting the text scan does not see is still refused once the parser runs out of stack', () => {
    // 30 list levels per line, each line inside the last item of the line before: 2400 levels
    // (190 KiB); the parser gives up with RESOURCE_EXHAUSTION somewhere, depending on the stack.
    const text = `version: 1\nx:\n${Array.from({ length: 80 }, (_, n) => `${' '.repeat(60 * n)}${'- '.repeat(30)}`).join('\n')}a\n`;
    const started = performance.now();
    const out = problems(text);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^vm\.yaml:\d+:\d+: the file nests more than 32 levels deep; a services file needs about 6$/);
  });

  it('deep block nesting and nested "- " lists are refused past 32 levels', () => {
    let block = 'version: 1\n';
    for (let i = 0; i < 40; i++) block += `${' '.repeat(i)}a${i}:\n`;
    expect(problems(block)).toEqual(['vm.yaml:34:33: the file nests more than 32 levels deep; a services file needs about 6']);
    const dashes = problems(`version: 1\nx:\n${'- '.repeat(100_000)}a\n`);
    expect(dashes).toHaveLength(1);
    expect(dashes[0]).toMatch(/nests (too deeply to be read|more than 32 levels deep)/);
  });

  it('thousands of problems are cut to 20 and a count', () => {
    const out = problems(`version: 1\nx: ${'&a '.repeat(5000)}1\n`);
    expect(out).toHaveLength(21);
    expect(out[20]).toMatch(/^vm\.yaml:2:\d+: and 4979 more problems from here on; fix the ones above first$/);
  });

  it('control and bidi characters in a key name are escaped in the message and pointer', () => {
    expect(problems('version: 1\n"a\\u202eb\\u001b[31m": 1\n')).toEqual([
      'vm.yaml:2:1: unknown key "a\\u202eb\\u001b[31m"; allowed here: version, supervisor, services, clients, hosts (at /a\\u202eb\\u001b[31m)',
    ]);
  });

  it('a huge key name or tag is cut short in the message', () => {
    const [key] = problems(`version: 1\n${'k'.repeat(1000)}: 1\n`);
    expect(key).toMatch(/^vm\.yaml:2:1: unknown key "k{57}\.\.\."; allowed here/);
    const [tag] = problems(`version: 1\nx: !${'t'.repeat(100_000)} 1\n`);
    expect(tag?.length).toBeLessThan(250);
  });

  it('a value folded over several lines is quoted back on one line', () => {
    const [first] = problems('version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    health:\n      timeout: 5\n        minutes\n');
    expect(first).toBe('vm.yaml:6:16: timeout must be a duration such as 500ms, 30s or 2m, or a number of seconds (got 5 minutes) (at /services/livekit/health/timeout)');
  });

  it('text over 256 KiB is refused without parsing', () => {
    const text = `version: 1\n${'#'.repeat(MAX_SPEC_BYTES)}\n`;
    expect(problems(text)).toEqual(['vm.yaml:1:1: the file is too large (257 KiB; at most 256 KiB is read)']);
  });
});

describe('files on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vm-spec-parse-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a huge file is refused by size, naming the file', async () => {
    const out = await fileProblems(dir, 'big.yaml', Buffer.alloc(5 * 1024 * 1024, 0x23));
    expect(out).toEqual(['big.yaml:1:1: the file is too large (5120 KiB; at most 256 KiB is read)']);
  });

  it('a Latin-1 file is located at its first non-UTF-8 byte', async () => {
    const bytes = Buffer.concat([Buffer.from('version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    keys: { k: "caf'), Buffer.from([0xe9]), Buffer.from('" }\n')]);
    expect(await fileProblems(dir, 'latin1.yaml', bytes)).toEqual(['latin1.yaml:5:20: the file is not UTF-8 text; save it as UTF-8']);
  });

  it('a UTF-16 file (as some editors save) is refused as not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('version: 1\n', 'utf16le')]);
    expect(await fileProblems(dir, 'utf16.yaml', bytes)).toEqual(['utf16.yaml:1:1: the file is not UTF-8 text; save it as UTF-8']);
  });

  it('UTF-8 text beyond ASCII is fine', async () => {
    writeFileSync(join(dir, 'ok.yaml'), 'version: 1 # café ✓\nservices: {}\n');
    const d = await loadDesired({ file: 'ok.yaml', cwd: dir, env: { HOME: dir } });
    expect(d.services).toEqual({});
  });
});
