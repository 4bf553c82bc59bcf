// base_url policy, shared by validation (plan time) and the installer (defence in depth):
// https anywhere; plain http only to this machine (tests, local mirrors), since a checksum
// fetched over plain http from elsewhere proves nothing.

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Returns why `url` is not an acceptable release base URL, or undefined when it is. */
export function baseUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `not a URL: ${JSON.stringify(url)}`;
  }
  if (u.username !== '' || u.password !== '') return 'base_url must not carry credentials';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:') {
    return LOOPBACK_HOSTS.has(u.hostname)
      ? undefined
      : `http:// is only allowed for 127.0.0.1 or localhost (got ${u.hostname}); use https://`;
  }
  return `unsupported scheme ${u.protocol} (use https://)`;
}
