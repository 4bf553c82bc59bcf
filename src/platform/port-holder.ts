// Who listens on a TCP port, from /proc (Linux): the LISTEN socket's inode in /proc/net/tcp{,6},
// then the process whose fd points at it. A `GET /` answer proves nothing by itself: another
// LiveKit (an old Voice Mode, `brew services`) on the same port answers `OK` just as well, while
// vm's own exited with "address already in use". So health counts only when the listener is the
// managed process or one of its descendants.
//
// Cheap on the converged path (`vm plan` is benchmarked): two small tables, then only the fds of
// the managed pid (and its children when it does not hold the socket itself). Only a socket that
// is not ours costs a scan of all of /proc, to name the foreign holder.
//
// Without /proc (launchd on macOS) nothing is known and callers keep the plain `GET /` answer.

import { endianness } from 'node:os';
import { ipBytes, isWildcard, sameIp, type IpBytes } from '../ip.js';
import type { Host } from './host.js';

const LISTEN = '0A';
/** Descendants looked at before giving up on the cheap path (LiveKit has none; a wrapper a few). */
const MAX_DESCENDANTS = 64;

export interface PortHolder {
  readonly pid: number;
  readonly command: string;
}

export type PortOwner =
  | { readonly kind: 'free' }
  /** Every matching listener belongs to the managed process or a descendant. */
  | { readonly kind: 'managed' }
  /** pid 0: listening in a process vm may not inspect (another user's). */
  | ({ readonly kind: 'foreign' } & PortHolder);

export interface PortCheck {
  readonly port: number;
  /** The addresses the managed process binds; [] = every interface (any listener on the port conflicts). */
  readonly addresses: readonly string[];
}

interface Listener {
  readonly inode: string;
  readonly address: IpBytes;
}

/**
 * For each check, whether its port is free, held by `managedPid` (or a descendant), or held by
 * someone else. `managedPid` undefined or 0: nothing is ours, every listener is foreign.
 * Undefined where there is no /proc to ask.
 */
export async function portOwners(host: Host, checks: readonly PortCheck[], managedPid: number | undefined): Promise<PortOwner[] | undefined> {
  return ownersOf(host, await listening(host, checks), managedPid);
}

/** The listeners each check collides with: the part that needs no pid, so it can run early. */
export interface Listening {
  readonly checks: readonly PortCheck[];
  readonly inodes: ReadonlyArray<ReadonlySet<string>>;
}

export async function listening(host: Host, checks: readonly PortCheck[]): Promise<Listening | undefined> {
  if (host.platform !== 'linux') return undefined;
  const table = await listeners(host, new Set(checks.map((c) => c.port)));
  return table === undefined ? undefined : { checks, inodes: checks.map((c) => conflicting(table.get(c.port) ?? [], c.addresses)) };
}

export async function ownersOf(host: Host, l: Listening | undefined, managedPid: number | undefined, retried = false): Promise<PortOwner[] | undefined> {
  if (l === undefined) return undefined;
  const wanted = l.inodes;
  const all = new Set(wanted.flatMap((w) => [...w]));
  if (all.size === 0) return wanted.map(() => ({ kind: 'free' }));

  const ours = new Set<string>();
  if (managedPid !== undefined && managedPid > 0) {
    for (const i of await socketInodes(host, managedPid)) ours.add(i);
    if ([...all].some((i) => !ours.has(i))) {
      for (const child of await descendants(host, managedPid)) for (const i of await socketInodes(host, child)) ours.add(i);
    }
  }
  const foreign = [...all].filter((i) => !ours.has(i));
  const holders = foreign.length === 0 ? new Map<string, PortHolder>() : await holdersOf(host, new Set(foreign), managedPid);
  // A socket nobody holds was most likely closed after the tables were read (a LiveKit exiting
  // while the supervisor starts the next one): look once more, afresh, before calling it foreign.
  if (!retried && foreign.some((i) => !holders.has(i))) return ownersOf(host, await listening(host, l.checks), managedPid, true);
  return wanted.map((inodes): PortOwner => {
    if (inodes.size === 0) return { kind: 'free' };
    const theirs = [...inodes].filter((i) => !ours.has(i) && holders.get(i) !== OURS);
    if (theirs.length === 0) return { kind: 'managed' };
    const h = theirs.map((i) => holders.get(i)).find((x) => x !== undefined && x.pid > 0) ?? { pid: 0, command: '(a process vm cannot inspect)' };
    return { kind: 'foreign', pid: h.pid, command: h.command };
  });
}

