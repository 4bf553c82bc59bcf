// The connection decision (pure) and services.livekit.fallback in the file.

import { describe, expect, it } from 'vitest';
import { SpecError } from '../../src/errors.js';
import type { LiveKitDesired } from '../../src/services/livekit/model.js';
import { needsFallbackCheck, resolveConnection, type ConnectionInput } from '../../src/ops/connection.js';
import { dotenvValue, fishQuote, shQuote } from '../../src/ops/env-format.js';
import { parseTokenRequest } from '../../src/ops/token.js';
import { livekitClients } from '../../src/services/livekit/connection.js';
import { validateText } from '../../src/spec/load.js';

const local = { ok: true as const, creds: { url: 'ws://127.0.0.1:7880', apiKey: 'k', apiSecret: 'local-secret' } };
const fallback = { url: 'wss://p.livekit.cloud', apiKey: 'APIx', apiSecret: { ok: true as const, value: 'cloud-secret' } };
const refused = { state: { kind: 'unhealthy' as const, detail: 'ECONNREFUSED' }, where: '127.0.0.1:7880' };
const healthy = { state: { kind: 'healthy' as const }, where: '127.0.0.1:7880' };
const base: ConnectionInput = { title: 'LiveKit', target: 'auto', local, localHealth: healthy, fallback, fallbackCheck: undefined };

describe('resolveConnection', () => {
  it('auto: the healthy local server, and the fallback is not asked', () => {
    expect(needsFallbackCheck(base)).toBe(false);
    expect(resolveConnection(base)).toEqual({ ok: true, connection: { ...local.creds, target: 'local', why: 'local LiveKit is healthy' } });
  });
  it('auto: local down → the fallback once it answered; why names both', () => {
    const input = { ...base, localHealth: refused };
    expect(needsFallbackCheck(input)).toBe(true);
    const r = resolveConnection({ ...input, fallbackCheck: { ok: true, detail: 'GET / answered 200' } });
    expect(r).toEqual({ ok: true, connection: { url: 'wss://p.livekit.cloud', apiKey: 'APIx', apiSecret: 'cloud-secret', target: 'fallback', why: 'local LiveKit not healthy: connection refused on 127.0.0.1:7880; using the fallback wss://p.livekit.cloud (GET / answered 200)' } });
  });
  it('auto: local down and nothing else → one reason naming both', () => {
    expect(resolveConnection({ ...base, localHealth: refused, fallback: undefined })).toEqual({ ok: false, reason: 'local LiveKit not healthy: connection refused on 127.0.0.1:7880; no fallback declared' });
    expect(resolveConnection({ ...base, localHealth: refused, fallbackCheck: { ok: false, why: 'no answer within 3000 ms' } })).toEqual({ ok: false, reason: 'local LiveKit not healthy: connection refused on 127.0.0.1:7880; the fallback wss://p.livekit.cloud does not answer: no answer within 3000 ms' });
    const unset = { ...fallback, apiSecret: { ok: false as const, message: 'comes from X, which is not set' } };
    expect(needsFallbackCheck({ ...base, localHealth: refused, fallback: unset })).toBe(false);
    expect(resolveConnection({ ...base, localHealth: refused, fallback: unset })).toEqual({ ok: false, reason: 'local LiveKit not healthy: connection refused on 127.0.0.1:7880; comes from X, which is not set' });
  });
  it('a starting server is not healthy', () => {
    const r = resolveConnection({ ...base, localHealth: { state: { kind: 'starting', status: 406 }, where: '127.0.0.1:7880' }, fallback: undefined });
    expect(r).toEqual({ ok: false, reason: 'local LiveKit not healthy: still starting (GET / answered 406) on 127.0.0.1:7880; no fallback declared' });
  });
  it('--target local gives local values when it is down, with a warning; --target fallback without one fails', () => {
    const r = resolveConnection({ ...base, target: 'local', localHealth: refused });
    expect(r.ok && r.connection.target === 'local' && r.connection.warning).toMatch(/^local LiveKit not healthy: connection refused/);
    expect(resolveConnection({ ...base, target: 'fallback', fallback: undefined, localHealth: undefined }).ok).toBe(false);
  });
  it('no secret in any reason, why or warning', () => {
    const all = [resolveConnection(base), resolveConnection({ ...base, localHealth: refused, fallbackCheck: { ok: true, detail: 'x' } }), resolveConnection({ ...base, target: 'local', localHealth: refused })];
    for (const r of all) expect(JSON.stringify(r.ok ? { why: r.connection.why, w: r.connection.warning } : r)).not.toMatch(/secret/);
  });
});

