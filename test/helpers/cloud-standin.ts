// A second livekit-server stand-in that plays LiveKit Cloud: another loopback address (127.0.0.2),
// other keys, and no vm anywhere near it (a plain child process of the test). Tests point vm's
// fallback or `lk` at it and check that the local keys are refused there and its keys accepted.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER_PATH = fileURLToPath(new URL('../fixtures/livekit-standin/server.mjs', import.meta.url));
export const CLOUD_HOST = '127.0.0.2';

export interface CloudStandinOptions {
  /** api key → secret. Default: one fresh pair. The first pair is returned as apiKey/apiSecret. */
  keys?: Record<string, string>;
  /** HTTP port on 127.0.0.2. Default: a free one (retried if it is taken before the bind). */
  port?: number;
  /** `room.auto_create`. Default: the server's default (true). */
  autoCreate?: boolean;
  /** How long `GET /` answers 406 after the bind. Default 0: the helper waits for 200 anyway. */
  readyAfterMs?: number;
  /** How long to wait for `GET /` to answer 200 OK. Default 30 s (the machine may be loaded). */
  readyTimeoutMs?: number;
}

export interface CloudStandin {
  /** `ws://127.0.0.2:PORT`, as a LIVEKIT_URL for LiveKit Cloud would be given. */
  url: string;
  /** `http://127.0.0.2:PORT`, for the Twirp API and `/rtc/validate`. */
  httpUrl: string;
  port: number;
  apiKey: string;
  apiSecret: string;
  keys: Record<string, string>;
  pid: number;
  /** What the server printed so far (stdout: startup errors; stderr: logs). */
  output(): { stdout: string; stderr: string };
  /** Kills the server, waits for it to be gone and removes its temp dir. Safe to call again. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
const stops = new Set<() => Promise<void>>();
let exitHookInstalled = false;

/** Last resort: a test that forgot stop() must not leave a server behind when its worker exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** A port free on 127.0.0.2 a moment ago (ports.ts checks 127.0.0.1 only). */
function freeCloudPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: CLOUD_HOST, exclusive: true }, () => {
      const addr = server.address();
      const port = addr !== null && typeof addr === 'object' ? addr.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('cloud stand-in: no port'))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function answersOk(httpUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${httpUrl}/`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200 && (await res.text()) === 'OK';
  } catch {
    return false;
  }
}

class PortTaken extends Error {}

async function startOnce(opts: CloudStandinOptions, keys: Record<string, string>, port: number): Promise<CloudStandin> {
  const dir = await mkdtemp(join(tmpdir(), 'vmt-cloud-'));
  const keyFile = join(dir, 'keys.yaml');
  const configFile = join(dir, 'livekit.yaml');
  // JSON is YAML; the server refuses a key file readable by others.
  await writeFile(keyFile, `${JSON.stringify(keys)}\n`, { mode: 0o600 });
  const config: Record<string, unknown> = { port, bind_addresses: [CLOUD_HOST], key_file: keyFile };
  if (opts.autoCreate !== undefined) config.room = { auto_create: opts.autoCreate };
  await writeFile(configFile, `${JSON.stringify(config)}\n`, { mode: 0o600 });

  // A clean environment: LIVEKIT_KEYS or LIVEKIT_CONFIG from the outer shell would change the server.
  const child = spawn(process.execPath, [SERVER_PATH, '--config', configFile], {
    cwd: dir,
    env: { PATH: '/usr/bin:/bin', HOME: dir, LIVEKIT_STANDIN_READY_AFTER_MS: String(opts.readyAfterMs ?? 0) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  installExitHook();
  const out = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out.stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out.stderr += s));
  let exited = false;
  const gone = new Promise<void>((resolve) => {
    child.once('close', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exited) child.kill('SIGKILL');
      await gone;
      await rm(dir, { recursive: true, force: true });
      stops.delete(stop);
    })();
    return stopping;
  };
  stops.add(stop);

  const httpUrl = `http://${CLOUD_HOST}:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (!(await answersOk(httpUrl))) {
    if (exited || Date.now() > deadline) {
      await stop();
      if (out.stdout.includes('address already in use')) throw new PortTaken();
      const why = exited ? `exited (code ${child.exitCode})` : 'did not answer 200 OK on / in time';
      throw new Error(`cloud stand-in on ${httpUrl} ${why}\nstdout: ${out.stdout}\nstderr: ${out.stderr}`);
    }
    await sleep(50);
  }
  const [apiKey, apiSecret] = Object.entries(keys)[0] ?? ['', ''];
  return {
    url: `ws://${CLOUD_HOST}:${port}`,
    httpUrl,
    port,
    apiKey,
    apiSecret,
    keys,
    pid: child.pid ?? -1,
    output: () => ({ ...out }),
    stop,
  };
}

/** Starts a stand-in on 127.0.0.2 with its own config and key file, and waits for `GET /` 200 OK. */
export async function startCloudStandin(opts: CloudStandinOptions = {}): Promise<CloudStandin> {
  const keys = opts.keys ?? { [`APIcloud${randomBytes(4).toString('hex')}`]: randomBytes(32).toString('base64url') };
  if (Object.keys(keys).length === 0) throw new Error('startCloudStandin: keys must hold at least one key');
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freeCloudPort());
    try {
      return await startOnce(opts, keys, port);
    } catch (err) {
      // A port chosen here can be taken by another test before the server binds it: choose again.
      if (!(err instanceof PortTaken) || opts.port !== undefined || attempt >= 3) {
        throw err instanceof PortTaken ? new Error(`cloud stand-in: port ${port} on ${CLOUD_HOST} is in use`) : err;
      }
    }
  }
}

/** Kills every cloud stand-in this process started and has not stopped yet (for afterAll). */
export async function stopAllCloudStandins(): Promise<void> {
  await Promise.all([...stops].map((stop) => stop()));
}
