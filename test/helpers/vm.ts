// Runs the built CLI (bin/vm.cjs → dist/) as a user would, with an explicit environment:
// never the real HOME, XDG_RUNTIME_DIR or user manager.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = `${ROOT}bin/vm.cjs`;

export interface VmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every output vm printed in this test run, to check that no secret ever appeared. */
export const transcript: string[] = [];

export function runVm(args: readonly string[], env: Readonly<Record<string, string>>, opts: { cwd?: string } = {}): Promise<VmResult> {
  if (!existsSync(`${ROOT}dist/vm.cjs`)) throw new Error('dist/vm.cjs is missing: run `npm run build` first (npm test does)');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, cwd: opts.cwd ?? env['HOME'] ?? '/', timeout: 120_000 },
      (err, stdout, stderr) => {
        transcript.push(stdout, stderr);
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
