// Secrets by reference: `{ env: NAME }` and `{ file: PATH }` instead of the secret itself, so a
// services file can live in dotfiles. What a user sees when the secret cannot be had, located at
// the reference, and never the secret itself.

import { livekitOf } from '../helpers/desired.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError, formatProblem } from '../../src/errors.js';
import { validateText } from '../../src/spec/load.js';
import type { ValidateOptions } from '../../src/spec/load.js';
import { MAX_SECRET_FILE_BYTES, readSecretFileSync, resolveSecret } from '../../src/spec/secrets.js';

const home = mkdtempSync(join(tmpdir(), 'vm-spec-secrets-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const SECRET = 'Zq8vN3kP1xR7mT5wB2cY9dF4gH6jL0sA'; // 32 characters
const lk = (body: string): string => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n${body}`;
const withKey = (ref: string): string => lk(`    keys:\n      lan: ${ref}\n`);

/** A file under the temp HOME with this content and mode; returns its path. */
function secretFile(name: string, content: string | Uint8Array, mode = 0o600): string {
  const path = join(home, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

function entries(text: string, env: Record<string, string | undefined> = { HOME: home }, opts?: ValidateOptions): Readonly<Record<string, string>> | undefined {
  const keys = livekitOf(validateText(text, 'vm.yaml', env, opts))?.keys;
  return keys?.kind === 'declared' ? keys.entries : undefined;
}

/** The located problems; each is checked to carry none of `secrets`. */
function problems(text: string, env: Record<string, string | undefined> = { HOME: home }, opts?: ValidateOptions, secrets: readonly string[] = [SECRET]): string[] {
  try {
    validateText(text, 'vm.yaml', env, opts);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    const out = e.problems.map(formatProblem);
    for (const s of secrets) expect(out.join('\n')).not.toContain(s);
    return out;
  }
  throw new Error('expected the file to be rejected');
}

describe('{ env: NAME }', () => {
  it('reads the secret from the environment vm runs in', () => {
    expect(entries(withKey('{ env: LK_SECRET }'), { HOME: home, LK_SECRET: SECRET })).toEqual({ lan: SECRET });
  });

  it('an unset variable is located at the reference and named', () => {
    expect(problems(withKey('{ env: LK_SECRET }'))).toEqual([
      'vm.yaml:6:12: the secret of key "lan" comes from the environment variable LK_SECRET, which is not set; set it where vm runs (plan and apply read it each time) (at /services/livekit/keys/lan)',
    ]);
  });

  it('in block style, the problem points at the line of env:', () => {
    expect(problems(lk('    keys:\n      lan:\n        env: LK_SECRET\n'))[0]).toMatch(/^vm\.yaml:7:9: the secret of key "lan" comes from the environment variable LK_SECRET, which is not set/);
  });

  it('an empty variable, or one with a newline, is refused without showing it', () => {
    expect(problems(withKey('{ env: LK_SECRET }'), { HOME: home, LK_SECRET: '' })[0]).toContain('LK_SECRET, which is empty');
    const out = problems(withKey('{ env: LK_SECRET }'), { HOME: home, LK_SECRET: `${SECRET}\nmore` });
    expect(out[0]).toContain('LK_SECRET, which holds a newline or control character; a secret is one line of text');
  });

  it('a variable name that looks like the secret itself is refused without repeating it', () => {
    const out = problems(withKey(`{ env: "${SECRET}-x" }`));
    expect(out).toEqual([
      'vm.yaml:6:19: env of key "lan" must name an environment variable (letters, digits and _, not starting with a digit), not hold the secret itself (at /services/livekit/keys/lan/env)',
    ]);
  });
});

describe('every kind’s secrets', () => {
  it('the variables a watch under systemd needs include a Redis password’s, not only LiveKit’s keys', () => {
    const text = `${withKey('{ env: LK_SECRET }')}    redis: { address: 10.0.0.2:6379, password: { env: LK_REDIS_PW } }\n  cache:\n    kind: redis\n    password: { env: CACHE_PW }\n`;
    const d = validateText(text, 'vm.yaml', { HOME: home, LK_SECRET: SECRET, LK_REDIS_PW: 'pw-one', CACHE_PW: 'pw-two' });
    expect(d.secretEnv).toEqual(['LK_REDIS_PW', 'LK_SECRET', 'CACHE_PW']);
    expect(d.services['cache']).toMatchObject({ kind: 'redis', password: 'pw-two' });
  });

  it('a password or the fallback’s secret written in the wrong form is not repeated, as a key’s is not', () => {
    const pasted = 'pasted-secret-0123456789abcdefghijkl';
    expect(problems(`version: 1\nservices:\n  redis:\n    password: { env: "${pasted}" }\n`, { HOME: home }, undefined, [pasted])).toEqual([
      'vm.yaml:4:22: env must name an environment variable (letters, digits and _, not starting with a digit), not hold the secret itself (at /services/redis/password/env)',
    ]);
    const fb = `    fallback: { url: wss://x.livekit.cloud, api_key: APIx, api_secret: { ${pasted}: 1 } }\n`;
    expect(problems(lk(fb), { HOME: home }, undefined, [pasted])[0]).toMatch(/^vm\.yaml:5:72: api_secret must be text, \{ env: NAME \} or \{ file: PATH \}; this mapping has another key/);
  });

  it('a redis service under another name has its password located when it cannot be read', () => {
    expect(problems('version: 1\nservices:\n  cache:\n    kind: redis\n    password: { env: CACHE_PW }\n')).toEqual([
      'vm.yaml:5:15: the password comes from the environment variable CACHE_PW, which is not set; set it where vm runs (plan and apply read it each time) (at /services/cache/password)',
    ]);
  });
});

