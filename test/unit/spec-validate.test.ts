// What a user sees for a file the schema rejects: one located line per problem, in file order.

import { describe, expect, it } from 'vitest';
import { SpecError, formatProblem } from '../../src/errors.js';
import { validateText } from '../../src/spec/load.js';

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

const lk = (body: string): string => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n${body}`;

describe('unknown keys', () => {
  it('at the top level point at the key and list the allowed keys', () => {
    expect(problems('version: 1\nservces: {}\n')).toEqual([
      'vm.yaml:2:1: unknown key "servces" (did you mean "services"?); allowed here: version, supervisor, services, clients, hosts (at /servces)',
    ]);
  });

  it('nested in livekit point at the key, not at livekit', () => {
    expect(problems(lk('    rtc:\n      tcp_prot: 7881\n'))).toEqual([
      'vm.yaml:6:7: unknown key "tcp_prot" (did you mean "tcp_port"?); allowed here: port_range_start, port_range_end, tcp_port, use_external_ip (at /services/livekit/rtc/tcp_prot)',
    ]);
  });

  it('inside a flow mapping point at the key', () => {
    expect(problems(lk('    room: { auto_create: true, max_participants: 5 }\n'))[0]).toMatch(
      /^vm\.yaml:5:32: unknown key "max_participants"; allowed here: auto_create, empty_timeout/,
    );
  });

  it('a service with a name vm does not know needs kind: command, in one line', () => {
    expect(problems('version: 1\nservices:\n  memcached: {}\n')).toEqual(['vm.yaml:3:3: "memcached" is not a service vm knows by name (livekit, whisper, kokoro, redis): declare it with kind: command, its command and its port (at /services/memcached)']);
  });
});

describe('wrong types and values', () => {
  it('a port written as text says it must be a whole number', () => {
    expect(problems(lk('    port: "7880"\n'))).toEqual(['vm.yaml:5:11: port must be a whole number, got "7880" (at /services/livekit/port)']);
  });

  it('yes is not a boolean in YAML 1.2', () => {
    expect(problems(lk('    autostart: yes\n'))).toEqual(['vm.yaml:5:16: autostart must be true or false, got "yes" (at /services/livekit/autostart)']);
  });

  it('a numeric secret asks for quotes without repeating the secret', () => {
    expect(problems(lk('    keys:\n      mykey: 0777\n'))).toEqual([
      'vm.yaml:6:14: the secret of key "mykey" must be text, { env: NAME } or { file: PATH }; got a number (put a secret that looks like a number in quotes) (at /services/livekit/keys/mykey)',
    ]);
  });

  it('livekit: with nothing after it is reported on that line', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n')).toEqual(['vm.yaml:3:3: livekit must be a mapping (key: value), got nothing (at /services/livekit)']);
  });

  it('an enum lists the allowed values and guesses a typo', () => {
    expect(problems(lk('    logging: { level: warning }\n'))).toEqual([
      'vm.yaml:5:23: level must be one of debug, info, warn, error; got "warning" (did you mean "warn"?) (at /services/livekit/logging/level)',
    ]);
  });

  it('a version that is not X.Y.Z explains the form', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    version: v1.9.0\n')).toEqual([
      'vm.yaml:4:14: version must be an exact X.Y.Z such as 1.9.0, without a leading v (got "v1.9.0") (at /services/livekit/version)',
    ]);
  });

  it('a port out of range says the limit', () => {
    expect(problems(lk('    port: 70000\n'))).toEqual(['vm.yaml:5:11: port must be at most 65535 (got 70000) (at /services/livekit/port)']);
  });

  it('a host name in bind_addresses is refused', () => {
    expect(problems(lk('    bind_addresses: [localhost]\n'))[0]).toMatch(/^vm\.yaml:5:22: bind_addresses\[0\] must be an IP address/);
    expect(problems(lk('    bind_addresses: [10.0.0.300]\n'))[0]).toMatch(/^vm\.yaml:5:22: bind_addresses\[0\] is not a valid IPv4 address/);
  });

  it('a relative install path asks for an absolute one', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    install:\n      method: path\n      path: bin/livekit-server\n')).toEqual([
      'vm.yaml:6:13: path must be absolute or start with ~/ (got "bin/livekit-server") (at /services/livekit/install/path)',
    ]);
  });

  it('$, quotes and backslashes in the install path are refused: they mean something in a unit', () => {
    const path = (p: string): string => `version: 1\nservices:\n  livekit:\n    install:\n      method: path\n      path: '${p}'\n`;
    expect(problems(path('/opt/$LK/livekit-server'))[0]).toMatch(/^vm\.yaml:6:13: path must not contain \$: vm does not expand variables/);
    expect(problems(path('/opt/"lk"/livekit-server'))[0]).toMatch(/^vm\.yaml:6:13: path must not contain quotes or backslashes/);
    expect(problems(path("/opt/lk''s/livekit-server"))[0]).toMatch(/path must not contain quotes or backslashes/);
    expect(problems(path('/opt/lk\\x/livekit-server'))[0]).toMatch(/path must not contain quotes or backslashes/);
    expect(problems('version: 1\nservices:\n  livekit:\n    install:\n      method: path\n      path: "/opt/lk\\n/livekit-server"\n')[0]).toMatch(
      /path must not contain newlines or control characters/,
    );
  });

  it('spaces are fine in the install path (macOS has them)', () => {
    expect(() => validateText('version: 1\nservices:\n  livekit:\n    install: { method: path, path: "/Users/a/Application Support/livekit-server" }\n', 'vm.yaml', env)).not.toThrow();
  });

  it('a base_url with a space or newline is refused', () => {
    expect(problems(lk('    install:\n      base_url: "https://example.com/a b"\n'))).toEqual([
      'vm.yaml:6:17: base_url must not contain spaces, newlines or control characters (at /services/livekit/install/base_url)',
    ]);
    expect(problems(lk('    install:\n      base_url: "https://example.com/\\nx"\n'))[0]).toContain('base_url must not contain spaces, newlines or control characters');
  });

  it('a % in the install path is refused because systemd would expand it', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    install:\n      method: path\n      path: /opt/100%/livekit-server\n')[0]).toMatch(
      /^vm\.yaml:6:13: path must not contain %/,
    );
  });
});

describe('required keys and install methods', () => {
  it('an empty file says what it needs', () => {
    expect(problems('# nothing yet\n')).toEqual(['vm.yaml:1:1: the file is empty; it needs at least `version: 1`']);
  });

  it('a missing version points at livekit and says why it is needed', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    port: 7880\n')).toEqual([
      'vm.yaml:3:3: missing key "version" in livekit (needed with install method release, the default; or set install.method: path) (at /services/livekit/version)',
    ]);
  });

  it('method: path without path names the missing key; base_url is out of place there', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    install:\n      method: path\n      base_url: https://example.com\n')).toEqual([
      'vm.yaml:4:5: missing key "path" in install (needed with `method: path`) (at /services/livekit/install/path)',
      'vm.yaml:6:7: base_url is only used with `method: release` (or auto) (at /services/livekit/install/base_url)',
    ]);
  });

  it('path with the release method is out of place', () => {
    expect(problems(lk('    install:\n      path: /opt/livekit-server\n'))).toEqual([
      'vm.yaml:6:7: path is only used with `method: path` (at /services/livekit/install/path)',
    ]);
  });

  it('every supervisor, state and install method of the lifecycle is accepted', () => {
    const env = { HOME: '/home/u' };
    const a = validateText('version: 1\nsupervisor: launchd\nservices:\n  livekit:\n    version: 1.9.0\n    state: stopped\n    install: { method: brew }\n', 'vm.yaml', env);
    expect(a.supervisor).toBe('launchd');
    expect(a.services.livekit).toMatchObject({ state: 'stopped', autostart: false, install: { method: 'brew' } });
    const b = validateText('version: 1\nsupervisor: process\nservices:\n  livekit:\n    state: absent\n    remove_data: true\n    install: { method: script, script_url: "http://127.0.0.1:1/install.sh" }\n', 'vm.yaml', env);
    expect(b.services.livekit).toMatchObject({ state: 'absent', removeData: true, version: '', install: { method: 'script', scriptUrl: 'http://127.0.0.1:1/install.sh' } });
    const c = validateText('version: 1\nservices:\n  livekit:\n    version: latest\n    install: { archive: ~/lk/livekit_1.9.0_linux_amd64.tar.gz }\n', 'vm.yaml', env);
    expect(c.services.livekit).toMatchObject({ version: 'latest', install: { method: 'release', archive: '/home/u/lk/livekit_1.9.0_linux_amd64.tar.gz' } });
  });

  it('options of one install method are out of place with another', () => {
    expect(problems('version: 1\nservices:\n  livekit:\n    install: { method: brew, archive: /tmp/a.tar.gz }\n')).toEqual([
      'vm.yaml:4:30: archive is only used with `method: release` (or auto) (at /services/livekit/install/archive)',
    ]);
  });

  it('the format version must be 1, with a hint when it looks like a LiveKit version', () => {
    expect(problems('version: 1.9.0\n')[0]).toBe(
      'vm.yaml:1:10: version is the file format and must be 1 (got "1.9.0"); the LiveKit version goes under services.livekit.version (at /version)',
    );
  });

  it('keys: {} asks for a key or for leaving keys out', () => {
    expect(problems(lk('    keys: {}\n'))).toEqual([
      'vm.yaml:5:5: keys must declare at least one key, or be left out so vm generates one (at /services/livekit/keys)',
    ]);
  });

  it('a key name with a space is located at the key', () => {
    expect(problems(lk('    keys:\n      "my key": "0123456789abcdef0123456789abcdef"\n'))).toEqual([
      'vm.yaml:6:7: key name "my key" may only use letters, digits, _ and - (1 to 64 of them) (at /services/livekit/keys/my key)',
    ]);
  });
});

describe('many problems', () => {
  it('are all reported, once each, in file order', () => {
    const out = problems(
      'supervisor: runit\nextra: 1\nservices:\n  livekit:\n    prot: 7880\n    version: 1.9\n    bind_addresses: [127.0.0.1, 127.0.0.1]\n    health: { timeout: soon }\n',
    );
    expect(out.map((l) => l.split(': ')[0])).toEqual(['vm.yaml:1:1', 'vm.yaml:1:13', 'vm.yaml:2:1', 'vm.yaml:5:5', 'vm.yaml:6:14', 'vm.yaml:7:33', 'vm.yaml:8:24']);
    expect(out[0]).toContain('missing key "version"');
    expect(out[5]).toContain('bind_addresses lists "127.0.0.1" twice');
    expect(out[6]).toContain('timeout must be a duration such as 500ms, 30s or 2m');
  });

  it('never show ajv wording or stack traces', () => {
    const out = problems('version: 1\nservices:\n  livekit:\n    install: { method: path, base_url: x }\n    health: { timeout: [1] }\n').join('\n');
    expect(out).not.toMatch(/must match|boolean schema|NOT have|\bat \w+ \(/);
  });
});

describe('clients:', () => {
  it('names the problem with env_file and lk_project where they are written', () => {
    expect(problems('version: 1\nclients:\n  env_file: voicemode.env\n  lk_project: "my project"\n')).toEqual([
      'vm.yaml:3:13: env_file must be absolute or start with ~/ (got "voicemode.env") (at /clients/env_file)',
      'vm.yaml:4:15: lk_project must be letters, digits, _ and - only, as lk names projects (got "my project") (at /clients/lk_project)',
    ]);
  });

  it('normalises into the desired state, ~ expanded and lk config under HOME', () => {
    const d = validateText('version: 1\nclients: { env_file: ~/.voicemode/voicemode.env, lk_project: voicemode }\n', 'vm.yaml', env);
    expect(d.clients).toEqual({ envFile: '/home/u/.voicemode/voicemode.env', lkProject: { name: 'voicemode', configFile: '/home/u/.livekit/cli-config.yaml' } });
  });
});
