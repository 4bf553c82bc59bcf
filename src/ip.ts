// IP address arithmetic, pure: comparing the addresses a user writes (bind_addresses), the kernel
// prints (/proc/net/tcp{,6}) and Node reports (os.networkInterfaces) needs one canonical form,
// because "::1", "0:0::1" and "::ffff:127.0.0.1" vs "127.0.0.1" name the same thing.

/** 16 bytes; an IPv4 address as its IPv4-mapped IPv6 form (::ffff:a.b.c.d). Undefined if not an IP. */
export type IpBytes = readonly number[];

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function ipBytes(addr: string): IpBytes | undefined {
  const a = addr.replace(/%.*$/, ''); // a zone (fe80::1%eth0) does not change the address
  const v4 = parseV4(a);
  if (v4 !== undefined) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4];
  return parseV6(a);
}

function parseV4(a: string): number[] | undefined {
  const m = V4.exec(a);
  if (m === null) return undefined;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : undefined;
}

function parseV6(a: string): number[] | undefined {
  if (!a.includes(':')) return undefined;
  const halves = a.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    const parts = s.split(':');
    for (const [i, p] of parts.entries()) {
      const v4 = i === parts.length - 1 ? parseV4(p) : undefined;
      if (v4 !== undefined) out.push(...v4);
      else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(Number.parseInt(p, 16) >> 8, Number.parseInt(p, 16) & 0xff);
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 16 - head.length - tail.length;
  if (halves.length === 2 ? missing < 2 : missing !== 0) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...tail];
}

/** 0.0.0.0 or :: (every interface). */
export function isWildcard(b: IpBytes): boolean {
  const mapped = b.slice(0, 12).every((x, i) => x === (i >= 10 ? 0xff : 0));
  return b.every((x) => x === 0) || (mapped && b.slice(12).every((x) => x === 0));
}

export function sameIp(a: IpBytes, b: IpBytes): boolean {
  return a.every((x, i) => x === b[i]);
}

/** Whether `addr` lies in `cidr` ("127.0.0.1/8", "fd00::1/64"); an IPv4 prefix counts IPv4 bits. */
export function inCidr(addr: IpBytes, cidr: string): boolean {
  const slash = cidr.lastIndexOf('/');
  const net = ipBytes(slash < 0 ? cidr : cidr.slice(0, slash));
  if (net === undefined) return false;
  const v4 = parseV4(slash < 0 ? cidr : cidr.slice(0, slash)) !== undefined;
  const len = slash < 0 ? 128 : Number(cidr.slice(slash + 1)) + (v4 ? 96 : 0);
  for (let bit = 0; bit < len && bit < 128; bit++) {
    const mask = 0x80 >> (bit % 8);
    if (((addr[bit >> 3] ?? 0) & mask) !== ((net[bit >> 3] ?? 0) & mask)) return false;
  }
  return true;
}
