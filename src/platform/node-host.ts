// The real Host: node built-ins only (no undici here: this module is on the `vm plan` path, where
// it costs ~20 ms bundled; see bench/). Processes run through execFile with a timeout, and a
// failure comes back as a result, not a throw; that is all vm needs of a process library.

import * as fs from 'node:fs/promises';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { dirname, basename, join } from 'node:path';
import type { FileState } from '../model.js';
import type { ExecResult, Host, HttpResult, PathStat, TcpResult } from './host.js';
import { connect as tcpConnect } from 'node:net';
import { unitPropertiesOverBus } from './systemd-bus.js';

export function nodeHost(env: Readonly<Record<string, string | undefined>> = process.env): Host {
  return {
    env,
    platform: process.platform,
    arch: process.arch,
    readFile,
    stat,
    writeFileAtomic,
    mkdirp,
    tail,
    readlink: async (path) => {
      try {
        return await fs.readlink(path);
      } catch (e) {
        if (isCode(e, 'ENOENT') || isCode(e, 'EINVAL') || isCode(e, 'ENOTDIR')) return undefined;
        throw e;
      }
    },
    readdir: async (path) => {
      try {
        return (await fs.readdir(path)).sort();
      } catch (e) {
        if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return [];
        throw e;
      }
    },
    remove: (path) => fs.rm(path, { recursive: true, force: true }),
    exec: (file, args, opts) => exec(file, args, { ...opts, env: { ...env, ...opts?.env } }),
    systemdUnitProperties: (unit, props) => unitPropertiesOverBus(env['XDG_RUNTIME_DIR'], unit, props),
    httpGet,
    tcpExchange,
    interfaceAddresses: () => Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => ({ address: i.address, cidr: i.cidr, internal: i.internal }))),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

async function readFile(path: string): Promise<FileState> {
  try {
    const fh = await fs.open(path, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) return { exists: false };
      const content = await fh.readFile('utf8');
      return { exists: true, content, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
    } finally {
      await fh.close();
    }
  } catch (e) {
    // ESRCH: a /proc/PID file of a process that exited while it was read.
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR') || isCode(e, 'EISDIR') || isCode(e, 'ESRCH')) return { exists: false };
    throw e;
  }
}

async function stat(path: string): Promise<PathStat | undefined> {
  try {
    const [st, lst] = await Promise.all([fs.stat(path), fs.lstat(path)]);
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    // A switched symlink counts as a change even when its new target is older (archives keep
    // their members' mtimes), so take the later of the link's and the target's times.
    return { kind, mode: st.mode & 0o7777, mtimeMs: Math.max(st.mtimeMs, lst.mtimeMs), size: st.size, ino: st.ino };
  } catch (e) {
    if (isCode(e, 'ENOENT') || isCode(e, 'ENOTDIR')) return undefined;
    throw e;
  }
}

async function mkdirp(path: string, mode: number): Promise<void> {
  await fs.mkdir(path, { recursive: true, mode });
  // mkdir's mode only applies to directories it creates; a pre-existing one is tightened too.
  const st = await fs.stat(path);
  if ((st.mode & 0o777) !== mode) await fs.chmod(path, mode);
}

let tmpCounter = 0;

async function writeFileAtomic(path: string, content: string, mode: number, dirMode: number): Promise<void> {
  const dir = dirname(path);
  await mkdirp(dir, dirMode);
  // Unique without node:crypto (~6 ms to load on the plan path); 'wx' below refuses a clash.
  const tmp = join(dir, `.${basename(path)}.vm-tmp-${process.pid}-${Date.now()}-${++tmpCounter}`);
  // The temp file is created with the final mode, so a secret is never readable by others,
  // not even for the moment between write and rename.
  const fh = await fs.open(tmp, 'wx', mode);
  try {
    await fh.writeFile(content, 'utf8');
    await fh.chmod(mode); // umask may have narrowed the mode given to open()
    await fh.sync();
  } catch (e) {
    await fh.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

async function tail(path: string, maxLines: number, fromByte = 0): Promise<string[]> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(path, 'r');
  } catch (e) {
    if (isCode(e, 'ENOENT')) return [];
    throw e;
  }
  try {
    const { size } = await fh.stat();
    const start = fromByte <= size ? fromByte : 0;
    const len = Math.min(size - start, 64 * 1024);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (len < size - start) lines.shift(); // first line is probably cut
    return lines.slice(-maxLines);
  } finally {
    await fh.close();
  }
}

async function exec(
  file: string,
  args: readonly string[],
  opts: { timeoutMs?: number; env?: Record<string, string | undefined> },
): Promise<ExecResult> {
  // Loaded on first use: a converged `vm plan` starts no process at all (unit state comes over
  // D-Bus, the binary's version from apply's record).
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 10_000, env: opts.env as NodeJS.ProcessEnv, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err === null) return resolve({ code: 0, stdout, stderr });
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean };
        if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
        if (e.killed === true) return resolve({ code: 124, stdout, stderr, error: `timed out after ${opts.timeoutMs ?? 10_000} ms` });
        resolve({ code: 127, stdout, stderr, error: e.message });
      },
    );
  });
}

async function httpGet(url: string, timeoutMs: number): Promise<HttpResult> {
  // node:https (and TLS) only loads when a URL needs it: health checks are plain http.
  const get = url.startsWith('https:') ? (await import('node:https')).request : request;
  return new Promise((resolve) => {
    const req = get(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      const location = res.headers.location;
      res.on('end', () =>
        resolve({ ok: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(location === undefined ? {} : { location }) }),
      );
      res.on('error', (e) => resolve({ ok: false, error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
    req.end();
  });
}

async function tcpExchange(address: { host: string; port: number; tls?: boolean }, requestText: string, done: (received: string) => boolean, timeoutMs: number): Promise<TcpResult> {
  // node:tls only loads when a Redis asks for TLS.
  const socket = address.tls === true ? (await import('node:tls')).connect({ host: address.host, port: address.port, servername: address.host }) : tcpConnect({ host: address.host, port: address.port });
  return new Promise((resolve) => {
    let received = '';
    let settled = false;
    const finish = (r: TcpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.once(address.tls === true ? 'secureConnect' : 'connect', () => socket.write(requestText));
    socket.on('data', (c: Buffer) => {
      received += c.toString('utf8');
      if (received.length > 64 * 1024 || done(received)) finish({ ok: true, received });
    });
    socket.on('end', () => finish(received === '' ? { ok: false, error: 'the connection was closed without an answer' } : { ok: true, received }));
    socket.on('error', (e: NodeJS.ErrnoException) => finish({ ok: false, error: e.code ?? e.message }));
  });
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code;
}
