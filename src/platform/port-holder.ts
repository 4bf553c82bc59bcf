// Who listens on a TCP port, from /proc (Linux): the socket's inode in /proc/net/tcp{,6}, then
// the process whose fd points at it. Only asked when LiveKit is not healthy, so the plan can name
// a foreign process holding the port instead of starting a LiveKit that can only fail.

import type { Host } from './host.js';

const LISTEN = '0A';

export async function portHolder(host: Host, port: number): Promise<{ pid: number; command: string } | undefined> {
  if (host.platform !== 'linux') return undefined;
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const f = await host.readFile(table).catch(() => ({ exists: false as const }));
    if (!f.exists) continue;
    for (const line of f.content.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined || cols[3] !== LISTEN) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port && cols[9] !== undefined) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const pid of (await host.readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const fds = await host.readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      const target = await host.readlink(`/proc/${pid}/fd/${fd}`).catch(() => undefined);
      const m = target === undefined ? null : /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1] !== undefined && inodes.has(m[1])) {
        const cmd = await host.readFile(`/proc/${pid}/cmdline`).catch(() => ({ exists: false as const }));
        const command = cmd.exists ? cmd.content.split('\0').filter(Boolean).join(' ').slice(0, 120) : '?';
        return { pid: Number(pid), command };
      }
    }
  }
  // Listening, but in a process we may not inspect (another user's): still say the port is taken.
  return { pid: 0, command: '(a process vm cannot inspect)' };
}