/** LISTEN sockets on `ports`, from /proc/net/tcp and tcp6; undefined when neither can be read. */
async function listeners(host: Host, ports: ReadonlySet<number>): Promise<Map<number, Listener[]> | undefined> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((t) => host.readFile(t).catch(() => ({ exists: false as const }))));
  if (tables.every((f) => !f.exists)) return undefined;
  const out = new Map<number, Listener[]>();
  for (const f of tables) {
    if (!f.exists) continue;
    for (const line of f.content.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const inode = cols[9];
      if (local === undefined || inode === undefined || cols[3] !== LISTEN) continue;
      const colon = local.lastIndexOf(':');
      const port = Number.parseInt(local.slice(colon + 1), 16);
      if (!ports.has(port)) continue;
      const address = kernelAddress(local.slice(0, colon));
      if (address === undefined) continue;
      out.set(port, [...(out.get(port) ?? []), { inode, address }]);
    }
  }
  return out;
}

/**
 * The kernel prints an address as 32-bit words in host byte order: "0100007F" is 127.0.0.1 on a
 * little-endian machine; tcp6 has four such words.
 */
function kernelAddress(hex: string): IpBytes | undefined {
  if (hex.length !== 8 && hex.length !== 32) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = [0, 2, 4, 6].map((o) => Number.parseInt(hex.slice(w + o, w + o + 2), 16));
    bytes.push(...(endianness() === 'LE' ? word.reverse() : word));
  }
  if (bytes.some((b) => Number.isNaN(b))) return undefined;
  return bytes.length === 4 ? ipBytes(bytes.join('.')) : bytes;
}

/** The listeners a process binding `addresses` would collide with (a wildcard collides with all). */
function conflicting(ls: readonly Listener[], addresses: readonly string[]): Set<string> {
  const ours = addresses.map(ipBytes);
  const any = ours.length === 0 || ours.some((a) => a === undefined || isWildcard(a));
  return new Set(ls.filter((l) => any || isWildcard(l.address) || ours.some((a) => a !== undefined && sameIp(a, l.address))).map((l) => l.inode));
}

/** Inodes of the sockets `pid` has open ([] when it is gone or not ours to read). */
async function socketInodes(host: Host, pid: number): Promise<string[]> {
  const fds = await host.readdir(`/proc/${pid}/fd`).catch(() => []);
  const targets = await Promise.all(fds.map((fd) => host.readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined)));
  return targets.flatMap((t) => /^socket:\[(\d+)\]$/.exec(t ?? '')?.[1] ?? []);
}

/** Children, grandchildren…, from /proc/PID/task/TID/children (absent on some kernels: then []). */
async function descendants(host: Host, pid: number): Promise<number[]> {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < MAX_DESCENDANTS) {
    const p = queue.shift() as number;
    for (const tid of await host.readdir(`/proc/${p}/task`).catch(() => [])) {
      const f = await host.readFile(`/proc/${p}/task/${tid}/children`).catch(() => ({ exists: false as const }));
      if (!f.exists) continue;
      for (const c of f.content.split(/\s+/).filter(Boolean).map(Number)) {
        out.push(c);
        queue.push(c);
      }
    }
  }
  return out;
}

/** Marks a holder found by the full scan to be a descendant of the managed pid after all. */
const OURS: PortHolder = { pid: -1, command: '' };

/**
 * The process holding each inode, from a scan of every /proc/PID/fd. A holder whose parent chain
 * reaches `managedPid` is ours (kernels without `children` files get here for a child's socket).
 */
async function holdersOf(host: Host, inodes: ReadonlySet<string>, managedPid: number | undefined): Promise<Map<string, PortHolder>> {
  const out = new Map<string, PortHolder>();
  for (const pid of (await host.readdir('/proc')).filter((n) => /^\d+$/.test(n)).map(Number)) {
    if (out.size === inodes.size) break;
    for (const inode of await socketInodes(host, pid)) {
      if (!inodes.has(inode) || out.has(inode)) continue;
      if (managedPid !== undefined && managedPid > 0 && (await descendsFrom(host, pid, managedPid))) {
        out.set(inode, OURS);
        continue;
      }
      const cmd = await host.readFile(`/proc/${pid}/cmdline`).catch(() => ({ exists: false as const }));
      out.set(inode, { pid, command: cmd.exists ? cmd.content.split('\0').filter(Boolean).join(' ').slice(0, 120) : '?' });
    }
  }
  return out;
}

async function descendsFrom(host: Host, pid: number, ancestor: number): Promise<boolean> {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    const st = await host.readFile(`/proc/${p}/stat`).catch(() => ({ exists: false as const }));
    if (!st.exists) return false;
    // Fields count from the last ')': comm may hold spaces. The 2nd after it is the parent pid.
    p = Number(st.content.slice(st.content.lastIndexOf(')') + 2).split(' ')[1]);
    if (p === ancestor) return true;
  }
  return false;
}
