// `vm web` in a real headless Chromium (Debian's chromium, driven by playwright-core): the page
// finds the local LiveKit (a stand-in run by vm's process supervisor), hands out a token that
// LiveKit's own /rtc/validate accepts when the page itself asks, shows the server down when it
// stops, and then the declared fallback (a second stand-in on 127.0.0.2) with every value its
// own. Plus the guards a browser cannot show: the key, the Host and Origin checks, body limits,
// and no secret in any response.

import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { livekitHealth } from '../helpers/health.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { raw, startWeb, type WebChild } from '../helpers/web-child.js';
import { type CloudStandin, freePorts, livekitEntry, runVm, servicesFile, startCloudStandin, transcript, waitFor, writeStandin } from '../kit/index.js';

const CHROMIUM = '/usr/bin/chromium';
const SECRET = `local-secret-${'x'.repeat(24)}-0123456789`;

let home: TempHome;
let env: Record<string, string>;
let port: number;
let tcpPort: number;
let specPath: string;
let web: WebChild;
let browser: Browser;
let page: Page;
let cloud: CloudStandin | undefined;
let shots: string;
/** Every body the page received from /api, and the HTML. */
const bodies: string[] = [];

function spec(state: 'running' | 'stopped', fallback?: CloudStandin): string {
  const livekit = livekitEntry({
    state,
    install: { method: 'path', path: `${home.env.HOME}/bin/livekit-server` },
    port,
    rtcRange: [54200, 54300],
    tcpPort,
    keys: { webkey: SECRET },
    health: '20s',
    ...(fallback === undefined ? {} : { fallback: { url: fallback.url, api_key: fallback.apiKey, api_secret: fallback.apiSecret } }),
  });
  return servicesFile({ livekit }, { supervisor: 'process' });
}

const text = (sel: string) => page.locator(sel).innerText();
/** Polls from here (the page's CSP forbids evaluating strings in it, as it should). */
async function poll<T>(get: () => Promise<T>, ok: (v: T) => boolean, what: string, timeout = 30_000): Promise<T> {
  let last!: T;
  await waitFor(() => `${what}; last: ${JSON.stringify(last)}`, async () => ok((last = await get())), timeout, 100);
  return last;
}
const waitText = (sel: string, re: RegExp, timeout = 30_000) => poll(() => text(sel), (t) => re.test(t), `${sel} to match ${re}`, timeout);
const tokenShown = () => poll(() => page.locator('#token').inputValue(), (v) => v.split('.').length === 3, 'a token on the page');

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  home = await tempHome();
  shots = await mkdtemp(join(tmpdir(), 'vm-web-shots-'));
  [port, tcpPort] = (await freePorts(2)) as [number, number];
  await writeStandin(`${home.env.HOME}/bin/livekit-server`, { version: '1.9.0', readyAfterMs: 300 });
  specPath = `${home.env.HOME}/voicemode.services.yaml`;
  env = { ...home.env, USER: 'ada' };
  await writeFile(specPath, spec('running'));
  const r = await runVm(['apply', '--yes', '-f', specPath], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  web = await startWeb(['-f', specPath], env);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60_000,
  });
  page = await browser.newPage();
  page.on('response', (res) => {
    if (new URL(res.url()).port === String(web.port)) void res.text().then((t) => bodies.push(t), () => undefined);
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  const code = await web?.stop();
  await cloud?.stop();
  await home?.cleanup();
  await rm(shots, { recursive: true, force: true });
  expect(code).toBe(0);
  expect(web.output().stderr).toContain('vm web: stopped (SIGTERM)');
  // The page's own /api answers and its HTML were seen (not just the test's requests).
  expect(bodies.filter((b) => b.includes('"connection"')).length).toBeGreaterThan(3);
  expect(bodies.some((b) => b.includes('"access_token"'))).toBe(true);
  for (const out of [...transcript, ...bodies]) {
    expect(out).not.toContain(SECRET);
    if (cloud !== undefined) expect(out).not.toContain(cloud.apiSecret);
  }
}, 60_000);

