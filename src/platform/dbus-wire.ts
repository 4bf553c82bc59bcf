// The D-Bus wire format, as much as vm needs to ask systemd for a unit's properties: marshal a
// method call whose arguments are strings, and read any message back (every type the
// specification defines, so a reply full of structs and arrays parses like a small one).
// Pure functions over Buffers; the socket is in systemd-bus.ts.
//
// Why not a library: the D-Bus packages on npm (dbus-next, dbus-native) pull in xml2js,
// event-stream and more, and loading them would cost `vm plan` more than the spawn of
// `systemctl show` this replaces. Spec: https://dbus.freedesktop.org/doc/dbus-specification.html

export class DbusWireError extends Error {
  override readonly name = 'DbusWireError';
}

export const MESSAGE_TYPE = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;

const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8, unixFds: 9 } as const;

export interface MethodCall {
  readonly serial: number;
  readonly path: string;
  readonly interface: string;
  readonly member: string;
  readonly destination?: string;
  /** Every argument is a string (signature "s…"). */
  readonly args: readonly string[];
}

/** A value read off the wire: numbers (64-bit ones as bigint), strings, booleans, arrays, structs (arrays), dicts (Maps) and variants. */
export type DbusValue = number | bigint | string | boolean | DbusValue[] | Map<DbusValue, DbusValue> | Variant;

export interface Variant {
  readonly signature: string;
  readonly value: DbusValue;
}

export interface Message {
  readonly type: number;
  readonly serial: number;
  readonly replySerial?: number;
  readonly errorName?: string;
  readonly signature: string;
  readonly body: DbusValue[];
}

/** Marshals a method call (little-endian, protocol version 1). */
export function encodeMethodCall(call: MethodCall): Buffer {
  const body = new Writer();
  for (const a of call.args) body.string(a);
  const h = new Writer();
  h.byte(0x6c); // 'l': little-endian
  h.byte(MESSAGE_TYPE.methodCall);
  h.byte(0); // flags
  h.byte(1); // protocol version
  h.uint32(body.length);
  h.uint32(call.serial);
  const fields: [number, string, string][] = [
    [FIELD.path, 'o', call.path],
    [FIELD.interface, 's', call.interface],
    [FIELD.member, 's', call.member],
    ...(call.destination === undefined ? [] : [[FIELD.destination, 's', call.destination] as [number, string, string]]),
    ...(call.args.length === 0 ? [] : [[FIELD.signature, 'g', 's'.repeat(call.args.length)] as [number, string, string]]),
  ];
  h.array(8, () => {
    for (const [code, sig, value] of fields) {
      h.align(8);
      h.byte(code);
      h.signature(sig);
      if (sig === 'g') h.signature(value);
      else h.string(value);
    }
  });
  h.align(8);
  return Buffer.concat([h.toBuffer(), body.toBuffer()]);
}

/** The fixed part of the message at the start of `buf`; undefined until all of the message is in. */
function frame(buf: Buffer): { little: boolean; bodyLength: number; serial: number; bodyStart: number; size: number } | undefined {
  if (buf.length < 16) return undefined;
  const little = buf[0] === 0x6c;
  if (!little && buf[0] !== 0x42) throw new DbusWireError(`bad endianness byte ${buf[0]}`);
  if (buf[3] !== 1) throw new DbusWireError(`unsupported protocol version ${buf[3]}`);
  const r0 = new Reader(buf, little);
  r0.pos = 4;
  const bodyLength = r0.uint32();
  const serial = r0.uint32();
  const fieldsLength = r0.uint32();
  const headerEnd = 16 + fieldsLength;
  const bodyStart = headerEnd + ((8 - (headerEnd % 8)) % 8);
  const size = bodyStart + bodyLength;
  if (size > 128 * 1024 * 1024) throw new DbusWireError(`message of ${size} bytes`);
  return buf.length < size ? undefined : { little, bodyLength, serial, bodyStart, size };
}

/**
 * The size of the message at the start of `buf`, from its fixed header alone (a caller can skip a
 * message it does not want without reading it); undefined while it is incomplete.
 */
export function messageSize(buf: Buffer): number | undefined {
  return frame(buf)?.size;
}

/**
 * Reads one message from the start of `buf`. Returns undefined while the message is incomplete;
 * throws DbusWireError when it is malformed.
 */
export function decodeMessage(buf: Buffer): { message: Message; size: number } | undefined {
  const f = frame(buf);
  if (f === undefined) return undefined;
  const { little, bodyLength, serial, bodyStart, size } = f;
  const r = new Reader(buf.subarray(0, size), little);
  r.pos = 12;
  const fields = r.value(parseSignature('a(yv)')[0] as Type) as DbusValue[];
  const header = new Map<number, DbusValue>();
  for (const f of fields) {
    const [code, v] = f as [number, Variant];
    header.set(code, v.value);
  }
  const signature = (header.get(FIELD.signature) as string | undefined) ?? '';
  r.pos = bodyStart;
  const body = parseSignature(signature).map((t) => r.value(t));
  if (r.pos !== size) throw new DbusWireError(`body of ${bodyLength} bytes, signature "${signature}" read ${r.pos - bodyStart}`);
  const replySerial = header.get(FIELD.replySerial) as number | undefined;
  const errorName = header.get(FIELD.errorName) as string | undefined;
  return {
    message: { type: buf[1] as number, serial, signature, body, ...(replySerial === undefined ? {} : { replySerial }), ...(errorName === undefined ? {} : { errorName }) },
    size,
  };
}

