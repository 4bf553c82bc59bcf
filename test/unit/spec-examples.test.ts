import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { livekitOf } from '../helpers/desired.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS, SCHEMA_ID, defaultDesired, initFileText } from '../../src/spec/default.js';
import { DEFAULT_LIVEKIT_VERSION } from '../../src/services/livekit/defaults.js';
import { isLoopback } from '../../src/spec/exposure.js';
import { loadDesired, validateText } from '../../src/spec/load.js';

const root = join(import.meta.dirname, '..', '..');
const examples = join(root, 'examples');
const schema = JSON.parse(readFileSync(join(root, 'schemas', 'voicemode.services.schema.json'), 'utf8')) as Record<string, any>;

// The examples read secrets from ~/.config/voicemode/livekit.secret and $LIVEKIT_API_SECRET.
const home = mkdtempSync(join(tmpdir(), 'vm-spec-examples-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const FILE_SECRET = 'file-secret-0123456789abcdefghijklmnopqrstuv';
const ENV_SECRET = 'env-secret-0123456789abcdefghijklmnopqrstuvw';
mkdirSync(join(home, '.config', 'voicemode'), { recursive: true });
writeFileSync(join(home, '.config', 'voicemode', 'livekit.secret'), `${FILE_SECRET}\n`, { mode: 0o600 });
const env = { HOME: home, LIVEKIT_API_SECRET: ENV_SECRET };

describe('examples/', () => {
  const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));

  it('has the five documented examples', () => {
    expect(files.sort()).toEqual(['full.yaml', 'lan.yaml', 'minimal.yaml', 'path-binary.yaml', 'voice.yaml']);
  });

  it.each(files)('%s validates and points editors at the schema', async (name) => {
    const text = readFileSync(join(examples, name), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/voicemode.services.schema.json');
    const d = await loadDesired({ file: name, cwd: examples, env });
    expect(d.source).toEqual({ kind: 'file', path: join(examples, name), via: 'flag' });
    expect(livekitOf(d)).toBeDefined();
  });

  it('minimal.yaml is the default apart from where it came from', () => {
    const d = validateText(readFileSync(join(examples, 'minimal.yaml'), 'utf8'), 'minimal.yaml', env);
    expect({ ...d, source: { kind: 'default' } }).toEqual(defaultDesired());
  });

  it('full.yaml sets every option, durations in ms', () => {
    const d = validateText(readFileSync(join(examples, 'full.yaml'), 'utf8'), 'full.yaml', env);
    expect(d.supervisor).toBe('systemd');
    // toMatchObject: the model may carry more (fields the file does not set).
    expect(d.services.livekit).toMatchObject({
      name: 'livekit',
      state: 'running',
      autostart: false,
      version: '1.9.0',
      install: { method: 'release', baseUrl: 'https://github.com/livekit/livekit/releases' },
      port: 7890,
      bindAddresses: ['127.0.0.1', '::1'],
      rtc: { portRangeStart: 51000, portRangeEnd: 51999, tcpPort: 7891, useExternalIp: false },
      keys: { kind: 'declared', entries: { voicemode: 'Vd8qT2m9ZkR4wP7xLc3nHs6yBf1gJe5u', ci: ENV_SECRET, laptop: FILE_SECRET } },
      room: { autoCreate: true, emptyTimeout: 600 },
      logging: { level: 'debug' },
      health: { timeoutMs: 120_000 },
    });
  });

  it('path-binary.yaml expands ~ with HOME and pins no version', () => {
    const d = validateText(readFileSync(join(examples, 'path-binary.yaml'), 'utf8'), 'path-binary.yaml', env);
    expect(livekitOf(d)?.install).toEqual({ method: 'path', path: join(home, 'bin/livekit-server') });
    expect(livekitOf(d)?.version).toBe('');
  });

  it('voice.yaml declares whisper, kokoro and a command beside LiveKit, with their command lines rendered', () => {
    const d = validateText(readFileSync(join(examples, 'voice.yaml'), 'utf8'), 'voice.yaml', env);
    expect(Object.keys(d.services)).toEqual(['livekit', 'whisper', 'kokoro', 'my-llm']);
    const w = d.services['whisper'];
    const k = d.services['kokoro'];
    const c = d.services['my-llm'];
    expect(w).toMatchObject({ kind: 'whisper', port: 2022, health: { path: '/health', timeoutMs: 120_000 } });
    expect(w?.kind === 'whisper' ? w.command : []).toEqual([
      join(home, '.voicemode/services/whisper/build/bin/whisper-server'),
      '--host', '127.0.0.1', '--port', '2022',
      '--model', join(home, '.voicemode/services/whisper/models/ggml-base.en.bin'),
      '--threads', '4', '--language', 'auto', '--inference-path', '/v1/audio/transcriptions',
    ]);
    expect(w?.kind === 'whisper' ? w.model : undefined).toMatchObject({ kind: 'download', sha256: 'a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002' });
    expect(k?.kind === 'kokoro' ? [k.command, k.workingDir, k.env['USE_GPU'], k.env['MODEL_DIR']] : []).toEqual([
      [join(home, '.voicemode/services/kokoro/.venv/bin/uvicorn'), 'api.src.main:app', '--host', '127.0.0.1', '--port', '8880'],
      join(home, '.voicemode/services/kokoro'),
      'false',
      'src/models',
    ]);
    expect(c).toMatchObject({ kind: 'command', command: [join(home, 'bin/llama-server'), '--port', '8080', '--model', join(home, 'models/m.gguf')], health: { path: '/health', timeoutMs: 60_000 } });
  });

  it('lan.yaml binds a LAN address with its secret read from a private file', () => {
    const d = validateText(readFileSync(join(examples, 'lan.yaml'), 'utf8'), 'lan.yaml', env);
    const lk = livekitOf(d);
    expect(lk?.bindAddresses).toEqual(['127.0.0.1', '192.168.1.20']);
    expect(lk?.keys).toEqual({ kind: 'declared', entries: { 'voicemode-lan': FILE_SECRET } });
    expect(lk?.health.timeoutMs).toBe(45_000);
  });

  it('lan.yaml holds no secret itself', () => {
    expect(readFileSync(join(examples, 'lan.yaml'), 'utf8')).toMatch(/voicemode-lan: \{ file: ~\/\.config\/voicemode\/livekit\.secret \}/);
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
      // `kind` is implied by the name `livekit`: the file need not say it.
      ...Object.keys(lk).filter((k) => k !== 'kind'),
      ...['install', 'rtc', 'room', 'logging', 'health'].flatMap((k) => Object.keys(lk[k].properties)),
    ];
    for (const k of keys) expect(text, k).toMatch(new RegExp(`^\\s*(# )?${k}:`, 'm'));
  });

  it('the built-in default pins LiveKit and listens on loopback only', () => {
    const lk = livekitOf(defaultDesired());
    expect(lk?.version).toBe(DEFAULT_LIVEKIT_VERSION);
    expect(lk?.bindAddresses).toEqual(['127.0.0.1']);
    expect(lk?.bindAddresses.every(isLoopback)).toBe(true);
    expect(DEFAULTS.bindAddresses.every(isLoopback)).toBe(true);
    expect(lk?.keys).toEqual({ kind: 'generated', apiKey: 'devkey' });
  });
});

describe('schema defaults', () => {
  it('document the values vm fills in', () => {
    const lk = schema['$defs'].livekit.properties as Record<string, any>;
    expect(schema['properties'].supervisor.default).toBe(DEFAULTS.supervisor);
    expect(lk['state'].default).toBe(DEFAULTS.state);
    // autostart has no single default: true when running, false when stopped (normalise.ts).
    expect(lk['autostart'].default).toBeUndefined();
    expect(lk['remove_data'].default).toBe(false);
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
    expect(lk['dev'].default).toBe(false);
    expect(lk['allow_insecure'].default).toBe(false);
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
    walk(schema['$defs'].secretRef, '/services/livekit/keys/*');
    expect(missing).toEqual([]);
  });
});
