// Proves the livekit-server stand-in answers `/rtc/validate` and CORS as the real server does
// (pkg/service/rtcservice.go, pkg/service/auth.go, rs/cors v1.11.1 with server.go's options), and
// that startCloudStandin gives a second, separate server on 127.0.0.2 that plays LiveKit Cloud.
// Tests of vm's token and fallback features rely on both.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { AccessToken, RoomServiceClient, TokenVerifier } from 'livekit-server-sdk';
import type { VideoGrant } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudStandin, stopAllCloudStandins } from './helpers/cloud-standin.js';
import type { CloudStandin } from './helpers/cloud-standin.js';
import { freePort, waitFor } from './kit/index.js';

const SERVER = fileURLToPath(new URL('./fixtures/livekit-standin/server.mjs', import.meta.url));
const LOCAL_KEY = 'APIlocalkey';
const LOCAL_SECRET = 'local-secret-of-at-least-thirty-two-chars-0123';
const CLOUD_KEY = 'APIcloudkey';
const CLOUD_SECRET = 'cloud-secret-of-at-least-thirty-two-chars-9876';
const ORIGIN = 'https://app.example.com';

let cloud: CloudStandin; // auto_create on (the default)
let strict: CloudStandin; // auto_create off
let local: { child: ChildProcess; httpUrl: string; stderr: () => string };

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would add or refuse some). */
function http(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function token(key: string, secret: string, grant: VideoGrant | undefined, opts: { identity?: string; ttl?: string } = {}): Promise<string> {
  const at = new AccessToken(key, secret, { identity: opts.identity ?? 'alice', ttl: opts.ttl ?? '10m' });
  if (grant) at.addGrant(grant);
  return at.toJwt();
}

/** An HS256 JWT with exactly these claims: AccessToken refuses to mint a join token without identity. */
function rawToken(secret: string, claims: Record<string, unknown>): string {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(claims)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const validate = (base: string, jwt: string) => http(`${base}/rtc/validate?access_token=${encodeURIComponent(jwt)}`);
const join = (room = 'voice'): VideoGrant => ({ roomJoin: true, room });

beforeAll(async () => {
  // The "local" server: 127.0.0.1, its own keys, started directly (no vm, no systemd).
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER, '--bind', '127.0.0.1', '--config-body', `port: ${port}\n`, '--keys', `${LOCAL_KEY}: ${LOCAL_SECRET}`], {
    env: { PATH: '/usr/bin:/bin', LIVEKIT_STANDIN_READY_AFTER_MS: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  local = { child, httpUrl: `http://127.0.0.1:${port}`, stderr: () => stderr };
  [cloud, strict] = await Promise.all([
    startCloudStandin({ keys: { [CLOUD_KEY]: CLOUD_SECRET } }),
    startCloudStandin({ keys: { [CLOUD_KEY]: CLOUD_SECRET }, autoCreate: false }),
  ]);
  const url = `${local.httpUrl}/`;
  await waitFor(() => `the local stand-in to start:\n${stderr}`, async () => {
    if ((await http(url).catch(() => undefined))?.status === 200) return true;
    if (child.exitCode !== null) throw new Error(`local stand-in did not start:\n${stderr}`);
    return false;
  }, 30_000);
});

afterAll(async () => {
  if (local && local.child.exitCode === null && local.child.signalCode === null) {
    const gone = new Promise((r) => local.child.once('close', r));
    local.child.kill('SIGKILL');
    await gone;
  }
  await stopAllCloudStandins();
});

describe('GET /rtc/validate', () => {
  it('answers 200 "success" (text/plain) to a join token for its key, in the query or as Bearer', async () => {
    const jwt = await token(CLOUD_KEY, CLOUD_SECRET, join());
    const q = await validate(cloud.httpUrl, jwt);
    expect([q.status, q.body]).toEqual([200, 'success']);
    expect(q.headers['content-type']).toBe('text/plain; charset=utf-8');
    const b = await http(`${cloud.httpUrl}/rtc/validate`, { headers: { Authorization: `Bearer ${jwt}` } });
    expect([b.status, b.body]).toEqual([200, 'success']);
    // The SDK's own verifier agrees the token is good: the stand-in is not lenient by accident.
    expect((await new TokenVerifier(CLOUD_KEY, CLOUD_SECRET).verify(jwt)).video?.room).toBe('voice');
  });

  it('401 for a missing, unparseable or non-Bearer token', async () => {
    expect(await http(`${cloud.httpUrl}/rtc/validate`).then((r) => [r.status, r.body])).toEqual([401, 'no permissions to access the room']);
    expect(await validate(cloud.httpUrl, 'not-a-jwt').then((r) => [r.status, r.body])).toEqual([401, 'invalid authorization token']);
    const jwt = await token(CLOUD_KEY, CLOUD_SECRET, join());
    const r = await http(`${cloud.httpUrl}/rtc/validate`, { headers: { Authorization: `Token ${jwt}` } });
    expect([r.status, r.body]).toEqual([401, 'invalid authorization header. Must start with Bearer ']);
  });

  it('401 for an unknown key, a wrong secret, or an expired token', async () => {
    const unknown = await validate(cloud.httpUrl, await token('APInobody', CLOUD_SECRET, join()));
    expect([unknown.status, unknown.body]).toEqual([401, 'invalid API key']);
    const wrong = await validate(cloud.httpUrl, await token(CLOUD_KEY, `${CLOUD_SECRET}-not`, join()));
    expect([wrong.status, wrong.body]).toEqual([401, 'invalid authorization token: token signature is invalid: signature is invalid']);
    // Ten minutes ago is past the verifier's one minute of leeway.
    const expired = await validate(cloud.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, join(), { ttl: '-10m' }));
    expect([expired.status, expired.body]).toEqual([401, 'invalid authorization token: token has invalid claims: token is expired']);
  });

  it('401 without roomJoin, and without any video grant', async () => {
    const noJoin = await validate(cloud.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, { room: 'voice', roomCreate: true, roomList: true }));
    expect([noJoin.status, noJoin.body]).toEqual([401, 'permissions denied']);
    const noVideo = await validate(cloud.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, undefined));
    expect([noVideo.status, noVideo.body]).toEqual([401, 'no permissions to access the room']);
  });

  it('400 for an empty identity or an empty room', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const noIdentity = await validate(cloud.httpUrl, rawToken(CLOUD_SECRET, { iss: CLOUD_KEY, exp, video: join() }));
    expect([noIdentity.status, noIdentity.body]).toEqual([400, 'identity cannot be empty']);
    const noRoom = await validate(cloud.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, { roomJoin: true }));
    expect([noRoom.status, noRoom.body]).toEqual([400, 'no room name']);
  });

  it('with room.auto_create off: 404 for a missing room unless the token has roomCreate; 200 once it exists', async () => {
    const room = `r-${Date.now()}`;
    const missing = await validate(strict.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, join(room)));
    expect([missing.status, missing.body]).toEqual([404, 'requested room does not exist']);
    const mayCreate = await validate(strict.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, { ...join(room), roomCreate: true }));
    expect([mayCreate.status, mayCreate.body]).toEqual([200, 'success']);
    // The same token on the auto_create server (the default) is fine.
    expect((await validate(cloud.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, join(room)))).status).toBe(200);
    await new RoomServiceClient(strict.httpUrl, CLOUD_KEY, CLOUD_SECRET).createRoom({ name: room });
    const exists = await validate(strict.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, join(room)));
    expect([exists.status, exists.body]).toEqual([200, 'success']);
  });

  it('/rtc/v1/validate wants a join_request', async () => {
    const r = await http(`${cloud.httpUrl}/rtc/v1/validate?access_token=${await token(CLOUD_KEY, CLOUD_SECRET, join())}`);
    expect([r.status, r.body]).toEqual([400, 'join_request is required']);
  });
});

