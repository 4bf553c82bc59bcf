// `vm logs` through the built CLI, with a temp HOME and a log file written by hand (no LiveKit
// needed: the log is just a file that a supervisor appends to).

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nodeHost } from '../../src/platform/node-host.js';
import { rotateIfNeeded } from '../../src/platform/log-rotate.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { ROOT, runVm, waitFor } from '../kit/index.js';

let home: TempHome;
let env: Record<string, string>;
let log: string;

const numbered = (from: number, to: number, prefix = 'line') => Array.from({ length: to - from + 1 }, (_, i) => `${prefix} ${from + i}\n`).join('');
const vm = (...args: string[]) => runVm(['logs', ...args], env);

beforeAll(async () => {
  home = await tempHome();
  // A desired-state file that does not even parse: `vm logs` must not care.
  const broken = `${home.env.HOME}/voicemode.services.yaml`;
  await writeFile(broken, 'version: 1\nservices: [unclosed\n');
  env = { ...home.env, VOICEMODE_SERVICES_FILE: broken };
  log = `${home.env.HOME}/.voicemode/logs/livekit/livekit.log`;
});
afterAll(async () => {
  await home?.cleanup();
});
beforeEach(async () => {
  await rm(dirname(log), { recursive: true, force: true });
});

describe('vm logs', () => {
  it('says there is no log yet, and exits 0', async () => {
    const r = await vm();
    expect(r).toEqual({ code: 0, stdout: '', stderr: `no log yet at ${log}: LiveKit has not run under vm\n` });
  });

  it('-n 5 prints the last 5 lines; without -n, the last 50', async () => {
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, numbered(1, 200));
    expect(await vm('-n', '5')).toEqual({ code: 0, stdout: numbered(196, 200), stderr: '' });
    expect((await vm()).stdout).toBe(numbered(151, 200));
    expect((await vm('livekit', '--lines', '2')).stdout).toBe(numbered(199, 200));
    expect((await vm('-n', '0')).stdout).toBe('');
  });

  it('reads the rotated copy before the live log when the live one has fewer lines', async () => {
    await mkdir(dirname(log), { recursive: true });
    await writeFile(`${log}.2`, numbered(1, 10, 'two'));
    await writeFile(`${log}.1`, `${numbered(1, 10, 'one')}a line split by rotat`); // collapse-range cuts at a block, mid-line
    await writeFile(log, `ion\n${numbered(1, 2, 'live')}`);
    expect((await vm('-n', '5')).stdout).toBe(`one 9\none 10\na line split by rotation\nlive 1\nlive 2\n`);
    expect((await vm('-n', '14')).stdout).toBe(`two 10\n${numbered(1, 10, 'one')}a line split by rotation\nlive 1\nlive 2\n`);
    expect((await vm('-n', '1000')).stdout).toBe(`${numbered(1, 10, 'two')}${numbered(1, 10, 'one')}a line split by rotation\n${numbered(1, 2, 'live')}`);
  });

  it('ends a last line that has no newline yet, and keeps going with an empty live log', async () => {
    await mkdir(dirname(log), { recursive: true });
    await writeFile(`${log}.1`, numbered(1, 3));
    await writeFile(log, '');
    expect((await vm('-n', '2')).stdout).toBe(numbered(2, 3));
    await writeFile(log, 'half a li');
    expect((await vm('-n', '2')).stdout).toBe('line 3\nhalf a li\n');
  });

  it('refuses an unknown service, naming the ones there are', async () => {
    const r = await vm('postgres');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vm: unknown service "postgres"\n  services: livekit, whisper, kokoro, redis\n');
    expect((await vm('-n', 'ten')).stderr).toContain('-n wants a number of lines');
  });
});

describe('vm logs -f', () => {
  let child: ChildProcess | undefined;
  let out = '';
  let err = '';

  function follow(...args: string[]): ChildProcess {
    out = '';
    err = '';
    const c = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'logs', '-f', ...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, cwd: env['HOME'], stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
    c.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
    child = c;
    return c;
  }
  const until = (what: () => boolean, label: string) => waitFor(() => `${label}; stdout so far:\n${out}\nstderr:\n${err}`, what, 10_000, 20);
  async function stop(c: ChildProcess, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => c.once('exit', (code, sig) => r({ code, signal: sig })));
    c.kill(signal);
    return exited;
  }
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('prints lines appended after it started, survives a truncation, and exits 0 on SIGTERM', async () => {
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, numbered(1, 10));
    const c = follow('-n', '2');
    await until(() => out === numbered(9, 10), 'the last 2 lines');
    await appendFile(log, numbered(11, 12));
    await until(() => out.endsWith(numbered(11, 12)), 'appended lines');
    await truncate(log, 0); // a rotation by something that is not vm: start again from 0
    await new Promise((r) => setTimeout(r, 500)); // let it see the empty file (polls every 200 ms)
    await appendFile(log, 'after truncate\n');
    await until(() => out.endsWith('after truncate\n'), 'the line after the truncate');
    expect(out).toBe(`${numbered(9, 12)}after truncate\n`);
    expect(await stop(c, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(err).toBe('');
  });

  it("follows across vm's own rotations without printing a line twice or missing one", async () => {
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, numbered(1, 100));
    const c = follow('-n', '1');
    await until(() => out === 'line 100\n', 'the last line');
    const host = nodeHost({ PATH: process.env['PATH'] ?? '/usr/bin:/bin' });
    let next = 101;
    // Long lines, so that collapse-range (which cuts at a block boundary) has blocks to cut.
    const append = (n: number) => appendFile(log, Array.from({ length: n }, () => `line ${next++} ${'x'.repeat(60)}\n`).join(''));
    const printed = (n: number) => until(() => out.includes(`line ${n} `), `line ${n}`);
    for (let round = 0; round < 8; round++) {
      await append(120);
      // Odd rounds: it has printed up to the end before the rotation. Even rounds: it has not
      // (the rest is in .1 by the time it looks).
      if (round % 2 === 1) await printed(next - 1);
      const r = await rotateIfNeeded(round < 4 ? host : { ...host, platform: 'darwin' }, log, 1024); // then copy-truncate, as on macOS
      expect(r.rotated).toBe(true);
      // Odd rounds: the live log grows past where it was before it is looked at again, so only
      // the new .1 tells that it was rotated.
      await append(round % 2 === 1 ? 300 : 1);
      await printed(next - 1); // one rotation at a time: it looks every 200 ms
    }
    await appendFile(log, 'the end\n');
    await until(() => out.endsWith('the end\n'), 'the last line');
    const numbers = out.split('\n').slice(0, -2).map((l) => Number(l.split(' ')[1]));
    expect(numbers).toEqual(Array.from({ length: next - 100 }, (_, i) => 100 + i));
    expect(await stop(c, 'SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('waits for a log that does not exist yet, then prints it from the start', async () => {
    const c = follow();
    await until(() => err.includes('no log yet'), 'the message');
    expect(err).toBe(`no log yet at ${log}: LiveKit has not run under vm (waiting for it; Ctrl-C to stop)\n`);
    await mkdir(dirname(log), { recursive: true });
    await writeFile(log, 'first line\n');
    await until(() => out === 'first line\n', 'the first line');
    await rm(log);
    await writeFile(log, 'a new file\n'); // replaced: read from its start
    await until(() => out === 'first line\na new file\n', 'the new file');
    expect(await stop(c, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
