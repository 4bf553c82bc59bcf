// `vm web` after start: time to the first byte of `/` and of `/api/status` (median of N
// requests), beside `node -e 0` and `vm status` as processes in the same run (these machines are
// noisy: rounds are interleaved). `/api/status` observes as `vm status` does (the snapshot and the
// client checks) plus the connection choice, in a process that is already up.
//
// Run: npx vitest run --config bench/vitest.config.ts bench/web.ts (after `npm run build`).

import { request } from 'node:http';
import { it } from 'vitest';
import { startWeb } from '../test/helpers/web-child.js';
import { median, processLiveKit, ROUNDS, rounds, timed, VM } from './lib.js';

/** Milliseconds to the response's first byte (its status line and headers); the body is drained. */
function firstByte(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    // A fresh connection each time, as a browser's first request would be.
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`));
      res.resume();
      res.on('end', () => resolve(ms));
    });
    req.on('error', reject);
    req.end();
  });
}

it('vm web: first byte of / and /api/status, against node -e 0 and vm status', async () => {
  const { env, cleanup } = await processLiveKit();
  try {
    const t0 = Date.now();
    const web = await startWeb([], env);
    const startMs = Date.now() - t0;
    try {
      const host = { host: `127.0.0.1:${web.port}` };
      const api = () => firstByte(web.port, '/api/status', { ...host, 'x-vm-key': web.key });
      for (let i = 0; i < 3; i++) {
        timed([VM, 'status'], env);
        await api();
      }
      const t = await rounds({ node: () => timed(['-e', '0'], env), status: () => timed([VM, 'status'], env), page: () => firstByte(web.port, '/', host), api });
      const f = (x: number) => x.toFixed(1);
      console.log(
        `vm web bench (${ROUNDS} rounds): start to URL line ${startMs} ms; first byte of / ${f(median(t.page))} ms, of /api/status ${f(median(t.api))} ms; baselines node -e 0 ${f(median(t.node))} ms, vm status ${f(median(t.status))} ms`,
      );
    } finally {
      await web.stop();
    }
  } finally {
    await cleanup();
  }
});
