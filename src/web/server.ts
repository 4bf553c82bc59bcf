// `vm web`'s HTTP server (node:http, no framework): one page and two API calls, on 127.0.0.1
// only. Every request passes the guards of security.ts first: a Host that is not this server's
// (DNS rebinding) → 403; an /api call without the launch key → 401; a POST from another origin →
// 403; a body over 16 KiB → 413; a body that is not JSON → 400. Handlers answer with data from
// api.ts; errors a person can fix come back as `{ error }` with 400 (bad request) or 503 (no
// server to connect to), anything else as 500 with the details on vm web's stderr only.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UserError } from '../errors.js';
import { livekitUrls, webStatus, webToken, type WebContext } from './api.js';
import { contentSecurityPolicy, hostAllowed, KEY_HEADER, keyMatches, MAX_BODY_BYTES, originAllowed } from './security.js';

export const BIND_ADDRESS = '127.0.0.1';

export interface PageAssets {
  readonly html: string;
  readonly js: string;
  readonly css: string;
}

export interface WebServerOptions {
  /** 0: any free port. */
  readonly port: number;
  readonly key: string;
  readonly ctx: WebContext;
  readonly assets: PageAssets;
  /** Where a bug's details go (vm web's stderr). */
  readonly log: (line: string) => void;
}

export interface RunningWebServer {
  readonly port: number;
  /** `http://127.0.0.1:PORT/?key=…`: what a person opens. */
  readonly url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  // The first load's URL carries the key: it must not leave in a Referer.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

export async function startWebServer(o: WebServerOptions): Promise<RunningWebServer> {
  let port = o.port;
  const server: Server = createServer((req, res) => {
    handle(req, res, o, port).catch((e: unknown) => {
      o.log(`vm web: internal error answering ${req.method} ${req.url}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error in vm web (details on its terminal)' });
      else res.destroy();
    });
  });
  // A slow or idle client cannot hold the server: short header and request timeouts.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UserError('USAGE', `port ${o.port} on ${BIND_ADDRESS} is in use: pick another with --port`) : e),
    );
    server.listen({ host: BIND_ADDRESS, port: o.port, exclusive: true }, () => resolve());
  });
  const addr = server.address();
  port = addr !== null && typeof addr === 'object' ? addr.port : o.port;
  return {
    port,
    url: `http://${BIND_ADDRESS}:${port}/?key=${encodeURIComponent(o.key)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, o: WebServerOptions, port: number): Promise<void> {
  const host = req.headers.host;
  if (!hostAllowed(host, port)) return send(res, 403, { error: `this server answers only as 127.0.0.1:${port} or localhost:${port}` });
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (path.startsWith('/api/')) return api(req, res, o, port, path);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
  switch (path) {
    case '/':
    case '/index.html': {
      const urls = await livekitUrls(o.ctx).catch(() => []);
      // The page learns which LiveKit URLs its CSP lets it reach, so that it reloads (and gets a
      // new CSP) when the file later names another one (a fallback added, a port changed).
      const html = o.assets.html.replace('<meta name="vm-livekit-urls" content="">', `<meta name="vm-livekit-urls" content="${escapeAttr(urls.join(' '))}">`);
      return sendText(res, 200, 'text/html; charset=utf-8', html, { 'Content-Security-Policy': contentSecurityPolicy(urls) }, req.method === 'HEAD');
    }
    case '/app.js':
      return sendText(res, 200, 'text/javascript; charset=utf-8', o.assets.js, {}, req.method === 'HEAD');
    case '/app.css':
      return sendText(res, 200, 'text/css; charset=utf-8', o.assets.css, {}, req.method === 'HEAD');
    default:
      return send(res, 404, { error: 'not found' });
  }
}

async function api(req: IncomingMessage, res: ServerResponse, o: WebServerOptions, port: number, path: string): Promise<void> {
  const given = req.headers[KEY_HEADER];
  if (!keyMatches(typeof given === 'string' ? given : undefined, o.key)) {
    return send(res, 401, { error: `missing or wrong key: open the URL \`vm web\` printed (it carries the key in ?key=…)` });
  }
  try {
    if (path === '/api/status') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return send(res, 200, await webStatus(o.ctx));
    }
    if (path === '/api/token') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST');
      const origin = req.headers.origin;
      if (!originAllowed(origin, req.headers.host, port)) throw new HttpError(403, `a POST must come from this page (Origin http://${req.headers.host ?? ''}), not ${origin ?? 'no Origin'}`);
      const body = await readJson(req);
      return send(res, 200, await webToken(o.ctx, body));
    }
    throw new HttpError(404, 'not found');
  } catch (e) {
    if (e instanceof HttpError) return send(res, e.status, { error: e.message });
    if (e instanceof UserError) return send(res, e.code === 'USAGE' ? 400 : 503, { error: e.message, code: e.code });
    throw e;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, 'send the body as application/json');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body), extra, false);
}

function sendText(res: ServerResponse, status: number, type: string, text: string, extra: Record<string, string>, headOnly: boolean): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), ...extra });
  res.end(headOnly ? undefined : text);
}

function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
