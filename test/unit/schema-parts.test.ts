// Each kind brings its part of the file's schema in its own folder (src/services/KIND/schema.json);
// scripts/gen-schema.mjs assembles them with src/spec/schema.base.json into the committed
// schemas/voicemode.services.schema.json, which editors read. What a user sees of that: the
// committed file is what the parts make, every kind vm runs has a part, and a kind's entry is
// checked against its own part under any name it may take.

import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SpecError, formatProblem } from '../../src/errors.js';
import { validateText } from '../../src/spec/load.js';
import { KIND_NAMES, PRESET_NAMES } from '../../src/services/registry.js';

const root = join(import.meta.dirname, '..', '..');
const gen = (await import(pathToFileURL(join(root, 'scripts', 'gen-schema.mjs')).href)) as {
  schemaText(): string;
  kindParts(): Array<{ kind: string; byName: boolean; anyName: boolean }>;
};

function problems(text: string): string[] {
  try {
    validateText(text, 'vm.yaml', { HOME: '/home/u' });
  } catch (e) {
    if (e instanceof SpecError) return e.problems.map(formatProblem);
    throw e;
  }
  return [];
}

describe('the schema is assembled from the kinds’ parts', () => {
  it('the committed schema is what the parts make (node scripts/gen-schema.mjs rewrites it)', () => {
    expect(readFileSync(join(root, 'schemas', 'voicemode.services.schema.json'), 'utf8')).toBe(gen.schemaText());
  });

  it('every registered kind has its part in its folder, and every part is a registered kind', () => {
    const folders = readdirSync(join(root, 'src', 'services'), { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(root, 'src', 'services', e.name, 'schema.json')));
    expect(folders.map((e) => e.name).sort()).toEqual([...KIND_NAMES].sort());
    expect(gen.kindParts().map((p) => p.kind)).toEqual(expect.arrayContaining([...KIND_NAMES]));
  });

  it('the kinds vm knows by name are the parts that say byName, LiveKit first', () => {
    expect(PRESET_NAMES).toEqual(gen.kindParts().filter((p) => p.byName).map((p) => p.kind));
    expect(PRESET_NAMES[0]).toBe('livekit');
  });
});

describe('a kind under another name', () => {
  it('kind: redis under another name is a Redis server, checked as one', () => {
    const d = validateText('version: 1\nservices:\n  cache:\n    kind: redis\n    port: 6390\n', 'vm.yaml', { HOME: '/home/u' });
    expect(d.services['cache']).toMatchObject({ kind: 'redis', name: 'cache', port: 6390 });
    expect(problems('version: 1\nservices:\n  cache:\n    kind: redis\n    port: 6390\n    command: [/bin/true]\n')).toEqual([
      'vm.yaml:6:5: unknown key "command"; allowed here: kind, state, autostart, remove_data, port, bind_addresses, password, health, logging, install (at /services/cache/command)',
    ]);
  });

  it('a second whisper under another name takes whisper’s fields', () => {
    const d = validateText('version: 1\nservices:\n  whisper-de:\n    kind: whisper\n    port: 2023\n    language: de\n', 'vm.yaml', { HOME: '/home/u' });
    expect(d.services['whisper-de']).toMatchObject({ kind: 'whisper', port: 2023, command: expect.arrayContaining(['--language', 'de', '--port', '2023']) });
  });

  it('its kind’s rules and default port follow it: a second whisper on whisper’s port, an open redis without a password', () => {
    expect(problems('version: 1\nservices:\n  whisper: {}\n  whisper-de:\n    kind: whisper\n')).toEqual(['vm.yaml:5:5: whisper-de and whisper both use port 2022; give one of them another port (at /services/whisper-de)']);
    expect(problems('version: 1\nservices:\n  cache:\n    kind: redis\n    bind_addresses: [0.0.0.0]\n')).toEqual([
      'vm.yaml:5:22: cache would listen on 0.0.0.0 (bind_addresses[0], every interface) without a password: anyone who can reach it could read and change it; set password (text, { env: NAME } or { file: PATH }), or listen on 127.0.0.1 only (at /services/cache/bind_addresses/0)',
    ]);
  });

  it('a service cannot take the name of vm watch’s own unit', () => {
    expect(problems('version: 1\nservices:\n  watch:\n    kind: command\n    command: [/bin/w]\n    port: 9000\n')).toEqual([
      "vm.yaml:3:3: a service cannot be named watch: voicemode-watch.service is vm watch's own unit (vm watch --install-service); choose another name (at /services/watch)",
    ]);
  });

  it('kind: livekit is only the service named livekit: another name is told which kinds it can be', () => {
    expect(problems('version: 1\nservices:\n  lk2:\n    kind: livekit\n')).toEqual(['vm.yaml:4:11: kind must be one of whisper, kokoro, command, redis; got "livekit" (at /services/lk2/kind)']);
  });

  it('an unknown key in a command service lists the keys a command takes', () => {
    expect(problems('version: 1\nservices:\n  my-llm:\n    kind: command\n    command: [/bin/llm]\n    port: 8080\n    working_directory: /tmp\n')).toEqual([
      'vm.yaml:7:5: unknown key "working_directory" (did you mean "working_dir"?); allowed here: kind, state, autostart, remove_data, port, bind_addresses, health, logging, env, allow_insecure, command, working_dir (at /services/my-llm/working_directory)',
    ]);
  });

  it('a redis health check takes a timeout only: it is PING, not an HTTP path', () => {
    expect(problems('version: 1\nservices:\n  redis:\n    health: { path: /health }\n')).toEqual(['vm.yaml:4:15: unknown key "path"; allowed here: timeout (at /services/redis/health/path)']);
  });
});