describe('CORS', () => {
  const corsHeaders = (h: IncomingHttpHeaders) => Object.keys(h).filter((k) => k.startsWith('access-control-')).sort();

  it('GET / and POST /twirp echo any Origin with Vary: Origin; without Origin only Vary', async () => {
    for (const base of [local.httpUrl, cloud.httpUrl]) {
      const plain = await http(`${base}/`);
      expect([plain.status, plain.body, plain.headers.vary]).toEqual([200, 'OK', 'Origin']);
      expect(corsHeaders(plain.headers)).toEqual([]);
      const withOrigin = await http(`${base}/`, { headers: { Origin: ORIGIN } });
      expect(withOrigin.status).toBe(200);
      expect(withOrigin.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(withOrigin.headers.vary).toBe('Origin');
      expect(corsHeaders(withOrigin.headers)).toEqual(['access-control-allow-origin', 'access-control-expose-headers']);
      expect(withOrigin.headers['access-control-expose-headers']).toBe('*');
    }
    // Also on Twirp, and also on an error answer (no token: permissions denied).
    const twirp = await http(`${cloud.httpUrl}/twirp/livekit.RoomService/ListRooms`, {
      method: 'POST',
      headers: { Origin: 'http://localhost:5173', 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(twirp.status).toBe(401);
    expect(twirp.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(twirp.headers.vary).toBe('Origin');
    const twirpPlain = await http(`${cloud.httpUrl}/twirp/livekit.RoomService/ListRooms`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    expect(corsHeaders(twirpPlain.headers)).toEqual([]);
  });

  it('/rtc/validate carries Access-Control-Allow-Origin: * with or without Origin (the auth middleware sets it)', async () => {
    const jwt = await token(CLOUD_KEY, CLOUD_SECRET, join());
    const withOrigin = await http(`${cloud.httpUrl}/rtc/validate?access_token=${jwt}`, { headers: { Origin: ORIGIN } });
    expect([withOrigin.status, withOrigin.headers['access-control-allow-origin'], withOrigin.headers.vary]).toEqual([200, '*', 'Origin']);
    const plain = await http(`${cloud.httpUrl}/rtc/validate`);
    expect([plain.status, plain.headers['access-control-allow-origin']]).toEqual([401, '*']);
  });

  it('a preflight is answered 204 with the requested method and headers, cached a day, never private-network', async () => {
    for (const path of ['/', '/twirp/livekit.RoomService/CreateRoom', '/rtc/validate', '/rtc']) {
      const r = await http(`${cloud.httpUrl}${path}`, {
        method: 'OPTIONS',
        headers: {
          Origin: ORIGIN,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type',
          'Access-Control-Request-Private-Network': 'true',
        },
      });
      expect(r.status, path).toBe(204);
      expect(r.body).toBe('');
      expect(r.headers['access-control-allow-origin'], path).toBe(ORIGIN);
      expect(r.headers['access-control-allow-methods']).toBe('POST');
      expect(r.headers['access-control-allow-headers']).toBe('authorization,content-type');
      expect(r.headers['access-control-max-age']).toBe('86400');
      expect(r.headers.vary).toBe('Origin, Access-Control-Request-Method, Access-Control-Request-Headers');
      expect(corsHeaders(r.headers)).toEqual(['access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-origin', 'access-control-max-age']);
    }
  });

  it('a preflight without Origin, or for a method outside the list, is 204 with no Access-Control headers', async () => {
    const noOrigin = await http(`${cloud.httpUrl}/`, { method: 'OPTIONS', headers: { 'Access-Control-Request-Method': 'GET' } });
    expect(noOrigin.status).toBe(204);
    expect(corsHeaders(noOrigin.headers)).toEqual([]);
    const put = await http(`${cloud.httpUrl}/`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT' } });
    expect(put.status).toBe(204);
    expect(corsHeaders(put.headers)).toEqual([]);
    // An OPTIONS without Access-Control-Request-Method is no preflight: it reaches the route.
    const options = await http(`${cloud.httpUrl}/`, { method: 'OPTIONS', headers: { Origin: ORIGIN } });
    expect([options.status, options.body, options.headers['access-control-allow-origin']]).toEqual([200, 'OK', ORIGIN]);
  });
});

describe('startCloudStandin (LiveKit Cloud on 127.0.0.2)', () => {
  it('listens on 127.0.0.2 only, with ws:// and http:// URLs and its first key', async () => {
    expect(cloud.url).toBe(`ws://127.0.0.2:${cloud.port}`);
    expect(cloud.httpUrl).toBe(`http://127.0.0.2:${cloud.port}`);
    expect([cloud.apiKey, cloud.apiSecret]).toEqual([CLOUD_KEY, CLOUD_SECRET]);
    expect(await http(`${cloud.httpUrl}/`).then((r) => [r.status, r.body])).toEqual([200, 'OK']);
    await expect(http(`http://127.0.0.1:${cloud.port}/`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('accepts its own keys and refuses the local ones, and the local server refuses its keys', async () => {
    const cloudRooms = new RoomServiceClient(cloud.httpUrl, CLOUD_KEY, CLOUD_SECRET);
    await cloudRooms.createRoom({ name: 'in-the-cloud' });
    expect((await cloudRooms.listRooms()).map((r) => r.name)).toContain('in-the-cloud');
    await expect(new RoomServiceClient(cloud.httpUrl, LOCAL_KEY, LOCAL_SECRET).listRooms()).rejects.toThrow();
    // The two servers are separate: the local one has no such room and does not know the cloud key.
    expect((await new RoomServiceClient(local.httpUrl, LOCAL_KEY, LOCAL_SECRET).listRooms()).map((r) => r.name)).not.toContain('in-the-cloud');
    const atCloud = await validate(cloud.httpUrl, await token(LOCAL_KEY, LOCAL_SECRET, join()));
    expect([atCloud.status, atCloud.body]).toEqual([401, 'invalid API key']);
    const atLocal = await validate(local.httpUrl, await token(CLOUD_KEY, CLOUD_SECRET, join()));
    expect([atLocal.status, atLocal.body]).toEqual([401, 'invalid API key']);
    expect((await validate(local.httpUrl, await token(LOCAL_KEY, LOCAL_SECRET, join()))).status).toBe(200);
    // Secrets never reach the logs.
    expect(`${cloud.output().stderr}${cloud.output().stdout}${local.stderr()}`).not.toMatch(/secret-of-at-least/);
  });

  it('stop() kills the server, frees the port, and can be called again', async () => {
    const extra = await startCloudStandin();
    expect(extra.apiKey).toMatch(/^APIcloud/);
    expect(extra.apiSecret.length).toBeGreaterThanOrEqual(32);
    expect((await http(`${extra.httpUrl}/`)).status).toBe(200);
    await Promise.all([extra.stop(), extra.stop()]);
    await extra.stop();
    expect(() => process.kill(extra.pid, 0)).toThrow(/ESRCH/);
    await expect(http(`${extra.httpUrl}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
