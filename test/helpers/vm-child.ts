// The built CLI as a child process the test can kill at a moment of its choosing (runVm waits for
// the exit). Same environment rules as runVm: only what the test passes, never the real HOME.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ROOT, transcript } from './vm.js';

export interface VmChildResult {
  /** null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to exit. */
  ms: number;
}

export interface VmChild {
  pid: number;
  /** Milliseconds since spawn. */
  elapsed(): number;
  /** SIGKILL, like `kill -9`; a no-op once it has exited. */
  kill(): void;
  /** Output so far (e.g. to see which step it had reached when killed). */
  stdout(): string;
  stderr(): string;
  /** Sends a signal (SIGINT, like Ctrl-C); a no-op once it has exited. */
  signal(sig: NodeJS.Signals): void;
  done: Promise<VmChildResult>;
}

export function spawnVm(args: readonly string[], env: Readonly<Record<string, string>>, opts: { cwd?: string } = {}): VmChild {
  if (!existsSync(`${ROOT}dist/vm.cjs`)) throw new Error('dist/vm.cjs is missing: run `npm run build` first (npm test does)');
  const t0 = Date.now();
  const child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    cwd: opts.cwd ?? env['HOME'] ?? '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('spawnVm: no pid');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<VmChildResult>((resolve) => {
    child.once('close', (code, signal) => {
      transcript.push(stdout, stderr);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
  let exited = false;
  void done.then(() => (exited = true));
  return {
    pid: child.pid,
    elapsed: () => Date.now() - t0,
    kill: () => {
      if (exited || child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(child.pid as number, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    stdout: () => stdout,
    stderr: () => stderr,
    signal: (sig) => {
      if (exited || child.exitCode !== null || child.signalCode !== null) return;
      child.kill(sig);
    },
    done,
  };
}
