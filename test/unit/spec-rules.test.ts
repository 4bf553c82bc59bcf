// Cross-field rules: what a user sees when values are each fine but do not fit together.

import { livekitOf } from '../helpers/desired.js';
import { describe, expect, it } from 'vitest';
import { SpecError, formatProblem } from '../../src/errors.js';
import { validateText } from '../../src/spec/load.js';

function problems(text: string, env: Record<string, string | undefined> = { HOME: '/home/u' }): string[] {
  try {
    validateText(text, 'vm.yaml', env);
  } catch (e) {
    if (e instanceof SpecError) return e.problems.map(formatProblem);
    throw e;
  }
  return [];
}

const lk = (body: string): string => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n${body}`;

describe('RTC port range', () => {
  it('must not be empty or reversed (reported at the end the user wrote)', () => {
    expect(problems(lk('    rtc:\n      port_range_start: 60000\n      port_range_end: 50000\n'))).toEqual([
      'vm.yaml:7:23: port_range_start 60000 must be below port_range_end 50000 (at /services/livekit/rtc/port_range_end)',
    ]);
  });

  it('a start above the default end is reported at the start and names the default', () => {
    expect(problems(lk('    rtc: { port_range_start: 61000 }\n'))).toEqual([
      'vm.yaml:5:30: port_range_start 61000 must be below port_range_end 60000 (the default) (at /services/livekit/rtc/port_range_start)',
    ]);
  });

  it('equal start and end is refused', () => {
    expect(problems(lk('    rtc: { port_range_start: 50000, port_range_end: 50000 }\n'))).toHaveLength(1);
  });
});

describe('port and tcp_port against the RTC range', () => {
  it('port inside the range is reported at port', () => {
    expect(problems(lk('    port: 55000\n'))).toEqual([
      'vm.yaml:5:11: port 55000 is inside the RTC port range 50000-60000; move one of them (at /services/livekit/port)',
    ]);
  });

  it('tcp_port inside the range is reported at tcp_port', () => {
    expect(problems(lk('    rtc:\n      tcp_port: 50000\n'))).toEqual([
      'vm.yaml:6:17: tcp_port 50000 is inside the RTC port range 50000-60000; move one of them (at /services/livekit/rtc/tcp_port)',
    ]);
  });

  it('a range moved over the default ports reports both at the range', () => {
    expect(problems(lk('    rtc:\n      port_range_start: 7000\n      port_range_end: 8000\n'))).toEqual([
      'vm.yaml:6:25: port 7880 (the default) is inside the RTC port range 7000-8000; move one of them (at /services/livekit/rtc/port_range_start)',
      'vm.yaml:6:25: tcp_port 7881 (the default) is inside the RTC port range 7000-8000; move one of them (at /services/livekit/rtc/port_range_start)',
    ]);
  });

  it('the boundaries count as inside', () => {
    expect(problems(lk('    port: 60000\n'))).toHaveLength(1);
    expect(problems(lk('    port: 60001\n'))).toEqual([]);
  });

  it('tcp_port equal to port is refused', () => {
    expect(problems(lk('    port: 7881\n'))).toEqual([
      'vm.yaml:5:11: tcp_port 7881 (the default) is the same as port 7881; they must differ (at /services/livekit/port)',
    ]);
    expect(problems(lk('    rtc: { tcp_port: 7880 }\n'))[0]).toMatch(/^vm\.yaml:5:22: tcp_port 7880 is the same as port 7880 \(the default\)/);
  });
});

describe('base_url', () => {
  it('plain http to another host is refused by the URL policy', () => {
    expect(problems(lk('    install:\n      base_url: http://mirror.example.com/livekit\n'))).toEqual([
      'vm.yaml:6:17: base_url is not acceptable: http:// is only allowed for 127.0.0.1 or localhost (got mirror.example.com); use https:// (at /services/livekit/install/base_url)',
    ]);
  });

  it('credentials in the URL are refused', () => {
    expect(problems(lk('    install:\n      base_url: https://user:pw@example.com/\n'))[0]).toContain('base_url must not carry credentials');
  });

  it('http to localhost (a local mirror) is accepted', () => {
    expect(problems(lk('    install:\n      base_url: http://127.0.0.1:8080/releases\n'))).toEqual([]);
  });

  it('a non-http scheme is reported once, by the schema', () => {
    expect(problems(lk('    install:\n      base_url: ftp://example.com/\n'))).toEqual([
      'vm.yaml:6:17: base_url must start with https:// (got "ftp://example.com/") (at /services/livekit/install/base_url)',
    ]);
  });
});

describe('other checks that need code', () => {
  it('version is required for the release method (the default)', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    install: { method: release }\n')[0]).toMatch(/^vm\.yaml:3:3: missing key "version" in livekit/);
  });

  it('version is optional with method: path', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    install: { method: path, path: /opt/lk/livekit-server }\n')).toEqual([]);
  });

  it('a malformed IPv6 address is refused', () => {
    expect(problems(lk('    bind_addresses: ["::1", "1::2::3"]\n'))).toEqual([
      'vm.yaml:5:29: bind_addresses[1] is not a valid IP address (got "1::2::3") (at /services/livekit/bind_addresses/1)',
    ]);
  });

  it('a health timeout of 0 or over an hour is refused', () => {
    expect(problems(lk('    health: { timeout: 0ms }\n'))[0]).toContain('timeout must be longer than 0 and at most 1 hour (got "0ms")');
    expect(problems(lk('    health: { timeout: 61m }\n'))).toHaveLength(1);
    expect(problems(lk('    health: { timeout: 3601 }\n'))[0]).toContain('timeout must be at most 3600');
    expect(problems(lk('    health: { timeout: 0.5 }\n'))).toEqual([]);
  });

  it('~/ in install.path needs HOME', () => {
    const text = 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: ~/bin/livekit-server }\n';
    expect(problems(text, {})).toEqual([
      'vm.yaml:4:36: path starts with ~/ but HOME is not set to an absolute path; write the full path (at /services/livekit/install/path)',
    ]);
    expect(livekitOf(validateText(text, 'vm.yaml', { HOME: '/home/u' }))?.install).toEqual({ method: 'path', path: '/home/u/bin/livekit-server' });
  });

  it('schema problems and rule problems are reported together', () => {
    const out = problems(lk('    port: 55000\n    logging: { level: loud }\n'));
    expect(out).toHaveLength(2);
  });
});
