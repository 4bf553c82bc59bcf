// When LiveKit listens beyond loopback, anyone who can reach the port can try its keys and, in
// dev mode, its /debug/pprof endpoints. rules.ts refuses a weak secret or dev: true there
// (unless allow_insecure: true); specWarnings names what allow_insecure let through, for every
// plan to show. Pure, and free of the YAML library: the planner may import it.

import { isIPv4, isIPv6 } from 'node:net';
import type { LiveKitDesired } from '../model.js';

/** LiveKit logs secrets shorter than this as too short (FACTS.md); vm refuses them off loopback. */
export const MIN_EXPOSED_SECRET_LENGTH = 32;
/** The secret of LiveKit's dev mode (`devkey: secret`), printed in its docs: public. */
const WELL_KNOWN_SECRET = 'secret';

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

/** Where LiveKit is reachable from other machines, or undefined when it listens on loopback only. */
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

export type Weakness = 'well-known' | 'short';

/** Why a secret is too weak to face a network, or undefined. */
export function secretWeakness(secret: string): Weakness | undefined {
  if (secret === WELL_KNOWN_SECRET) return 'well-known';
  return secret.length < MIN_EXPOSED_SECRET_LENGTH ? 'short' : undefined;
}

export function describeWeakness(w: Weakness): string {
  return w === 'well-known' ? "is LiveKit's well-known development secret" : `is shorter than ${MIN_EXPOSED_SECRET_LENGTH} characters`;
}

/**
 * Warnings every plan must show for this desired state: LiveKit reachable beyond loopback with
 * a weak secret (or in dev mode). A file only gets here with `allow_insecure: true`; the
 * default (loopback, generated key) never warns.
 */
export function exposureWarnings(lk: LiveKitDesired): string[] {
  const open = exposure(lk.bindAddresses);
  if (open === undefined && lk.expose === undefined) return [];
  const where = open === undefined ? `LiveKit is reachable on the tailnet (expose.${lk.expose?.tailscale === true ? 'tailscale' : 'https'})` : `LiveKit listens on ${describeExposure(open)}`;
  const out: string[] = [];
  if (lk.keys.kind === 'declared') {
    for (const [name, secret] of Object.entries(lk.keys.entries)) {
      const weak = secretWeakness(secret);
      if (weak !== undefined) out.push(`${where} and the secret of key ${JSON.stringify(name)} ${describeWeakness(weak)} (allowed by allow_insecure: true)`);
    }
  }
  if (lk.dev) out.push(`${where} in dev mode, which serves /debug/pprof (allowed by allow_insecure: true)`);
  return out;
}