describe('quoting', () => {
  it('sh, fish and dotenv keep hostile values literal', () => {
    expect(shQuote(`a'b`)).toBe(`'a'\\''b'`);
    expect(fishQuote(`a'b\\c`)).toBe(`'a\\'b\\\\c'`);
    expect(dotenvValue('plain-value_1')).toBe('plain-value_1');
    expect(dotenvValue('has space')).toBe(`'has space'`);
    expect(dotenvValue(`"quoted"`)).toBe(`'"quoted"'`);
  });
});

describe('vm token flags', () => {
  const p = (f: Parameters<typeof parseTokenRequest>[0]) => parseTokenRequest(f, livekitClients, 'alice', 'ab12');
  it('defaults: the four join grants, 6h, vm-USER-XXXX', () => {
    expect(p({ room: 'r' })).toEqual({ identity: 'vm-alice-ab12', name: undefined, room: 'r', ttlSeconds: 21600, grants: ['join', 'publish', 'subscribe', 'publish-data'] });
  });
  it('refuses unknown grants, ttl beyond 24h or malformed, join or admin without a room', () => {
    expect(() => p({ room: 'r', grant: 'join,fly' })).toThrow(/unknown grant "fly"/);
    expect(() => p({ room: 'r', ttl: '25h' })).toThrow(/--ttl/);
    expect(() => p({ room: 'r', ttl: '0s' })).toThrow(/--ttl/);
    expect(() => p({ room: 'r', ttl: '6 h' })).toThrow(/--ttl/);
    expect(() => p({})).toThrow(/--room is required for the grant join/);
    expect(() => p({ grant: 'admin' })).toThrow(/--room is required for the grant admin/);
    expect(p({ grant: 'list', ttl: '24h' }).ttlSeconds).toBe(86400);
  });
});

describe('services.livekit.fallback in the file', () => {
  const file = (fb: string) => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    fallback: ${fb}\n`;
  const lk = (text: string, env: Record<string, string> = {}) => validateText(text, 'f.yaml', { HOME: '/home/u', ...env }).services['livekit'] as LiveKitDesired;
  const problems = (text: string): string[] => {
    try {
      lk(text);
      return [];
    } catch (e) {
      return (e as SpecError).problems.map((p) => `${p.line}:${p.column} ${p.message}`);
    }
  };
  it('https is shown as wss; an { env } secret is read from the environment', () => {
    expect(lk(file('{ url: "https://p.livekit.cloud", api_key: APIx, api_secret: { env: S } }'), { S: 'v' }).fallback).toEqual({ url: 'wss://p.livekit.cloud', apiKey: 'APIx', apiSecret: { ok: true, value: 'v' } });
  });
  it('an unset { env } secret is not a problem with the file: it waits until it is needed', () => {
    const fb = lk(file('{ url: "wss://p.livekit.cloud", api_key: APIx, api_secret: { env: LIVEKIT_CLOUD_SECRET } }')).fallback;
    expect(fb?.apiSecret).toEqual({ ok: false, message: "the fallback's api_secret comes from the environment variable LIVEKIT_CLOUD_SECRET, which is not set; set it where vm runs" });
  });
  it('plain ws/http only to this machine; no credentials in the URL; located', () => {
    expect(problems(file('{ url: "ws://127.0.0.2:7880", api_key: k, api_secret: s }'))).toEqual([]);
    expect(problems(file('{ url: "http://localhost:7880", api_key: k, api_secret: s }'))).toEqual([]);
    expect(problems(file('{ url: "ws://192.168.1.2:7880", api_key: k, api_secret: s }'))).toEqual(['5:22 fallback ws:// is only allowed for 127.0.0.0/8 or localhost (got 192.168.1.2); use wss://']);
    expect(problems(file('{ url: "wss://u:p@p.livekit.cloud", api_key: k, api_secret: s }'))[0]).toMatch(/must not carry credentials/);
    expect(problems(file('{ url: "ftp://x", api_key: k, api_secret: s }')).length).toBe(1);
    expect(problems(file('{ url: "wss://x", api_secret: s }')).length).toBe(1);
  });
});
