// LiveKit's fallback URL (services.livekit.fallback.url): the host decides whether plain ws://
// or http:// is acceptable (only to this machine: the secret-bearing token would otherwise
// cross a network in clear), and a URL carries no credentials.

import { show } from '../../spec/messages.js';

/** Why `url` is not an acceptable fallback URL, or undefined when it is. */
export function fallbackUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `url is not a URL (got ${show(url)})`;
  }
  if (u.username !== '' || u.password !== '') return 'url must not carry credentials: put the key in api_key and the secret in api_secret';
  if (u.protocol === 'wss:' || u.protocol === 'https:') return undefined;
  if (u.protocol === 'ws:' || u.protocol === 'http:') {
    return isLocalHost(u.hostname) ? undefined : `${u.protocol}// is only allowed for 127.0.0.0/8 or localhost (got ${u.hostname}); use wss://`;
  }
  return `url must start with wss:// or https:// (got ${u.protocol}//)`;
}

function isLocalHost(host: string): boolean {
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `https://x` as clients are given it: `wss://x` (LiveKit's SDKs take either). */
export function clientFallbackUrl(url: string): string {
  return url.replace(/^https:/, 'wss:').replace(/^http:/, 'ws:');
}