describe('{ file: PATH }', () => {
  it('reads the secret from a private file, dropping one trailing newline, ~ expanded', () => {
    secretFile('lk.secret', `${SECRET}\n`);
    expect(entries(withKey('{ file: ~/lk.secret }'))).toEqual({ lan: SECRET });
    secretFile('crlf.secret', `${SECRET}\r\n`, 0o400);
    expect(entries(withKey(`{ file: ${join(home, 'crlf.secret')} }`))).toEqual({ lan: SECRET });
    secretFile('bare.secret', SECRET);
    expect(entries(withKey('{ file: ~/bare.secret }'))).toEqual({ lan: SECRET });
  });

  it('follows a symlink (dotfiles link files) and checks the mode of what it points to', () => {
    secretFile('target.secret', `${SECRET}\n`);
    symlinkSync(join(home, 'target.secret'), join(home, 'link.secret'));
    expect(entries(withKey('{ file: ~/link.secret }'))).toEqual({ lan: SECRET });
    secretFile('open-target.secret', `${SECRET}\n`, 0o644);
    symlinkSync(join(home, 'open-target.secret'), join(home, 'open-link.secret'));
    expect(problems(withKey('{ file: ~/open-link.secret }'))[0]).toContain('group or others may access (mode 0644)');
  });

  it('a file others may read is refused, naming the path and the fix', () => {
    const path = secretFile('open.secret', `${SECRET}\n`, 0o644);
    expect(problems(withKey('{ file: ~/open.secret }'))).toEqual([
      `vm.yaml:6:12: the secret of key "lan" comes from ${path}, which group or others may access (mode 0644); run \`chmod 600 ${path}\` (at /services/livekit/keys/lan)`,
    ]);
  });

  it('group access is refused too (0640), and so is group write (0620)', () => {
    secretFile('group.secret', `${SECRET}\n`, 0o640);
    expect(problems(withKey('{ file: ~/group.secret }'))[0]).toContain('(mode 0640); run `chmod 600');
    secretFile('gw.secret', `${SECRET}\n`, 0o620);
    expect(problems(withKey('{ file: ~/gw.secret }'))[0]).toContain('(mode 0620)');
  });

  it('a missing file says how to create it', () => {
    const path = join(home, '.config', 'voicemode', 'nothing.secret');
    expect(problems(withKey('{ file: ~/.config/voicemode/nothing.secret }'))).toEqual([
      `vm.yaml:6:12: the secret of key "lan" comes from ${path}, which does not exist; write the secret into it (one line) and run \`chmod 600 ${path}\` (at /services/livekit/keys/lan)`,
    ]);
  });

  it('a directory, a FIFO, a huge file, an empty one, two lines or non-UTF-8 bytes are refused', () => {
    mkdirSync(join(home, 'dir.secret'));
    expect(problems(withKey('{ file: ~/dir.secret }'))[0]).toContain('which is a directory, not a file');
    execFileSync('mkfifo', ['-m', '600', join(home, 'fifo.secret')]);
    const started = performance.now();
    expect(problems(withKey('{ file: ~/fifo.secret }'))[0]).toContain('which is not a regular file');
    expect(performance.now() - started).toBeLessThan(1000); // a FIFO with no writer must not block
    secretFile('big.secret', 'x'.repeat(MAX_SECRET_FILE_BYTES + 1));
    expect(problems(withKey('{ file: ~/big.secret }'))[0]).toContain(`which is ${MAX_SECRET_FILE_BYTES + 1} bytes; a secret file holds one line`);
    secretFile('empty.secret', '\n');
    expect(problems(withKey('{ file: ~/empty.secret }'))[0]).toContain('which is empty');
    secretFile('two.secret', `${SECRET}\n\n`);
    expect(problems(withKey('{ file: ~/two.secret }'))[0]).toContain('which holds more than one line or a control character');
    secretFile('latin1.secret', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    expect(problems(withKey('{ file: ~/latin1.secret }'))[0]).toContain('which is not UTF-8 text');
  });

  it('a path under a file is reported as missing', () => {
    secretFile('plain', 'x');
    expect(problems(withKey('{ file: ~/plain/secret }'))[0]).toContain(`comes from ${join(home, 'plain', 'secret')}, which does not exist`);
  });

  it('permission denied (simulated: the tests run as root, who may read anything)', () => {
    const readSecretFile = (): ReturnType<typeof readSecretFileSync> => ({ kind: 'denied' });
    expect(problems(withKey('{ file: /srv/lk.secret }'), { HOME: home }, { readSecretFile })).toEqual([
      'vm.yaml:6:12: the secret of key "lan" comes from /srv/lk.secret, which vm may not read (permission denied); check its owner and mode (at /services/livekit/keys/lan)',
    ]);
  });

  it('~/ without HOME asks for the full path', () => {
    expect(problems(withKey('{ file: ~/lk.secret }'), {})[0]).toContain('comes from ~/lk.secret, but HOME is not set to an absolute path; write the full path');
  });

  it('the reader reports modes and kinds as they are on disk', () => {
    const path = secretFile('mode.secret', 'abc', 0o640);
    expect(readSecretFileSync(path)).toMatchObject({ kind: 'ok', mode: 0o640 });
    expect(readSecretFileSync(join(home, 'nope'))).toEqual({ kind: 'missing' });
    expect(readSecretFileSync(home)).toEqual({ kind: 'directory' });
  });
});

describe('the shape of a reference', () => {
  it('an empty mapping, both env and file, or another key are refused at the reference', () => {
    expect(problems(withKey('{}'))).toEqual([
      'vm.yaml:6:12: the secret of key "lan" must be text, { env: NAME } or { file: PATH }; got an empty mapping (at /services/livekit/keys/lan)',
    ]);
    expect(problems(withKey('{ env: A, file: /a }'))).toEqual(['vm.yaml:6:12: the secret of key "lan" takes one of env or file, not both (at /services/livekit/keys/lan)']);
  });

  it('a secret written as a key of the reference is not repeated back', () => {
    const out = problems(withKey(`{ ${SECRET}: x }`));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^vm\.yaml:6:12: the secret of key "lan" must be text, \{ env: NAME \} or \{ file: PATH \}; this mapping has another key \(allowed here: env, file\)/);
  });

  it('a relative path, or one with $ or %, is refused without showing it', () => {
    expect(problems(withKey(`{ file: ${SECRET} }`))[0]).toBe('vm.yaml:6:20: file of key "lan" must be an absolute path or start with ~/ (at /services/livekit/keys/lan/file)');
    expect(problems(withKey('{ file: /home/$USER/lk.secret }'))[0]).toContain('file of key "lan" must not contain $: vm does not expand variables');
    expect(problems(withKey('{ file: /run/%u/lk.secret }'))[0]).toContain('file of key "lan" must not contain %');
  });

  it('a secret that is a number, a list or nothing names the forms, not the value', () => {
    expect(problems(withKey('12345678901234567890123456789012'), { HOME: home }, undefined, ['12345678901234567890123456789012'])[0]).toContain(
      'the secret of key "lan" must be text, { env: NAME } or { file: PATH }; got a number (put a secret that looks like a number in quotes)',
    );
    expect(problems(withKey('[a, b]'))[0]).toContain('got a list');
    expect(problems(withKey(''))[0]).toContain('got nothing');
  });

  it('keys written as one string are refused without repeating it', () => {
    expect(problems(lk(`    keys: "${SECRET}"\n`))).toEqual(['vm.yaml:5:11: keys must be a mapping (key: value), got text (at /services/livekit/keys)']);
  });
});

