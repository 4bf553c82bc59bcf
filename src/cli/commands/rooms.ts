// vm rooms: the rooms on the chosen server, through its room API (which proves the keys work).

import { UserError } from '../../errors.js';
import { chooseConnection } from '../../ops/connection.js';
import { loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';
import { parseTarget, reportChoice } from './env.js';

const TIMEOUT_MS = 5_000;

export async function roomsCommand(io: CliIo, o: { file?: string; target?: string; json?: boolean; service?: string }): Promise<number> {
  const target = parseTarget(o.target);
  const { desired, host } = await loadContext(io, o.file);
  const c = await chooseConnection(host, desired, target, o.service);
  reportChoice(io.stderr, c, target);
  const r = await c.access.listRooms(c, TIMEOUT_MS);
  if (!r.ok) throw new UserError('NO_CONNECTION', `${c.url} refused to list rooms with key ${c.apiKey}: ${r.why}`);
  const created = (s: number) => (s > 0 ? new Date(s * 1000).toISOString() : null);
  if (o.json === true) {
    io.stdout.write(`${JSON.stringify({ target: c.target, url: c.url, rooms: r.rooms.map((m) => ({ name: m.name, sid: m.sid, participants: m.participants, created_at: created(m.createdAt) })) })}\n`);
    return EXIT.ok;
  }
  if (r.rooms.length === 0) {
    io.stdout.write(`no rooms on ${c.url}\n`);
    return EXIT.ok;
  }
  const rows = [['NAME', 'SID', 'PARTICIPANTS', 'CREATED'], ...r.rooms.map((m) => [m.name, m.sid, String(m.participants), created(m.createdAt) ?? '-'])];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  io.stdout.write(rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n');
  return EXIT.ok;
}
