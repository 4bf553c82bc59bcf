// Taking a service away and reading a file whose secrets are not at hand: `state: absent` needs
// no version, an empty `services:` means none, `vm init` leaves autostart to follow the state,
// and the read-only load (vm status) records secret problems instead of refusing the file.

import { livekitOf } from '../helpers/desired.js';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpecError, formatProblem } from '../../src/errors.js';
import { initFileText } from '../../src/spec/default.js';
import { UNRESOLVED_SECRET, loadDesired, loadDesiredForReading, validateText } from '../../src/spec/load.js';

const home = mkdtempSync(join(tmpdir(), 'vm-spec-removal-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const env = { HOME: home };
const SECRET = 'Zq8vN3kP1xR7mT5wB2cY9dF4gH6jL0sA';

function problems(text: string): string[] {
  try {
    validateText(text, 'vm.yaml', env);
  } catch (e) {
    if (e instanceof SpecError) return e.problems.map(formatProblem);
    throw e;
  }
  return [];
}

function servicesFile(name: string, text: string): string {
  const path = join(home, name);
  writeFileSync(path, text);
  return path;
}

describe('state: absent', () => {
  it('validates without a version: nothing is to be installed', () => {
    const d = validateText('version: 1\nservices:\n  livekit:\n    state: absent\n', 'vm.yaml', env);
    expect(livekitOf(d)?.state).toBe('absent');
    expect(livekitOf(d)?.version).toBe('');
    expect(livekitOf(d)?.install.method).toBe('release');
  });

  it('still checks a version that is written', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    state: absent\n    version: v1.9\n')[0]).toMatch(/^vm\.yaml:5:14: /);
  });

  it('running and stopped still need one for a release install', () => {
    for (const state of ['running', 'stopped']) {
      expect(problems(`version: 1\nservices:\n  livekit:\n    state: ${state}\n`)).toEqual([
        'vm.yaml:3:3: missing key "version" in livekit (needed with install method release, the default; or set install.method: path) (at /services/livekit/version)',
      ]);
    }
  });
});

describe('an empty services:', () => {
  it('means no services, like services: {}', () => {
    for (const text of ['version: 1\nservices:\n', 'version: 1\nservices: {}\n', 'version: 1\nservices: ~\n']) {
      expect(validateText(text, 'vm.yaml', env).services).toEqual({});
    }
  });

  it('other non-mappings are still refused, without mentioning null', () => {
    expect(problems('version: 1\nservices: 3\n')).toEqual(['vm.yaml:2:11: services must be a mapping (key: value), got 3 (at /services)']);
  });
});

describe('vm init file and autostart', () => {
  const text = initFileText('/opt/vm/schemas/voicemode.services.schema.json');

  it('leaves autostart commented, so the default follows the state', () => {
    expect(text).toMatch(/^ {4}# autostart: true +# start LiveKit when you log in\. Default: true$/m);
    expect(text).not.toMatch(/^ {4}autostart:/m);
  });

  it('with state: stopped written in, LiveKit is not enabled at login', () => {
    const stopped = text.replace(/^( {4}state:) running/m, '$1 stopped');
    expect(stopped).not.toBe(text);
    const lk = validateText(stopped, 'voicemode.services.yaml', env).services.livekit;
    expect(lk?.state).toBe('stopped');
    expect(lk?.autostart).toBe(false);
  });

  it('as written, running and enabled at login', () => {
    const lk = validateText(text, 'voicemode.services.yaml', env).services.livekit;
    expect([lk?.state, lk?.autostart]).toEqual(['running', true]);
  });
});

describe('loading for reading (vm status)', () => {
  const withKeys = (keys: string): string => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    keys:\n${keys}`;

  it('an unset { env } secret is a located problem, not a refusal; the rest is loaded', async () => {
    const file = servicesFile('env.yaml', withKeys('      ok: "' + SECRET + '"\n      lan: { env: VM_TEST_UNSET }\n'));
    const r = await loadDesiredForReading({ file, cwd: home, env });
    expect(r.secretProblems.map(formatProblem)).toEqual([
      'env.yaml:7:12: the secret of key "lan" comes from the environment variable VM_TEST_UNSET, which is not set; set it where vm runs (plan and apply read it each time) (at /services/livekit/keys/lan)',
    ]);
    const keys = livekitOf(r.desired)?.keys;
    expect(keys).toEqual({ kind: 'declared', entries: { ok: SECRET, lan: UNRESOLVED_SECRET } });
    expect(r.desired.secretEnv).toEqual(['VM_TEST_UNSET']);
    // plan and apply load strictly: the same file is refused.
    await expect(loadDesired({ file, cwd: home, env })).rejects.toThrow(/VM_TEST_UNSET, which is not set/);
  });

  it('a secret file others may read is a located problem naming the fix, never the secret', async () => {
    const secret = join(home, 'open.secret');
    writeFileSync(secret, `${SECRET}\n`);
    chmodSync(secret, 0o644);
    const file = servicesFile('file.yaml', withKeys(`      lan: { file: ${secret} }\n`));
    const r = await loadDesiredForReading({ file, cwd: home, env });
    expect(r.secretProblems).toHaveLength(1);
    const line = formatProblem(r.secretProblems[0]!);
    expect(line).toMatch(/^file\.yaml:6:12: .*mode 0644\); run `chmod 600 .*open\.secret`/);
    expect(line).not.toContain(SECRET);
    expect(JSON.stringify(r.desired)).not.toContain(SECRET);
  });

  it('other problems are still refused, the secret problems listed with them', async () => {
    const file = servicesFile('both.yaml', withKeys('      lan: { env: VM_TEST_UNSET }\n    port: 0\n'));
    const err = await loadDesiredForReading({ file, cwd: home, env }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SpecError);
    expect((err as SpecError).problems.map((p) => p.pointer)).toEqual(['/services/livekit/keys/lan', '/services/livekit/port']);
  });

  it('a file whose secrets all resolve has no problems and the real secrets', async () => {
    const file = servicesFile('fine.yaml', withKeys('      lan: { env: VM_TEST_SET }\n'));
    const r = await loadDesiredForReading({ file, cwd: home, env: { ...env, VM_TEST_SET: SECRET } });
    expect(r.secretProblems).toEqual([]);
    expect(livekitOf(r.desired)?.keys).toEqual({ kind: 'declared', entries: { lan: SECRET } });
  });
});
