// Whether a service listens beyond loopback, and how to say where: every kind's rules judge
// their bind addresses with it (a service without authentication must not face a network;
// LiveKit's weak secrets must not either: services/livekit/exposure-rules.ts). Pure, and free
// of the YAML library: the planner may import it.

import { isIPv4, isIPv6 } from 'node:net';

/** 127.0.0.0/8, ::1, and ::ffff:127.x.y.z (IPv4-mapped loopback). Anything else reaches a network. */
export function isLoopback(address: string): boolean {
  if (isIPv4(address)) return address.split('.')[0] === '127';
  if (!isIPv6(address)) return false;
  const g = ipv6Groups(address);
  if (g === undefined) return false;
  const zeros = (n: number): boolean => g.slice(0, n).every((x) => x === 0);
  if (zeros(7) && g[7] === 1) return true;
  return zeros(5) && g[5] === 0xffff && (g[6] ?? 0) >> 8 === 127;
}

/** The eight 16-bit groups of a valid IPv6 literal (an embedded IPv4 tail counts as two). */
function ipv6Groups(address: string): number[] | undefined {
  let a = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4?.[1] !== undefined) {
    const [b0, b1, b2, b3] = v4[1].split('.').map(Number) as [number, number, number, number];
    a = `${a.slice(0, -v4[1].length)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = '', tail] = a.split('::');
  const part = (s: string): number[] => (s === '' ? [] : s.split(':').map((x) => parseInt(x, 16)));
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  const groups = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return groups.length === 8 ? groups : undefined;
}

export interface Exposure {
  /** The first address that is not loopback, and its index in bind_addresses. */
  readonly address: string;
  readonly index: number;
  /** How many more non-loopback addresses follow. */
  readonly more: number;
}

/** Where the service is reachable from other machines, or undefined when it listens on loopback only. */
export function exposure(bindAddresses: readonly unknown[]): Exposure | undefined {
  const open = bindAddresses
    .map((a, index) => ({ a, index }))
    .filter((x): x is { a: string; index: number } => typeof x.a === 'string' && (isIPv4(x.a) || isIPv6(x.a)) && !isLoopback(x.a));
  const first = open[0];
  return first === undefined ? undefined : { address: first.a, index: first.index, more: open.length - 1 };
}

/** `192.168.1.20 (bind_addresses[1], not loopback)`, `0.0.0.0 (bind_addresses[0], every interface) and 1 more address`. */
export function describeExposure(e: Exposure): string {
  const what = e.address === '0.0.0.0' || /^[0:]+$/.test(e.address) ? 'every interface' : 'not loopback';
  const more = e.more === 0 ? '' : ` and ${e.more} more address${e.more === 1 ? '' : 'es'}`;
  return `${e.address} (bind_addresses[${e.index}], ${what})${more}`;
}
