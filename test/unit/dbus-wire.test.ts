// The D-Bus wire format vm speaks to systemd (src/platform/dbus-wire.ts), checked against byte
// layouts written out by hand from the specification. Agreement with a real systemd is in
// test/integration/systemd-bus.test.ts.

import { describe, expect, it } from 'vitest';
import { DbusWireError, decodeMessage, encodeMethodCall, messageSize, parseSignature, unitObjectPath } from '../../src/platform/dbus-wire.js';

/** Little-endian message bytes, built field by field as the specification lays them out. */
class Bytes {
  readonly b: number[] = [];
  pad(n: number) {
    while (this.b.length % n !== 0) this.b.push(0);
    return this;
  }
  y(...v: number[]) {
    this.b.push(...v);
    return this;
  }
  u(v: number) {
    this.pad(4);
    this.b.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
  s(v: string) {
    this.u(Buffer.byteLength(v));
    this.b.push(...Buffer.from(v), 0);
    return this;
  }
  g(v: string) {
    this.b.push(v.length, ...Buffer.from(v), 0);
    return this;
  }
  buf() {
    return Buffer.from(this.b);
  }
}

function u64(v: bigint): number[] {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return [...b];
}

/** A METHOD_RETURN to `replySerial` whose body is `body` with signature `sig`. */
function methodReturn(replySerial: number, sig: string, body: Bytes): Buffer {
  const fields = new Bytes();
  fields.y(5).g('u').u(replySerial); // REPLY_SERIAL
  fields.pad(8).y(8).g('g').g(sig); // SIGNATURE
  const h = new Bytes().y(0x6c, 2, 1, 1).u(body.b.length).u(99).u(fields.b.length);
  h.pad(8).y(...fields.b).pad(8);
  return Buffer.concat([h.buf(), body.buf()]);
}

describe('D-Bus wire format', () => {
  it('marshals a Properties.Get call as the specification lays it out', () => {
    const got = encodeMethodCall({ serial: 7, path: '/a', interface: 'i.F', member: 'Get', destination: 'd.x', args: ['ab', 'c'] });
    const body = new Bytes().s('ab').s('c');
    const fields = new Bytes();
    fields.y(1).g('o').s('/a');
    fields.pad(8).y(2).g('s').s('i.F');
    fields.pad(8).y(3).g('s').s('Get');
    fields.pad(8).y(6).g('s').s('d.x');
    fields.pad(8).y(8).g('g').g('ss');
    const want = new Bytes().y(0x6c, 1, 0, 1).u(body.b.length).u(7).u(fields.b.length);
    want.pad(8).y(...fields.b).pad(8).y(...body.b);
    expect([...got]).toEqual(want.b);
    // And it reads back as what it says.
    const back = decodeMessage(got);
    expect(back?.size).toBe(got.length);
    expect(back?.message).toMatchObject({ type: 1, serial: 7, signature: 'ss', body: ['ab', 'c'] });
  });

  it('reads the variant replies systemd sends for Get: strings, booleans, uint32 and uint64', () => {
    const cases: [string, Bytes, unknown][] = [
      ['s', new Bytes().g('s').s('active'), 'active'],
      ['b', new Bytes().g('b').u(1), true],
      ['u', new Bytes().g('u').u(26861), 26861],
      ['t', new Bytes().g('t').pad(8).y(...u64(7039164311n)), 7039164311n],
    ];
    for (const [, body, value] of cases) {
      const msg = methodReturn(3, 'v', body);
      const r = decodeMessage(msg);
      expect(r?.size).toBe(msg.length);
      expect(r?.message).toMatchObject({ type: 2, replySerial: 3, signature: 'v' });
      expect((r?.message.body[0] as { value: unknown }).value).toEqual(value);
    }
  });

  it('reads nested arrays, structs and dicts (a{sv} with an array inside)', () => {
    const body = new Bytes().u(0);
    const start = body.pad(8).b.length;
    // The array's length counts from its first element: "a" (4+1+1), padding (2), "bc" (4+2+1).
    body.s('Names').g('as').u(15).s('a').s('bc');
    body.pad(8).s('N').g('u').u(5);
    const len = body.b.length - start;
    body.b.splice(0, 4, len & 0xff, (len >>> 8) & 0xff, 0, 0);
    const r = decodeMessage(methodReturn(1, 'a{sv}', body));
    const map = r?.message.body[0] as Map<string, { value: unknown }>;
    expect([...map.keys()]).toEqual(['Names', 'N']);
    expect(map.get('Names')?.value).toEqual(['a', 'bc']);
    expect(map.get('N')?.value).toBe(5);
  });

  it('waits for the rest of a message that arrives in pieces, and reads two in a row', () => {
    const one = methodReturn(1, 'v', new Bytes().g('s').s('loaded'));
    const two = methodReturn(2, 'v', new Bytes().g('u').u(0));
    const both = Buffer.concat([one, two]);
    for (let cut = 0; cut < one.length; cut++) expect(decodeMessage(both.subarray(0, cut))).toBeUndefined();
    const first = decodeMessage(both);
    expect(first?.size).toBe(one.length);
    expect(decodeMessage(both.subarray(first?.size))?.message.replySerial).toBe(2);
  });

  it('tells the size of a message from its fixed header alone, once all of it is in (a signal is skipped unread)', () => {
    const one = methodReturn(1, 'v', new Bytes().g('s').s('loaded'));
    const both = Buffer.concat([one, methodReturn(2, 'v', new Bytes().g('u').u(0))]);
    for (let cut = 0; cut < one.length; cut++) expect(messageSize(both.subarray(0, cut))).toBeUndefined();
    expect(messageSize(both)).toBe(one.length);
    expect(messageSize(both)).toBe(decodeMessage(both)?.size);
    const badEndian = Buffer.from(one);
    badEndian[0] = 0x58;
    expect(() => messageSize(badEndian)).toThrow(DbusWireError);
  });

  it('refuses malformed input with a DbusWireError, never a crash or a hang', () => {
    const good = methodReturn(1, 'v', new Bytes().g('s').s('x'));
    const badEndian = Buffer.from(good);
    badEndian[0] = 0x58;
    expect(() => decodeMessage(badEndian)).toThrow(DbusWireError);
    const badVersion = Buffer.from(good);
    badVersion[3] = 2;
    expect(() => decodeMessage(badVersion)).toThrow(DbusWireError);
    // A variant whose string claims to be longer than the message.
    const lying = methodReturn(1, 'v', new Bytes().g('s').u(1000).y(0x41, 0));
    expect(() => decodeMessage(lying)).toThrow(DbusWireError);
    expect(() => parseSignature('a(su')).toThrow(DbusWireError);
    expect(() => parseSignature('z')).toThrow(DbusWireError);
  });

  it('spells unit names in object paths as systemd does', () => {
    expect(unitObjectPath('voicemode-livekit.service')).toBe('/org/freedesktop/systemd1/unit/voicemode_2dlivekit_2eservice');
    expect(unitObjectPath('dbus.service')).toBe('/org/freedesktop/systemd1/unit/dbus_2eservice');
    expect(unitObjectPath('1a_b.service')).toBe('/org/freedesktop/systemd1/unit/_31a_5fb_2eservice');
  });
});
