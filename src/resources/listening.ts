// Where a service listens, shared by every kind: whether the process holding its port is the
// managed one (a foreign process there — another LiveKit, an old whisper — answers health checks
// just as well, while ours exits with "address already in use"), and whether its bind addresses
// exist on this machine at all. Observation helpers and one pure check.

import { inCidr, ipBytes, isWildcard, sameIp } from '../ip.js';
import type { Host } from '../platform/host.js';
import type { PortOwner } from '../platform/port-holder.js';

export interface Holder {
  readonly pid: number;
  readonly command: string;
}

export function foreignOf(o: PortOwner | undefined): Holder | undefined {
  return o?.kind === 'foreign' ? { pid: o.pid, command: o.command } : undefined;
}

/**
 * Where a service can listen here. Linux routes a loopback interface's whole subnet locally, so
 * 127.0.0.77 binds although only 127.0.0.1 is configured; elsewhere (macOS) only the exact
 * address does.
 */
export function localAddresses(host: Host): string[] {
  return host.interfaceAddresses().map((i) => (host.platform === 'linux' && i.internal && i.cidr !== null && !i.address.includes(':') ? i.cidr : i.address));
}

/** bind_addresses this machine has no interface for: the program fails with "cannot assign requested address". Pure. */
export function unbindable(title: string, bindAddresses: readonly string[], local: readonly string[] | undefined): string[] {
  if (local === undefined) return [];
  const missing = bindAddresses.filter((a) => {
    const b = ipBytes(a);
    return b !== undefined && !isWildcard(b) && !local.some((l) => (l.includes('/') ? inCidr(b, l) : sameIp(b, ipBytes(l) ?? [])));
  });
  const have = local.map((l) => l.replace(/\/\d+$/, '')).join(', ');
  return missing.map((a) => `bind_addresses: ${a} is not an address of this machine (its interfaces have ${have}): ${title} cannot listen there; use one of those, or 0.0.0.0 for every interface`);
}
