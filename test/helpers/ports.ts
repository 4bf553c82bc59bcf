// Free TCP ports on 127.0.0.1 for tests.
//
// Not the kernel's ephemeral ports (bind to 0): Linux hands those out from ip_local_port_range
// (32768–60999) to every outgoing connection and every `listen(0)` as well, so a port a test
// chose could be taken by another test's client socket before the test's server binds it, or
// fall inside a LiveKit RTC range a test declares (50000–60000 by default). Instead each vitest
// worker takes ports from its own slice of 20000–31999 (VITEST_POOL_ID: two workers never pick
// the same port), at random within it, each checked free by binding it, never handed out twice
// by one process.

import { createServer } from 'node:net';
import type { Server } from 'node:net';

const FIRST = 20_000;
const SLICE = 3_000;
const SLICES = 4;

const pool = Number(process.env['VITEST_POOL_ID'] ?? 0);
const sliceStart = FIRST + ((Number.isInteger(pool) && pool > 0 ? pool : 0) % SLICES) * SLICE;
const handedOut = new Set<number>();

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A port of this worker's slice that was free a moment ago, held open until the caller closes it. */
async function take(): Promise<{ port: number; server: Server }> {
  for (let tries = 0; tries < SLICE; tries++) {
    const port = sliceStart + Math.floor(Math.random() * SLICE);
    if (handedOut.has(port)) continue;
    const server = await listen(port);
    if (server === undefined) continue;
    handedOut.add(port);
    return { port, server };
  }
  throw new Error(`freePort: no free port left in ${sliceStart}-${sliceStart + SLICE - 1}`);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const { port, server } = await take();
  await close(server);
  return port;
}

/** `n` distinct free ports (all held open together while they are chosen). */
export async function freePorts(n: number): Promise<number[]> {
  const taken: Array<{ port: number; server: Server }> = [];
  try {
    for (let i = 0; i < n; i++) taken.push(await take());
    return taken.map((t) => t.port);
  } finally {
    await Promise.all(taken.map((t) => close(t.server)));
  }
}
