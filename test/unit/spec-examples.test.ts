import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, DEFAULT_LIVEKIT_VERSION, SCHEMA_ID, defaultDesired, initFileText } from '../../src/spec/default.js';
import { loadDesired, validateText } from '../../src/spec/load.js';

const root = join(import.meta.dirname, '..', '..');
const examples = join(root, 'examples');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'voicemode.services.schema.json'), 'utf8')) as Record<string, any>;
const env = { HOME: '/home/u' };

describe('examples/', () => {
  const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));

  it('has the four documented examples', () => {
    expect(files.sort()).toEqual(['full.yaml', 'lan.yaml', 'minimal.yaml', 'path-binary.yaml']);
  });

  it.each(files)('%s validates and points editors at the schema', async (name) => {
    const text = readFileSync(join(examples, name), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/voicemode.services.schema.json');
    const d = await loadDesired({ file: name, cwd: examples, env });
    expect(d.source).toEqual({ kind: 'file', path: join(examples, name), via: 'flag' });
    expect(d.services.livekit).toBeDefined();
  });

  it('minimal.yaml is the default apart from where it came from', () => {
    const d = validateText(readFileSync(join(examples, 'minimal.yaml'), 'utf8'), 'minimal.yaml', env);
    expect({ ...d, source: { kind: 'default' } }).toEqual(defaultDesired());
  });

  it('full.yaml sets every option, durations in ms', () => {
    const d = validateText(readFileSync(join(examples, 'full.yaml'), 'utf8'), 'full.yaml', env);
    expect(d.supervisor).toBe('systemd');
    expect(d.services.livekit).toEqual({
      name: 'livekit',
      state: 'running',
      autostart: false,
      version: '1.9.0',
      install: { method: 'release', baseUrl: 'https://github.com/livekit/livekit/releases' },
      port: 7890,
      bindAddresses: ['127.0.0.1', '::1'],
      rtc: { portRangeStart: 51000, portRangeEnd: 51999, tcpPort: 7891, useExternalIp: false },
      keys: { kind: 'declared', entries: { voicemode: 'Vd8qT2m9ZkR4wP7xLc3nHs6yBf1gJe5u' } },
      room: { autoCreate: true, emptyTimeout: 600 },
      logging: { level: 'debug' },
      health: { timeoutMs: 120_000 },
    });
  });

  it('path-binary.yaml expands ~ with HOME and pins no version', () => {
    const d = validateText(readFileSync(join(examples, 'path-binary.yaml'), 'utf8'), 'path-binary.yaml', env);
    expect(d.services.livekit?.install).toEqual({ method: 'path', path: '/home/u/bin/livekit-server' });
    expect(d.services.livekit?.version).toBe('');
  });

  it('lan.yaml binds a LAN address with declared keys of 32+ characters', () => {
    const d = validateText(readFileSync(join(examples, 'lan.yaml'), 'utf8'), 'lan.yaml', env);
    const lk = d.services.livekit;
    expect(lk?.bindAddresses).toEqual(['127.0.0.1', '192.168.1.20']);
    expect(lk?.keys.kind).toBe('declared');
    if (lk?.keys.kind === 'declared') for (const s of Object.values(lk.keys.entries)) expect(s.length).toBeGreaterThanOrEqual(32);
    expect(lk?.health.timeoutMs).toBe(45_000);
  });
});

describe('vm init file', () => {
  it('parses to exactly the built-in default', () => {
    const d = validateText(initFileText('/opt/vm/schemas/voicemode.services.schema.json'), 'voicemode.services.yaml', {});
    expect({ ...d, source: { kind: 'default' } }).toEqual(defaultDesired());
  });

  it('starts with the yaml-language-server line pointing at the schema $id', () => {
    expect(initFileText('/opt/vm/schemas/voicemode.services.schema.json').split('\n')[0]).toBe('# yaml-language-server: $schema=/opt/vm/schemas/voicemode.services.schema.json');
    expect(schema['$id']).toBe(SCHEMA_ID);
  });

  it('shows every option of the schema, set or commented', () => {
    const text = initFileText('/opt/vm/schemas/voicemode.services.schema.json');
    const lk = schema['$defs'].livekit.properties as Record<string, any>;
    const keys = [
      ...Object.keys(schema['properties']),
      ...Object.keys(lk),
      ...['install', 'rtc', 'room', 'logging', 'health'].flatMap((k) => Object.keys(lk[k].properties)),
    ];
    for (const k of keys) expect(text, k).toMatch(new RegExp(`^\\s*(# )?${k}:`, 'm'));
  });

  it('the built-in default pins LiveKit and listens on loopback only', () => {
    const lk = defaultDesired().services.livekit;
    expect(lk?.version).toBe(DEFAULT_LIVEKIT_VERSION);
    expect(lk?.bindAddresses).toEqual(['127.0.0.1']);
    expect(lk?.keys).toEqual({ kind: 'generated', apiKey: 'devkey' });
  });
});

describe('schema defaults', () => {
  it('document the values vm fills in', () => {
    const lk = schema['$defs'].livekit.properties as Record<string, any>;
    expect(schema['properties'].supervisor.default).toBe(DEFAULTS.supervisor);
    expect(lk['state'].default).toBe(DEFAULTS.state);
    expect(lk['autostart'].default).toBe(DEFAULTS.autostart);
    expect(lk['port'].default).toBe(DEFAULTS.port);
    expect(lk['bind_addresses'].default).toEqual(DEFAULTS.bindAddresses);
    expect(lk['install'].properties.base_url.default).toBe(DEFAULTS.baseUrl);
    expect(lk['rtc'].default).toEqual({
      port_range_start: DEFAULTS.rtc.portRangeStart,
      port_range_end: DEFAULTS.rtc.portRangeEnd,
      tcp_port: DEFAULTS.rtc.tcpPort,
      use_external_ip: DEFAULTS.rtc.useExternalIp,
    });
    expect(lk['room'].default).toEqual({ auto_create: DEFAULTS.room.autoCreate, empty_timeout: DEFAULTS.room.emptyTimeout });
    expect(lk['logging'].properties.level.default).toBe(DEFAULTS.logLevel);
    expect(lk['health'].properties.timeout.default).toBe(`${DEFAULTS.healthTimeoutMs / 1000}s`);
  });

  it('every property has a description for editors', () => {
    const missing: string[] = [];
    const walk = (node: any, path: string): void => {
      for (const [k, v] of Object.entries((node?.properties ?? {}) as Record<string, any>)) {
        if (typeof v !== 'object' || typeof v.description !== 'string') missing.push(`${path}/${k}`);
        walk(v, `${path}/${k}`);
      }
    };
    walk(schema, '');
    walk(schema['$defs'].livekit, '/services/livekit');
    expect(missing).toEqual([]);
  });
});
