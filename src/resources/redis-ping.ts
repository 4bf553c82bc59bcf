// Does a Redis answer? `AUTH` (when a password is declared), `SELECT` (a db other than 0), then
// `PING` → `PONG`, as RESP over one TCP exchange through the host port: no client library, so
// nothing heavy lands on `vm plan`'s path. Used for LiveKit's redis: (the blocker before a start)
// and as the health check of the `redis` kind. The password is sent, never shown: errors carry
// only what the server answered (Redis's own error lines name no secret).

import type { HealthState } from '../model.js';
import type { Host } from '../platform/host.js';

export interface RedisTarget {
  /** host:port, as the file gives it ([v6]:port for IPv6). */
  readonly address: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly db?: number | undefined;
  readonly tls?: boolean | undefined;
}

export type RedisAnswer = { readonly ok: true } | { readonly ok: false; readonly error: string };

/** A RESP array of bulk strings: how a client sends a command. */
export function respCommand(...args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a, 'utf8')}\r\n${a}\r\n`).join('')}`;
}

/** The simple-string/error replies in `received`, one per line (`+OK`, `-WRONGPASS …`, `+PONG`). */
export function respReplies(received: string): string[] {
  // The last piece is an unfinished line (or '' after the final CRLF).
  return received.split('\r\n').slice(0, -1).filter((l) => l.startsWith('+') || l.startsWith('-'));
}

/** `host:port` → its parts; undefined when it is not that shape. */
export function splitAddress(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(address);
  if (m === null) return undefined;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { host: m[1] ?? m[2] ?? '', port } : undefined;
}

export async function pingRedis(host: Host, t: RedisTarget, timeoutMs = 1_500): Promise<RedisAnswer> {
  const at = splitAddress(t.address);
  if (at === undefined) return { ok: false, error: `${t.address} is not host:port` };
  const commands: string[] = [];
  if (t.password !== undefined) commands.push(t.username === undefined ? respCommand('AUTH', t.password) : respCommand('AUTH', t.username, t.password));
  if (t.db !== undefined && t.db !== 0) commands.push(respCommand('SELECT', String(t.db)));
  commands.push(respCommand('PING'));
  // Pipelined: Redis answers each in order; one line per command.
  const r = await host.tcpExchange({ ...at, ...(t.tls === true ? { tls: true } : {}) }, commands.join(''), (got) => {
    const replies = respReplies(got);
    return replies.length >= commands.length || replies.some((l) => l.startsWith('-'));
  }, timeoutMs);
  if (!r.ok) return { ok: false, error: r.error };
  const replies = respReplies(r.received);
  const failed = replies.find((l) => l.startsWith('-'));
  if (failed !== undefined) return { ok: false, error: oneLine(failed.slice(1)) };
  if (replies.at(-1) !== '+PONG' || replies.length < commands.length) return { ok: false, error: `unexpected answer to PING: ${oneLine(r.received.slice(0, 80))}` };
  return { ok: true };
}

/** The same as a health state: PONG is healthy; `LOADING` means still starting. */
export async function observeRedisHealth(host: Host, t: RedisTarget, timeoutMs = 1_000): Promise<HealthState> {
  const r = await pingRedis(host, t, timeoutMs);
  if (r.ok) return { kind: 'healthy' };
  if (r.error.startsWith('LOADING')) return { kind: 'starting', status: 0 };
  return { kind: 'unhealthy', detail: r.error };
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}
