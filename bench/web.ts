// `vm web` after start: time to the first byte of `/` and of `/api/status` (median of N
// requests), beside `node -e 0` and `vm status` as processes in the same run (these machines are
// noisy: rounds are interleaved). `/api/status` observes as `vm status` does (the snapshot and the
// client checks) plus the connection choice, in a process that is already up.
//
// Run: npx vitest run --config bench/vitest.config.ts bench/web.ts (after `npm run build`).

import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { it } from 'vitest';
import { freePorts } from '../test/helpers/ports.js';
import { writeStandin } from '../test/helpers/standin.js';
import { tempHome } from '../test/helpers/systemd.js';
import { ROOT, runVm } from '../test/helpers/vm.js';
import { startWeb } from '../test/helpers/web-child.js';

const ROUNDS = Number(process.env['BENCH_PAIRS'] ?? 20);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function timedProcess(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

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
  const home = await tempHome();
  try {
    const [port, tcp] = (await freePorts(2)) as [number, number];
    const bin = `${home.env.HOME}/bin/livekit-server`;
    await writeStandin(bin, { version: '1.9.0', readyAfterMs: 200 });
    const spec = `${home.env.HOME}/voicemode.services.yaml`;
    await writeFile(spec, `version: 1\nsupervisor: process\nservices:\n  livekit:\n    install: { method: path, path: "${bin}" }\n    port: ${port}\n    rtc: { tcp_port: ${tcp} }\n`);
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], ...home.env, VOICEMODE_SERVICES_FILE: spec };
    const applied = await runVm(['apply', '--yes'], env as Record<string, string>);
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);
    const t0 = Date.now();
    const web = await startWeb([], env as Record<string, string>);
    const startMs = Date.now() - t0;
    try {
      const host = { host: `127.0.0.1:${web.port}` };
      const vm = `${ROOT}bin/vm.cjs`;
      for (let i = 0; i < 3; i++) {
        timedProcess([vm, 'status'], env);
        await firstByte(web.port, '/api/status', { ...host, 'x-vm-key': web.key });
      }
      const node: number[] = [];
      const status: number[] = [];
      const page: number[] = [];
      const api: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        node.push(timedProcess(['-e', '0'], env));
        status.push(timedProcess([vm, 'status'], env));
        page.push(await firstByte(web.port, '/', host));
        api.push(await firstByte(web.port, '/api/status', { ...host, 'x-vm-key': web.key }));
      }
      const f = (x: number) => x.toFixed(1);
      console.log(
        `vm web bench (${ROUNDS} rounds): start to URL line ${startMs} ms; first byte of / ${f(median(page))} ms, of /api/status ${f(median(api))} ms; baselines node -e 0 ${f(median(node))} ms, vm status ${f(median(status))} ms`,
      );
    } finally {
      await web.stop();
    }
  } finally {
    await home.cleanup();
  }
});
