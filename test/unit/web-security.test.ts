// The page's guards as pure functions: the key, the Host and Origin checks, and the CSP.

import { describe, expect, it } from 'vitest';
import { parseTokenBody } from '../../src/web/api.js';
import { contentSecurityPolicy, hostAllowed, keyMatches, livekitOrigins, newKey, originAllowed } from '../../src/web/security.js';

describe('web guards', () => {
  it('a key has at least 128 random bits and matches only itself', () => {
    const k = newKey();
    expect(Buffer.from(k, 'base64url').length).toBeGreaterThanOrEqual(16);
    expect(newKey()).not.toBe(k);
    expect(keyMatches(k, k)).toBe(true);
    for (const wrong of [undefined, '', `${k}x`, k.slice(1), k.toUpperCase()]) expect(keyMatches(wrong, k)).toBe(false);
  });

  it('Host: only 127.0.0.1:PORT and localhost:PORT', () => {
    expect(hostAllowed('127.0.0.1:7890', 7890)).toBe(true);
    expect(hostAllowed('LOCALHOST:7890', 7890)).toBe(true);
    for (const h of [undefined, '127.0.0.1', 'localhost', '127.0.0.1:7891', 'evil.example:7890', '[::1]:7890', '127.0.0.1:7890.evil.example']) expect(hostAllowed(h, 7890)).toBe(false);
  });

  it('Origin: the page itself under the name the request used', () => {
    expect(originAllowed('http://127.0.0.1:7890', '127.0.0.1:7890', 7890)).toBe(true);
    expect(originAllowed('http://localhost:7890', 'localhost:7890', 7890)).toBe(true);
    expect(originAllowed('http://localhost:7890', '127.0.0.1:7890', 7890)).toBe(false);
    expect(originAllowed(undefined, '127.0.0.1:7890', 7890)).toBe(false);
    expect(originAllowed('null', '127.0.0.1:7890', 7890)).toBe(false);
    expect(originAllowed('http://evil.example:7890', 'evil.example:7890', 7890)).toBe(false);
  });

  it('CSP: self plus the ws and http forms of each LiveKit URL, no inline script', () => {
    expect(livekitOrigins('wss://p.livekit.cloud')).toEqual(['wss://p.livekit.cloud', 'https://p.livekit.cloud']);
    expect(livekitOrigins('not a url')).toEqual([]);
    const csp = contentSecurityPolicy(['ws://127.0.0.1:7880', 'wss://p.livekit.cloud', 'ws://127.0.0.1:7880']);
    expect(csp).toContain("connect-src 'self' ws://127.0.0.1:7880 http://127.0.0.1:7880 wss://p.livekit.cloud https://p.livekit.cloud;");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe');
  });

  it('a token request body: an object of short known strings', () => {
    expect(parseTokenBody({ room: 'r', identity: 'i' })).toEqual({ room: 'r', identity: 'i' });
    for (const bad of [null, [], 'x', { room: 1 }, { api_secret: 'x' }, { room: 'r'.repeat(129) }]) expect(() => parseTokenBody(bad)).toThrow();
  });
});