describe('together with other problems', () => {
  it('an unset variable and a schema problem elsewhere are reported in one go', () => {
    const out = problems(lk('    port: "7880"\n    keys:\n      a: { env: LK_A }\n      b: { env: LK_B }\n'), { HOME: home, LK_B: SECRET });
    expect(out.map((l) => l.split(': ')[0])).toEqual(['vm.yaml:5:11', 'vm.yaml:7:10']);
  });

  it('a reference the schema refuses is not also looked up', () => {
    expect(problems(withKey('{ env: "1BAD" }'))).toHaveLength(1);
  });

  it('inline and referenced secrets mix; the model holds the resolved values', () => {
    secretFile('mix.secret', `${SECRET}-file\n`);
    const text = lk(`    keys:\n      inline: "${SECRET}-inline"\n      fromenv: { env: LK_SECRET }\n      fromfile: { file: ~/mix.secret }\n`);
    expect(entries(text, { HOME: home, LK_SECRET: `${SECRET}-env` })).toEqual({
      inline: `${SECRET}-inline`,
      fromenv: `${SECRET}-env`,
      fromfile: `${SECRET}-file`,
    });
  });

  it('the referenced secret is read again each time (nothing is cached)', () => {
    const path = secretFile('rotating.secret', `${SECRET}-one\n`);
    expect(entries(withKey('{ file: ~/rotating.secret }'))).toEqual({ lan: `${SECRET}-one` });
    writeFileSync(path, `${SECRET}-two\n`);
    expect(entries(withKey('{ file: ~/rotating.secret }'))).toEqual({ lan: `${SECRET}-two` });
  });
});

describe('resolveSecret', () => {
  it('an inline secret is itself', () => {
    expect(resolveSecret({ kind: 'inline', value: 'x' }, 'the secret', { env: {}, readFile: () => ({ kind: 'missing' }) })).toEqual({ ok: true, value: 'x' });
  });

  it('an unexpected read error is named by its code', () => {
    const r = resolveSecret({ kind: 'file', path: '/x' }, 'the secret of key "k"', { env: {}, readFile: () => ({ kind: 'error', code: 'EIO' }) });
    expect(r).toEqual({ ok: false, message: 'the secret of key "k" comes from /x, which cannot be read (EIO)' });
  });
});
