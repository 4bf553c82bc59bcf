// The test kit's services-file builder: what it writes is what vm reads back, valid for every
// kind, with each entry's maps on one line (the line numbers some tests count on).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadDesired } from '../../src/spec/load.js';
import { commandEntry, kokoroEntry, livekitEntry, redisEntry, servicesFile, whisperEntry } from '../kit/index.js';

const home = mkdtempSync(join(tmpdir(), 'vm-kit-spec-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('servicesFile and the entry builders', () => {
  const services = {
    livekit: livekitEntry({ version: '1.9.0', install: { method: 'release', base_url: 'http://127.0.0.1:1' }, port: 7880, rtcRange: [50000, 50100], tcpPort: 7881, keys: { k: { env: 'LK_SECRET' } }, health: '4s', region: 'r' }),
    whisper: whisperEntry({ install: { method: 'path', path: '/opt/whisper-server' }, model: { url: 'http://127.0.0.1:1/m.bin', sha256: 'a'.repeat(64) }, port: 2022, threads: 2, health: '20s' }),
    kokoro: kokoroEntry({ state: 'stopped', install: { method: 'path', path: '/opt/Kokoro-FastAPI' }, port: 8880, env: { USE_GPU: 'false' }, health: '20s' }),
    redis: redisEntry({ install: { method: 'path', path: '/usr/bin/redis-server' }, port: 6379, password: { env: 'REDIS_PW' } }),
    'my-llm': commandEntry({ command: ['/opt/llm', '--port', '8080'], port: 8080, healthPath: '/health', health: '10s' }),
  };
  const text = servicesFile(services, { supervisor: 'process' });

  it('writes the data as given, the fields the builders name in the file\'s own words', () => {
    expect(parse(text)).toEqual({ version: 1, supervisor: 'process', services: JSON.parse(JSON.stringify(services)) });
    expect(services.livekit).toEqual({
      version: '1.9.0',
      install: { method: 'release', base_url: 'http://127.0.0.1:1' },
      port: 7880,
      rtc: { port_range_start: 50000, port_range_end: 50100, tcp_port: 7881 },
      keys: { k: { env: 'LK_SECRET' } },
      health: { timeout: '4s' },
      region: 'r',
    });
    expect(services['my-llm']).toMatchObject({ kind: 'command', command: ['/opt/llm', '--port', '8080'], health: { path: '/health', timeout: '10s' } });
    expect(text).toContain('\n    rtc: { port_range_start: 50000, port_range_end: 50100, tcp_port: 7881 }\n');
    expect(text).toContain('\n    command: [ /opt/llm, --port, "8080" ]\n');
  });

  it('writes an object used twice out twice, never as a YAML alias', () => {
    const node = { services: { livekit: livekitEntry({ port: 7890 }) } };
    const hosts = servicesFile({ livekit: livekitEntry({ port: 7880 }) }, { hosts: { a: node, b: node } });
    expect(hosts).not.toMatch(/[&*]a\d/);
    expect((parse(hosts) as { hosts: Record<string, unknown> }).hosts).toEqual({ a: node, b: node });
  });

  it('is a file vm accepts', async () => {
    writeFileSync(join(home, 'voicemode.services.yaml'), text);
    const desired = await loadDesired({ file: 'voicemode.services.yaml', cwd: home, env: { HOME: home, LK_SECRET: 's'.repeat(32), REDIS_PW: 'p'.repeat(32) } });
    expect(Object.keys(desired.services)).toEqual(['livekit', 'whisper', 'kokoro', 'redis', 'my-llm']);
  });
});
