// Runs the built `vm web` as a child process and waits for the URL line it prints once it
// listens. Stops it with SIGTERM and checks it went.

import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { ROOT, transcript } from './vm.js';
import { waitFor } from '../kit/wait.js';

export interface WebChild {
  readonly url: string;
  readonly port: number;
  readonly key: string;
  readonly child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

export async function startWeb(args: readonly string[], env: Readonly<Record<string, string>>): Promise<WebChild> {
  const child = spawn(process.execPath, [`${ROOT}bin/vm.cjs`, 'web', '--port', '0', ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    cwd: env['HOME'] ?? '/',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const printed = () => /^vm web: (http:\/\/127\.0\.0\.1:(\d+)\/\?key=([A-Za-z0-9_-]+))$/m.exec(stdout);
  await waitFor(() => `vm web to print its URL: ${stdout} ${stderr}`, () => {
    if (printed() !== null) return true;
    if (child.exitCode !== null) throw new Error(`vm web exited ${child.exitCode}: ${stderr}`);
    return false;
  }, 60_000);
  const [, url, port, key] = printed() as unknown as [string, string, string, string];
  return {
    url,
    port: Number(port),
    key,
    child,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const code = await exited;
        clearTimeout(t);
        transcript.push(stdout, stderr);
        return code;
      }
      return child.exitCode;
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with exactly these headers (fetch may not set Host). */
export function raw(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