/** A unit name as systemd spells it in an object path: every byte but [A-Za-z0-9] as _xx. */
export function unitObjectPath(unit: string): string {
  let out = '';
  for (const byte of Buffer.from(unit, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9]/.test(c) && !(out === '' && /[0-9]/.test(c)) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return `/org/freedesktop/systemd1/unit/${out}`;
}

// ---- types -------------------------------------------------------------------------------

type Type = { readonly code: string; readonly elem?: Type; readonly fields?: readonly Type[] };

const ALIGN: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, s: 4, o: 4, g: 1, h: 4, a: 4, '(': 8, '{': 8, v: 1 };

export function parseSignature(sig: string): Type[] {
  let i = 0;
  const one = (): Type => {
    const c = sig[i++];
    if (c === undefined) throw new DbusWireError(`signature "${sig}" ends early`);
    if (c === 'a') return { code: 'a', elem: one() };
    if (c === '(' || c === '{') {
      const close = c === '(' ? ')' : '}';
      const fields: Type[] = [];
      while (sig[i] !== close) {
        if (i >= sig.length) throw new DbusWireError(`signature "${sig}" is missing "${close}"`);
        fields.push(one());
      }
      i++;
      return { code: c, fields };
    }
    if (!(c in ALIGN)) throw new DbusWireError(`signature "${sig}" has unknown type "${c}"`);
    return { code: c };
  };
  const out: Type[] = [];
  while (i < sig.length) out.push(one());
  return out;
}

// ---- reading and writing -----------------------------------------------------------------

class Reader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly little: boolean,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DbusWireError('message ends early');
  }
  align(n: number): void {
    this.pos += (n - (this.pos % n)) % n;
  }
  /** A fixed-width value: `read` gets the offset; the reader moves past `size` bytes. */
  private fixed<T>(size: number, read: (at: number) => T): T {
    this.need(size);
    const v = read(this.pos);
    this.pos += size;
    return v;
  }
  uint32(): number {
    return this.fixed(4, (at) => (this.little ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at)));
  }
  private text(len: number): string {
    this.need(len + 1);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len + 1; // and the NUL
    return s;
  }

  value(t: Type): DbusValue {
    this.align(ALIGN[t.code] as number);
    const b = this.buf;
    const le = this.little;
    switch (t.code) {
      case 'y':
        return this.fixed(1, (at) => b[at] as number);
      case 'b':
        return this.uint32() !== 0;
      case 'n':
        return this.fixed(2, (at) => (le ? b.readInt16LE(at) : b.readInt16BE(at)));
      case 'q':
        return this.fixed(2, (at) => (le ? b.readUInt16LE(at) : b.readUInt16BE(at)));
      case 'i':
        return this.fixed(4, (at) => (le ? b.readInt32LE(at) : b.readInt32BE(at)));
      case 'u':
      case 'h':
        return this.uint32();
      case 'x':
        return this.fixed(8, (at) => (le ? b.readBigInt64LE(at) : b.readBigInt64BE(at)));
      case 't':
        return this.fixed(8, (at) => (le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)));
      case 'd':
        return this.fixed(8, (at) => (le ? b.readDoubleLE(at) : b.readDoubleBE(at)));
      case 's':
      case 'o':
        return this.text(this.uint32());
      case 'g':
        return this.text(this.fixed(1, (at) => b[at] as number));
      case 'v': {
        const signature = this.text(this.fixed(1, (at) => b[at] as number));
        const types = parseSignature(signature);
        if (types.length !== 1) throw new DbusWireError(`variant of signature "${signature}"`);
        return { signature, value: this.value(types[0] as Type) };
      }
      case '(':
        return (t.fields ?? []).map((f) => this.value(f));
      case '{': {
        const [k, v] = t.fields ?? [];
        if (k === undefined || v === undefined || (t.fields ?? []).length !== 2) throw new DbusWireError('dict entry without a key and a value');
        return [this.value(k), this.value(v)];
      }
      case 'a': {
        const len = this.uint32();
        const elem = t.elem as Type;
        this.align(ALIGN[elem.code] as number);
        const end = this.pos + len;
        if (end > b.length) throw new DbusWireError('array runs past the message');
        const items: DbusValue[] = [];
        while (this.pos < end) items.push(this.value(elem));
        if (this.pos !== end) throw new DbusWireError('array element runs past the array');
        if (elem.code !== '{') return items;
        return new Map(items.map((e) => e as [DbusValue, DbusValue]));
      }
      default:
        throw new DbusWireError(`unknown type "${t.code}"`);
    }
  }
}

class Writer {
  private readonly chunks: number[] = [];

  get length(): number {
    return this.chunks.length;
  }
  align(n: number): void {
    while (this.chunks.length % n !== 0) this.chunks.push(0);
  }
  byte(v: number): void {
    this.chunks.push(v & 0xff);
  }
  uint32(v: number): void {
    this.align(4);
    this.chunks.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.uint32(bytes.length);
    for (const x of bytes) this.chunks.push(x);
    this.chunks.push(0);
  }
  signature(s: string): void {
    this.byte(s.length);
    for (const x of Buffer.from(s, 'latin1')) this.chunks.push(x);
    this.chunks.push(0);
  }
  /** An array: its byte length, then (aligned to the element) what `fill` writes. */
  array(elemAlign: number, fill: () => void): void {
    this.uint32(0);
    const lenAt = this.chunks.length - 4;
    this.align(elemAlign);
    const start = this.chunks.length;
    fill();
    const len = this.chunks.length - start;
    this.chunks.splice(lenAt, 4, len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff, (len >>> 24) & 0xff);
  }
  toBuffer(): Buffer {
    return Buffer.from(this.chunks);
  }
}
