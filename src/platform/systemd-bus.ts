// Reads a systemd user unit's properties straight from the user manager's private D-Bus socket
// ($XDG_RUNTIME_DIR/systemd/private, the socket `systemctl --user` itself talks to first).
// One connection, one write, one small reply per property: ~1 ms, where spawning `systemctl
// --user show` costs `vm plan` ~5 ms of blocked main thread plus the child_process module
// (bench/plan.ts). Read-only: it calls org.freedesktop.DBus.Properties.Get and nothing else
// (not GetAll: its ~270 properties take longer to parse than the rest of the exchange). Any trouble
// (no socket, refused auth, an error reply, a timeout) answers undefined, and the caller asks
// systemctl instead, which also explains what is wrong.

import { createConnection } from 'node:net';
import { join } from 'node:path';
import { decodeMessage, encodeMethodCall, MESSAGE_TYPE, messageSize, unitObjectPath, type DbusValue, type Message, type Variant } from './dbus-wire.js';

/** Properties in `systemctl show` form (booleans yes/no, numbers in decimal). */
export type UnitProperties = ReadonlyMap<string, string>;

const UNIT = 'org.freedesktop.systemd1.Unit';
const SERVICE = 'org.freedesktop.systemd1.Service';
/** Where each property `systemctl show` would print lives. */
const INTERFACE_OF: Record<string, string> = {
  LoadState: UNIT,
  ActiveState: UNIT,
  SubState: UNIT,
  UnitFileState: UNIT,
  NeedDaemonReload: UNIT,
  FragmentPath: UNIT,
  MainPID: SERVICE,
  ExecMainStartTimestampMonotonic: SERVICE,
};

/** `props` of the service unit `unit`, or undefined when the bus does not answer them all. */
export function unitPropertiesOverBus(runtimeDir: string | undefined, unit: string, props: readonly string[], timeoutMs = 2_000): Promise<UnitProperties | undefined> {
  if (props.some((p) => INTERFACE_OF[p] === undefined)) return Promise.resolve(undefined);
  if (runtimeDir === undefined || runtimeDir === '' || typeof process.getuid !== 'function') return Promise.resolve(undefined);
  const uid = process.getuid();
  return new Promise((resolve) => {
    const sock = createConnection(join(runtimeDir, 'systemd', 'private'));
    const replies = new Map<number, Message>();
    let buf: Buffer = Buffer.alloc(0);
    let authed = false;
    let done = false;
    const finish = (v: UnitProperties | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    sock.on('error', () => finish(undefined));
    sock.on('close', () => finish(undefined));
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      try {
        if (!authed) {
          const eol = buf.indexOf('\r\n');
          if (eol < 0) return;
          if (!buf.toString('latin1', 0, eol).startsWith('OK ')) return finish(undefined);
          authed = true;
          buf = buf.subarray(eol + 2);
        }
        for (let size = messageSize(buf); size !== undefined; size = messageSize(buf)) {
          // Signals are skipped unread. Each Get on a unit that is not loaded (a leftover probe)
          // loads and unloads it, and systemd tells every private connection so (UnitNew,
          // UnitRemoved): a plan of one LiveKit gets 144 signals (~27 KB), and decoding them cost
          // it 8–13 ms (README, Speed).
          const m = buf[1] === MESSAGE_TYPE.signal ? undefined : decodeMessage(buf);
          buf = buf.subarray(size);
          if (m?.message.replySerial !== undefined) replies.set(m.message.replySerial, m.message);
        }
      } catch {
        return finish(undefined);
      }
      if (replies.size === props.length) finish(toProperties(props, replies));
    });
    // SASL EXTERNAL (the kernel tells systemd our uid), then BEGIN and every call in one write:
    // the server reads them in order once it has said OK, as it does for sd-bus clients.
    const hexUid = Buffer.from(String(uid), 'ascii').toString('hex');
    const path = unitObjectPath(unit);
    sock.write(
      Buffer.concat([
        Buffer.from(`\0AUTH EXTERNAL ${hexUid}\r\nBEGIN\r\n`, 'ascii'),
        ...props.map((prop, i) =>
          encodeMethodCall({ serial: i + 1, path, interface: 'org.freedesktop.DBus.Properties', member: 'Get', destination: 'org.freedesktop.systemd1', args: [INTERFACE_OF[prop] as string, prop] }),
        ),
      ]),
    );
  });
}

/** The replies (by serial: props[serial - 1]) as properties, or undefined unless each is a plain value. */
function toProperties(props: readonly string[], replies: ReadonlyMap<number, Message>): UnitProperties | undefined {
  const out = new Map<string, string>();
  for (const [i, prop] of props.entries()) {
    const reply = replies.get(i + 1);
    if (reply === undefined || reply.type !== MESSAGE_TYPE.methodReturn || reply.signature !== 'v') return undefined;
    const text = showForm((reply.body[0] as Variant).value);
    if (text === undefined) return undefined;
    out.set(prop, text);
  }
  return out;
}

/** A value as `systemctl show` prints it; undefined for arrays and structs (vm reads none). */
function showForm(v: DbusValue): string | undefined {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}
