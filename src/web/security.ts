// The page's guards, as pure functions of a request's headers (server.ts applies them):
// - the per-launch key (as Jupyter's token): every /api call carries it in a header, compared in
//   constant time;
// - the Host header must name this server by loopback address or `localhost`: a DNS-rebinding
//   page (evil.example resolving to 127.0.0.1) sends its own name and gets 403;
// - a POST must come from the page itself (Origin), not from another site the browser has open;
// - the Content-Security-Policy: only the page's own files run, and it may talk only to itself
//   and to the LiveKit URLs in use.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_HEADER = 'x-vm-key';
/** Request bodies (a token request is a few names): anything larger is refused with 413. */
export const MAX_BODY_BYTES = 16 * 1024;

/** 192 random bits, URL-safe. */
export function newKey(): string {
  return randomBytes(24).toString('base64url');
}

export function keyMatches(given: string | undefined, key: string): boolean {
  if (given === undefined) return false;
  // Hash both so the comparison takes the same time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(key).digest();
  return timingSafeEqual(a, b);
}

export function allowedHosts(port: number): readonly string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

export function hostAllowed(host: string | undefined, port: number): boolean {
  return host !== undefined && allowedHosts(port).includes(host.toLowerCase());
}

/** A POST's Origin must be this server's, under the very name the request used. */
export function originAllowed(origin: string | undefined, host: string | undefined, port: number): boolean {
  if (origin === undefined || !hostAllowed(host, port)) return false;
  return origin.toLowerCase() === `http://${(host ?? '').toLowerCase()}`;
}

/** The origins a browser must be allowed to reach for a LiveKit URL: its ws(s) and http(s) forms. */
export function livekitOrigins(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const secure = u.protocol === 'wss:' || u.protocol === 'https:';
  return [`${secure ? 'wss' : 'ws'}://${u.host}`, `${secure ? 'https' : 'http'}://${u.host}`];
}

export function contentSecurityPolicy(livekitUrls: readonly string[]): string {
  const connect = [...new Set(livekitUrls.flatMap(livekitOrigins))];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${connect.map((c) => ` ${c}`).join('')}`,
    "media-src 'self' blob: mediastream:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
