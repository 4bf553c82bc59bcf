// Safe by default: off loopback, vm refuses a weak secret and dev mode, unless the file says
// allow_insecure: true, and then every plan warns (exposureWarnings).

import { describe, expect, it } from 'vitest';
import { SpecError, formatProblem } from '../../src/errors.js';
import type { DesiredState } from '../../src/model.js';
import { defaultDesired } from '../../src/spec/default.js';
import { isLoopback } from '../../src/spec/exposure.js';
import { exposureWarnings } from '../../src/services/livekit/exposure-rules.js';
import { livekitOf } from '../helpers/desired.js';
import { validateText } from '../../src/spec/load.js';

const LONG = 'Zq8vN3kP1xR7mT5wB2cY9dF4gH6jL0sA'; // 32 characters
const SHORT = LONG.slice(0, 31);
const env = { HOME: '/home/u', LK_SHORT: SHORT };
const lk = (body: string): string => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n${body}`;

function problems(text: string): string[] {
  try {
    validateText(text, 'vm.yaml', env);
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    const out = e.problems.map(formatProblem);
    expect(out.join('\n')).not.toContain(SHORT);
    return out;
  }
  return [];
}

const desired = (text: string): DesiredState => validateText(text, 'vm.yaml', env);

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['100.101.102.103', false], // Tailscale
    ['192.168.1.20', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::2', false],
    ['fe80::1', false],
    ['::ffff:192.168.1.1', false],
    ['localhost', false], // not an address: never trusted as loopback
  ])('%s → %s', (address, loopback) => {
    expect(isLoopback(address)).toBe(loopback);
  });
});

describe('a weak secret off loopback is refused', () => {
  it('a short inline secret with a LAN address, located at the secret, with the reason and the fix', () => {
    expect(problems(lk(`    bind_addresses: [127.0.0.1, 192.168.1.20]\n    keys:\n      lan: "${SHORT}"\n`))).toEqual([
      'vm.yaml:7:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on 192.168.1.20 (bind_addresses[1], not loopback): ' +
        'anyone who can reach it could guess the secret; use a random secret of 32 or more characters (openssl rand -base64 32), ' +
        'listen on 127.0.0.1 only, or set allow_insecure: true (at /services/livekit/keys/lan)',
    ]);
  });

  it('32 characters are enough', () => {
    expect(problems(lk(`    bind_addresses: [192.168.1.20]\n    keys: { lan: "${LONG}" }\n`))).toEqual([]);
  });

  it('0.0.0.0 and :: are every interface', () => {
    expect(problems(lk(`    bind_addresses: [0.0.0.0]\n    keys: { lan: "${SHORT}" }\n`))[0]).toContain('LiveKit listens on 0.0.0.0 (bind_addresses[0], every interface)');
    expect(problems(lk(`    bind_addresses: ["::"]\n    keys: { lan: "${SHORT}" }\n`))[0]).toContain('LiveKit listens on :: (bind_addresses[0], every interface)');
  });

  it('a Tailscale address counts as a network', () => {
    expect(problems(lk(`    bind_addresses: [100.101.102.103]\n    keys: { lan: "${SHORT}" }\n`))[0]).toContain('100.101.102.103 (bind_addresses[0], not loopback)');
  });

  it('a secret from the environment is checked once read, and located at { env: ... }', () => {
    expect(problems(lk('    bind_addresses: [192.168.1.20]\n    keys: { lan: { env: LK_SHORT } }\n'))[0]).toMatch(
      /^vm\.yaml:6:18: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on 192\.168\.1\.20/,
    );
  });

  it("LiveKit's dev key and secret are refused, and so is that secret under any key", () => {
    const out = problems(lk('    bind_addresses: [0.0.0.0]\n    keys:\n      devkey: secret\n      other: secret\n'));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^vm\.yaml:7:15: the secret of key "devkey" is LiveKit's well-known development secret, but LiveKit listens on 0\.0\.0\.0 .*use your own random secret/);
    expect(out[1]).toMatch(/^vm\.yaml:8:14: the secret of key "other" is LiveKit's well-known development secret/);
  });

  it('more than one open address is mentioned', () => {
    expect(problems(lk(`    bind_addresses: [192.168.1.20, 10.0.0.2, 127.0.0.1]\n    keys: { lan: "${SHORT}" }\n`))[0]).toContain('192.168.1.20 (bind_addresses[0], not loopback) and 1 more address:');
  });

  it('on loopback only, a short secret is allowed (the planner warns that LiveKit will complain)', () => {
    expect(problems(lk(`    bind_addresses: [127.0.0.1, "::1"]\n    keys: { lan: "${SHORT}", devkey: secret }\n`))).toEqual([]);
  });

  it('the generated key is fine anywhere: it is random and 43 characters', () => {
    expect(problems(lk('    bind_addresses: [0.0.0.0]\n'))).toEqual([]);
  });
});

describe('dev: true', () => {
  it('off loopback is refused at dev, with the reason', () => {
    expect(problems(lk('    bind_addresses: [192.168.1.20]\n    dev: true\n'))).toEqual([
      "vm.yaml:6:10: dev: true serves LiveKit's /debug/pprof profiling endpoints, but LiveKit listens on 192.168.1.20 (bind_addresses[0], not loopback): " +
        'anyone who can reach it could use them; remove dev: true, listen on 127.0.0.1 only, or set allow_insecure: true (at /services/livekit/dev)',
    ]);
  });

  it('on loopback, or false, is allowed', () => {
    expect(problems(lk('    dev: true\n'))).toEqual([]);
    expect(problems(lk('    bind_addresses: [0.0.0.0]\n    dev: false\n'))).toEqual([]);
  });

  it('must be true or false', () => {
    expect(problems(lk('    dev: yes\n'))).toEqual(['vm.yaml:5:10: dev must be true or false, got "yes" (at /services/livekit/dev)']);
  });
});

describe('allow_insecure: true', () => {
  const insecure = lk(`    bind_addresses: [0.0.0.0]\n    keys: { lan: "${SHORT}", devkey: secret }\n    dev: true\n    allow_insecure: true\n`);

  it('lets a weak secret and dev mode face the network', () => {
    expect(problems(insecure)).toEqual([]);
  });

  it('and every plan then warns, without the secrets', () => {
    const lkd = livekitOf(desired(insecure));
    const warnings = lkd === undefined ? [] : exposureWarnings(lkd);
    expect(warnings).toEqual([
      'LiveKit listens on 0.0.0.0 (bind_addresses[0], every interface) and the secret of key "lan" is shorter than 32 characters (allowed by allow_insecure: true)',
      `LiveKit listens on 0.0.0.0 (bind_addresses[0], every interface) and the secret of key "devkey" is LiveKit's well-known development secret (allowed by allow_insecure: true)`,
      'LiveKit listens on 0.0.0.0 (bind_addresses[0], every interface) in dev mode, which serves /debug/pprof (allowed by allow_insecure: true)',
    ]);
    expect(warnings.join('\n')).not.toContain(SHORT);
  });

  it('must be true or false', () => {
    expect(problems(lk('    allow_insecure: 1\n'))).toEqual(['vm.yaml:5:21: allow_insecure must be true or false, got 1 (at /services/livekit/allow_insecure)']);
  });
});

describe('exposureWarnings', () => {
  const specWarnings = (d: DesiredState): string[] => {
    const l = livekitOf(d);
    return l === undefined ? [] : exposureWarnings(l);
  };
  it('the built-in default warns about nothing', () => {
    expect(specWarnings(defaultDesired())).toEqual([]);
  });

  it('loopback with a short secret, and a LAN with a long one, warn about nothing', () => {
    expect(specWarnings(desired(lk(`    keys: { lan: "${SHORT}" }\n`)))).toEqual([]);
    expect(specWarnings(desired(lk(`    bind_addresses: [192.168.1.20]\n    keys: { lan: "${LONG}" }\n`)))).toEqual([]);
  });

  it('a file without services warns about nothing', () => {
    expect(specWarnings(desired('version: 1\n'))).toEqual([]);
  });
});