describe('vm web in a browser', () => {
  it('prints a URL on 127.0.0.1 with a key of at least 128 bits', () => {
    expect(web.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?key=/);
    expect(Buffer.from(web.key, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
  });

  it('shows the local LiveKit healthy, with its version, URL and key name, and drops the key from the address bar', async () => {
    await page.goto(web.url);
    expect(await waitText('#local-state', /^healthy$/)).toBe('healthy');
    expect(new URL(page.url()).search).toBe('');
    expect(await page.evaluate("sessionStorage.getItem('vm-web-key')")).toBe(web.key);
    expect(await text('#local-version')).toBe('1.9.0');
    expect(await text('#local-url')).toBe(`ws://127.0.0.1:${port}`);
    expect(await text('#local-key')).toBe('webkey');
    expect(await waitText('#conn-target', /^local$/)).toBe('local');
    expect(await text('#conn-url')).toBe(`ws://127.0.0.1:${port}`);
  }, 60_000);

  it('gets a token and the page itself has LiveKit accept it', async () => {
    await tokenShown();
    await page.click('#test-button');
    expect(await waitText('#test-result', /token accepted|refused|could not/)).toBe(`token accepted by LiveKit at ws://127.0.0.1:${port}`);
    const png = join(shots, 'healthy.png');
    await page.screenshot({ path: png, fullPage: true });
    expect(existsSync(png)).toBe(true);
    if (process.env['VM_WEB_SHOTS'] !== undefined) await page.screenshot({ path: join(process.env['VM_WEB_SHOTS'], 'healthy.png'), fullPage: true });
  }, 60_000);

  it('stop LiveKit: the page shows it down and says to run vm apply; no token is left on it', async () => {
    await writeFile(specPath, spec('stopped'));
    const r = await runVm(['apply', '--yes', '-f', specPath], env);
    expect(r.code).toBe(0);
    expect(await livekitHealth(port)).toBe('down');
    expect(await waitText('#local-state', /^down$/)).toBe('down');
    expect(await waitText('#using', /vm(\.cjs)? apply/)).toMatch(/No LiveKit to connect to: local LiveKit not healthy: connection refused .*no fallback declared\. To fix: the file says state: stopped: set it to running and run `.*vm(\.cjs)? apply`/);
    expect(await text('#conn-target')).toBe('none');
    expect(await page.locator('#token').inputValue()).toBe('');
    expect(await page.locator('#test-button').isDisabled()).toBe(true);
  }, 90_000);

  it('with a fallback declared, every value on the page is the fallback\'s, and LiveKit there accepts the token', async () => {
    cloud = await startCloudStandin();
    await writeFile(specPath, spec('stopped', cloud));
    expect(await waitText('#conn-target', /^fallback$/)).toBe('fallback');
    expect(await text('#local-state')).toBe('down');
    expect(await text('#using')).toContain(`using the fallback ${cloud.url}`);
    expect(await text('#conn-url')).toBe(cloud.url);
    expect(await text('#conn-key')).toBe(cloud.apiKey);
    await tokenShown();
    await page.click('#test-button');
    expect(await waitText('#test-result', /token accepted|refused|could not/)).toBe(`token accepted by LiveKit at ${cloud.url}`);
    await page.screenshot({ path: join(shots, 'fallback.png'), fullPage: true });
    if (process.env['VM_WEB_SHOTS'] !== undefined) await page.screenshot({ path: join(process.env['VM_WEB_SHOTS'], 'fallback.png'), fullPage: true });
  }, 90_000);

  it('a page opened without the key says where to get it', async () => {
    const p2 = await browser.newPage();
    await p2.goto(`http://127.0.0.1:${web.port}/`);
    await p2.locator('#key-message').waitFor({ state: 'visible', timeout: 20_000 });
    expect(await p2.locator('#key-message').innerText()).toContain('open the URL it printed');
    await p2.close();
  }, 60_000);
});

describe('vm web guards', () => {
  const key = () => ({ 'x-vm-key': web.key });
  const here = () => `127.0.0.1:${web.port}`;

  it('/api without the key, or with a wrong one → 401', async () => {
    for (const headers of [{ host: here() } as Record<string, string>, { host: here(), 'x-vm-key': `${web.key}x` }, { host: here(), 'x-vm-key': '' }]) {
      const r = await raw(web.port, { path: '/api/status', headers });
      expect(r.status).toBe(401);
      expect(JSON.parse(r.body).error).toContain('open the URL');
    }
    const t = await raw(web.port, { method: 'POST', path: '/api/token', headers: { host: here(), origin: `http://${here()}`, 'content-type': 'application/json' }, body: '{}' });
    expect(t.status).toBe(401);
  });

  it('a forged Host (DNS rebinding) → 403, even with the key; localhost:PORT is accepted', async () => {
    for (const host of [`evil.example:${web.port}`, 'evil.example', `127.0.0.1:${web.port + 1}`, `[::1]:${web.port}`]) {
      for (const path of ['/', '/api/status', '/app.js']) {
        const r = await raw(web.port, { path, headers: { host, ...key() } });
        expect(r.status, `${host} ${path}`).toBe(403);
      }
    }
    const ok = await raw(web.port, { path: '/api/status', headers: { host: `localhost:${web.port}`, ...key() } });
    expect(ok.status).toBe(200);
  });

  it('a POST from a foreign Origin, or with none → 403; from the page itself → a token, never the secret', async () => {
    const post = (headers: Record<string, string>, body = '{"room":"guard-room"}') => raw(web.port, { method: 'POST', path: '/api/token', headers: { host: here(), 'content-type': 'application/json', ...key(), ...headers }, body });
    for (const origin of ['http://evil.example', `http://localhost:${web.port}`, `https://${here()}`, 'null']) {
      expect((await post({ origin })).status, origin).toBe(403);
    }
    expect((await post({})).status).toBe(403);
    const r = await post({ origin: `http://${here()}` });
    expect(r.status).toBe(200);
    bodies.push(r.body);
    const t = JSON.parse(r.body);
    expect(t.room).toBe('guard-room');
    expect(t.access_token.split('.')).toHaveLength(3);
    expect(Object.keys(t).sort()).toEqual(['access_token', 'api_key', 'expires_at', 'grants', 'identity', 'name', 'room', 'target', 'url', 'why']);
  });

  it('bad JSON → 400, a body over 16 KiB → 413, an unknown field → 400, GET on the token → 405', async () => {
    const post = (body: string, extra: Record<string, string> = {}) =>
      raw(web.port, { method: 'POST', path: '/api/token', headers: { host: here(), origin: `http://${here()}`, 'content-type': 'application/json', ...key(), ...extra }, body });
    expect((await post('{"room": ')).status).toBe(400);
    expect((await post(JSON.stringify({ room: 'r'.repeat(20_000) }))).status).toBe(413);
    const unknown = await post('{"api_secret":"x"}');
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body).error).toContain('unknown field');
    expect((await post('{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await raw(web.port, { path: '/api/token', headers: { host: here(), ...key() } })).status).toBe(405);
  });

  it('the HTML has a CSP with no inline script, that allows only itself and the LiveKit URLs in use', async () => {
    const r = await raw(web.port, { path: '/', headers: { host: here() } });
    expect(r.status).toBe(200);
    bodies.push(r.body);
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${port} http://127.0.0.1:${port}`);
    if (cloud !== undefined) expect(csp).toContain(`ws://127.0.0.2:${cloud.port}`);
    expect(r.body).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(r.headers['referrer-policy']).toBe('no-referrer');
  });

  it('every /api/status answer is the vm status observation, with no secret', async () => {
    const r = await raw(web.port, { path: '/api/status', headers: { host: here(), ...key() } });
    expect(r.status).toBe(200);
    bodies.push(r.body);
    const s = JSON.parse(r.body);
    const cli = JSON.parse((await runVm(['status', '--json', '-f', specPath], env)).stdout);
    expect(Object.keys(s.status.services)).toEqual(Object.keys(cli.services));
    expect(s.status.services.livekit.binary).toEqual(cli.services.livekit.binary);
    expect(s.status.services.livekit.api.api_key).toBe('webkey');
  });
});
