// `vm watch` speed and memory, each figure beside a baseline measured in the same run:
// - reaction: file write → `reconcile_start` (debounce included), against the debounce plus the
//   raw latency of fs.watch seeing the same kind of save; and write → `reconcile_done` for an edit
//   that needs no restart (autostart toggled: one enable/disable step);
// - a no-op resync cycle (`reconcile_done` duration), against spawning one `systemctl --user show`
//   from Node, the one process a cycle may start;
// - RSS of the watch process over 1,000 resync cycles at a short interval.
//
// Run: npm run bench (root, like the tests). It prints figures and asserts no target.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { watch as fsWatch } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { it } from 'vitest';
import { freePorts } from '../test/helpers/ports.js';
import { startReleaseServer } from '../test/helpers/release-server.js';
import { standinScript } from '../test/helpers/standin.js';
import { startUserManager } from '../test/helpers/systemd.js';
import { ROOT, runVm } from '../test/helpers/vm.js';

const SAVES = 10;
const CYCLES = 1_000;

interface Ev {
  ts: string;
  event: string;
  trigger?: string;
  duration_ms?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor(s.length / 2)] as number);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startWatch(env: NodeJS.ProcessEnv, spec: string, interval: string): { child: ChildProcess; events: Ev[] } {
  const events: Ev[] = [];
  const child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'watch', '--json', '--file', spec, '--interval', interval], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, i)) as Ev);
      buf = buf.slice(i + 1);
    }
  });
  return { child, events };
}

async function until(events: Ev[], from: number, pred: (e: Ev) => boolean, timeoutMs = 30_000): Promise<Ev> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = events.slice(from).find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > end) throw new Error('timed out waiting for a watch event');
    await sleep(5);
  }
}

async function save(path: string, text: string): Promise<number> {
  await writeFile(`${path}.tmp`, text);
  const t = Date.now();
  await rename(`${path}.tmp`, path);
  return t;
}

async function rssKiB(pid: number): Promise<number> {
  const m = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const um = await startUserManager();
  const rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
  const children: ChildProcess[] = [];
  try {
    const [port, tcp] = (await freePorts(2)) as [number, number];
    const dir = `${um.env.HOME}/dotfiles`;
    await mkdir(dir, { recursive: true });
    const spec = `${dir}/voicemode.services.yaml`;
    const text = (autostart: boolean) => `version: 1\nservices:\n  livekit:\n    autostart: ${autostart}\n    version: 1.9.0\n    install: { base_url: "${rel.baseUrl}" }\n    port: ${port}\n    rtc: { tcp_port: ${tcp} }\n`;
    await writeFile(spec, text(true));
    const env = { PATH: process.env['PATH'], ...um.env };
    const applied = await runVm(['apply', '--yes', '--file', spec], env as Record<string, string>);
    if (applied.code !== 0) throw new Error(`apply failed: ${applied.stderr}`);

    // Baseline 1: how soon fs.watch itself sees a rename-save of the same file.
    const raw: number[] = [];
    for (let i = 0; i < SAVES; i++) {
      const seen = new Promise<number>((r) => {
        const w = fsWatch(dir, () => {
          w.close();
          r(Date.now());
        });
      });
      const t = await save(spec, text(true));
      raw.push((await seen) - t);
      await sleep(100);
    }

    // Reaction of vm watch (debounce 200 ms): write → reconcile_start, write → reconcile_done.
    const w = startWatch(env, spec, '60m');
    children.push(w.child);
    await until(w.events, 0, (e) => e.event === 'reconcile_done' && e.trigger === 'start');
    const toStart: number[] = [];
    const toDone: number[] = [];
    for (let i = 0; i < SAVES; i++) {
      const from = w.events.length;
      const t = await save(spec, text(i % 2 === 0 ? false : true));
      const s = await until(w.events, from, (e) => e.event === 'reconcile_start' && e.trigger === 'file');
      const d = await until(w.events, from, (e) => e.event === 'reconcile_done' && e.trigger === 'file');
      toStart.push(Date.parse(s.ts) - t);
      toDone.push(Date.parse(d.ts) - t);
      await sleep(300);
    }
    w.child.kill('SIGTERM');
    await writeFile(spec, text(true));
    await runVm(['apply', '--yes', '--file', spec], env as Record<string, string>);

    // Baseline 2: one `systemctl --user show` spawned from Node.
    const show: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = process.hrtime.bigint();
      await new Promise((r) => execFile('systemctl', ['--user', 'show', 'voicemode-livekit.service', '-p', 'ActiveState,SubState,MainPID'], { env }, r));
      show.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }

    // No-op cycles and memory: 1,000 resyncs at a short interval on a converged machine.
    const r = startWatch(env, spec, '10ms');
    children.push(r.child);
    const pid = r.child.pid ?? 0;
    const cycles = () => r.events.filter((e) => e.event === 'reconcile_done' && e.trigger === 'interval');
    await until(r.events, 0, () => cycles().length >= 50, 120_000);
    const rssAt50 = await rssKiB(pid);
    await until(r.events, 0, () => cycles().length >= CYCLES, 600_000);
    const rssAtEnd = await rssKiB(pid);
    const noop = cycles().map((e) => e.duration_ms ?? NaN);
    r.child.kill('SIGTERM');

    const out = {
      reaction: {
        write_to_reconcile_start_median_ms: median(toStart),
        write_to_reconcile_done_median_ms: median(toDone),
        baseline_fs_watch_median_ms: median(raw),
        debounce_ms: 200,
        start_over_debounce_plus_fs_watch: +(median(toStart) / (200 + median(raw))).toFixed(2),
        target: 'reconcile_start within 300 ms of the save',
      },
      noop_cycle: {
        median_ms: median(noop),
        p95_ms: [...noop].sort((a, b) => a - b)[Math.floor(noop.length * 0.95)],
        baseline_one_systemctl_show_median_ms: +median(show).toFixed(1),
        ratio: +(median(noop) / median(show)).toFixed(2),
        target: '<= 50 ms',
      },
      memory: { cycles: cycles().length, rss_at_50_cycles_mib: +(rssAt50 / 1024).toFixed(1), rss_at_end_mib: +(rssAtEnd / 1024).toFixed(1), growth_mib: +((rssAtEnd - rssAt50) / 1024).toFixed(2), target: 'growth < 5 MB' },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await um.systemctl('stop', 'voicemode-livekit.service');
    await um.stop();
    await rel.close();
  }
}

it('vm watch: reaction, no-op cycle, memory over 1,000 cycles', main, 900_000);
