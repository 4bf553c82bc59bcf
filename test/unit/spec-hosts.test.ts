// Host overrides: glob matching, merge order, located problems, and the Redis rules.

import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/errors.js';
import type { LiveKitDesired } from '../../src/services/livekit/model.js';
import { hostMatches } from '../../src/spec/hosts.js';
import { validateText } from '../../src/spec/load.js';
import { redact } from '../../src/ops/render.js';
import { respReplies, splitAddress } from '../../src/resources/redis-ping.js';

const env = { HOME: '/home/ada', REDIS_PASSWORD: 'from-the-environment-0123456789' };
const BASE = [
  'version: 1',
  'services:',
  '  livekit:',
  '    install: { method: path, path: /opt/lk/livekit-server }',
  '    port: 7880',
  '    bind_addresses: [127.0.0.1]',
  '    keys: { main: "0123456789abcdef0123456789abcdef01" }',
].join('\n');

function load(text: string, host: string): LiveKitDesired & { host?: unknown } {
  const d = validateText(text, 'vm.yaml', env, { hostname: host });
  return { ...(d.services['livekit'] as LiveKitDesired), host: d.host };
}

function problems(text: string, host: string): string[] {
  try {
    validateText(text, 'vm.yaml', env, { hostname: host });
    return [];
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    return e.problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
  }
}

describe('host globs', () => {
  it('match the whole name or the short name, * and ?, case-insensitively', () => {
    expect(hostMatches('homeserver', 'homeserver.tail1234.ts.net')).toBe(true);
    expect(hostMatches('homeserver.tail1234.ts.net', 'homeserver.tail1234.ts.net')).toBe(true);
    expect(hostMatches('laptop-*', 'laptop-ada')).toBe(true);
    expect(hostMatches('laptop-?', 'laptop-12')).toBe(false);
    expect(hostMatches('HOME*', 'homeserver')).toBe(true);
    expect(hostMatches('home.server', 'homeXserver')).toBe(false);
    expect(hostMatches('desktop', 'laptop')).toBe(false);
  });
});

describe('merging hosts entries over the base', () => {
  const text = [
    BASE,
    'hosts:',
    '  "home*":',
    '    services:',
    '      livekit:',
    '        port: 7990',
    '        bind_addresses: [127.0.0.1, ::1]',
    '        region: first',
    '  "homeserver":',
    '    services:',
    '      livekit:',
    '        region: second',
    '        bind_addresses: [::1]',
    '        redis: { address: "127.0.0.1:6379", password: { env: REDIS_PASSWORD } }',
    '',
  ].join('\n');

  it('applies matching entries in file order: later wins, lists replace, the rest stays', () => {
    const lk = load(text, 'homeserver');
    expect(lk.port).toBe(7990);
    expect(lk.region).toBe('second');
    expect(lk.bindAddresses).toEqual(['::1']);
    expect(lk.keys).toEqual({ kind: 'declared', entries: { main: '0123456789abcdef0123456789abcdef01' } });
    expect(lk.redis).toEqual({ address: '127.0.0.1:6379', password: 'from-the-environment-0123456789', db: 0, tls: false });
    expect(lk.host).toEqual({ name: 'homeserver', applied: ['home*', 'homeserver'] });
  });

  it('leaves the base alone on a host no entry matches', () => {
    const lk = load(text, 'laptop');
    expect(lk.port).toBe(7880);
    expect(lk.redis).toBeUndefined();
    expect(lk.host).toEqual({ name: 'laptop', applied: [] });
  });

  it('reports a problem an override brings at the override line', () => {
    const bad = [BASE, 'hosts:', '  laptop:', '    services:', '      livekit:', '        port: 70000', ''].join('\n');
    expect(problems(bad, 'laptop')).toEqual(['12:15: port must be at most 65535 (got 70000)']);
    expect(problems(bad, 'desktop')).toEqual([]);
  });

  it('checks the shape of hosts: itself', () => {
    expect(problems(`${BASE}\nhosts:\n  laptop:\n    servics: {}\n`, 'x')[0]).toMatch(/^10:5: unknown key "servics" \(did you mean "services"\?\)/);
  });
});

describe("LiveKit's redis", () => {
  it('beyond loopback without a password is refused, at the address', () => {
    expect(problems(`${BASE}\n    redis: { address: "homeserver.ts.net:6379" }\n`, 'x')).toEqual([
      '8:23: redis.address "homeserver.ts.net:6379" is beyond loopback, but no redis.password is given: anyone who can reach that Redis could read and change LiveKit\'s rooms; set redis.password (text, { env: NAME } or { file: PATH }) and the same requirepass on the Redis',
    ]);
    expect(problems(`${BASE}\n    redis: { address: "localhost:6379" }\n`, 'x')).toEqual([]);
  });

  it('an unset password variable is located and names the variable, never a value', () => {
    const p = problems(`${BASE}\n    redis: { address: "127.0.0.1:6379", password: { env: NOT_SET } }\n`, 'x');
    expect(p).toEqual(['8:51: the Redis password comes from the environment variable NOT_SET, which is not set; set it where vm runs (plan and apply read it each time)']);
  });

  it('render redacts every secret by field', () => {
    expect(redact({ keys: { entries: { a: 's1' } }, redis: { password: 'p', address: 'x:1' }, fallback: { apiSecret: { ok: true, value: 's2' } } })).toEqual({
      keys: { entries: { a: '(sensitive)' } },
      redis: { password: '(sensitive)', address: 'x:1' },
      fallback: { apiSecret: '(sensitive)' },
    });
  });
});

describe('RESP', () => {
  it('reads only complete reply lines, and splits host:port', () => {
    expect(respReplies('+OK\r\n-WRONGPASS invalid\r\n+PO')).toEqual(['+OK', '-WRONGPASS invalid']);
    expect(splitAddress('[::1]:6379')).toEqual({ host: '::1', port: 6379 });
    expect(splitAddress('redis.ts.net:6380')).toEqual({ host: 'redis.ts.net', port: 6380 });
    expect(splitAddress('no-port')).toBeUndefined();
  });
});
