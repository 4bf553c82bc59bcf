// HTTP downloads for the release installer, with undici.
//
// undici is imported inside the functions: loading it costs ~110 ms and `vm plan` never downloads.
// Redirects are followed here, not by undici's redirect interceptor, because every hop must pass
// the base_url policy (GitHub answers 302 to another host; a hop to plain http elsewhere, or any
// https → http downgrade, is refused before it is requested).

import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { UserError } from '../../errors.js';
import { baseUrlProblem } from '../url-policy.js';

export interface DownloadOptions {
  /** Connect, response-headers and body-idle timeout, each. Default 30 s. */
  readonly timeoutMs?: number;
  /** Refuse bodies larger than this. Default 200 MiB (downloadToFile), 1 MiB (downloadText). */
  readonly maxBytes?: number;
  /** Default 5. */
  readonly maxRedirects?: number;
  readonly onProgress?: (received: number, total: number | undefined) => void;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Streams `url` into a new file `dest` (must not exist), hashing as it goes.
 * On failure `dest` may hold a partial download: the caller owns that temp name and removes it.
 */
export async function downloadToFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<{ sha256: string; bytes: number }> {
  const maxBytes = opts.maxBytes ?? 200 * 1024 * 1024;
  return withResponse(url, opts, async (res, at) => {
    const total = contentLength(res, at, maxBytes);
    const hash = createHash('sha256');
    let received = 0;
    opts.onProgress?.(0, total);
    // Opened before the body flows, so `dest` exists however the download fails: a write stream
    // opens its file asynchronously, possibly after a failed body ended the pipeline and the
    // caller's clean-up already ran ('wx': a fresh temp name; never through an existing file).
    const out = await open(dest, 'wx', 0o600);
    try {
      await pipeline(
        res.body,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            received += chunk.length;
            if (received > maxBytes) throw tooLarge(at, maxBytes);
            hash.update(chunk);
            opts.onProgress?.(received, total);
            yield chunk;
          }
        },
        out.createWriteStream(),
      );
    } finally {
      await out.close().catch(() => undefined);
    }
    return { sha256: hash.digest('hex'), bytes: received };
  });
}

/** Fetches a small text file (checksums.txt) into memory. */
export async function downloadText(url: string, opts: DownloadOptions = {}): Promise<string> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  return withResponse(url, opts, async (res, at) => {
    contentLength(res, at, maxBytes);
    const parts: Buffer[] = [];
    let received = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received > maxBytes) throw tooLarge(at, maxBytes);
      parts.push(chunk);
    }
    return Buffer.concat(parts).toString('utf8');
  });
}

/** Opens `url` (following redirects), hands the 2xx response to `use`, always releases the agent. */
async function withResponse<T>(url: string, opts: DownloadOptions, use: (res: Dispatcher.ResponseData, at: string) => Promise<T>): Promise<T> {
  // `.default` is module.exports for this CommonJS package, both under Node's ESM loader and in
  // the esbuild bundle (where a dynamic import of CommonJS has no named exports).
  const { Agent, request } = (await import('undici')).default;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  let at = url;
  let from: string | undefined;
  try {
    for (let hop = 0; ; hop++) {
      const problem = baseUrlProblem(at);
      if (problem !== undefined) {
        const what = from === undefined ? `to download ${display(at)}` : `redirect from ${display(from)} to ${display(at)}`;
        throw new UserError('INSTALL_FAILED', `refusing ${what}: ${problem}`);
      }
      const res = await request(at, {
        dispatcher: agent,
        method: 'GET',
        headers: { 'user-agent': 'vm-livekit-installer', accept: '*/*' },
      });
      if (REDIRECTS.has(res.statusCode)) {
        await res.body.dump();
        const location = firstHeader(res.headers['location']);
        if (location === undefined) throw new UserError('INSTALL_FAILED', `GET ${display(at)} → ${res.statusCode} without a Location header`);
        if (hop >= (opts.maxRedirects ?? 5)) throw new UserError('INSTALL_FAILED', `GET ${display(url)}: too many redirects`);
        const next = URL.canParse(location, at) ? new URL(location, at) : undefined;
        if (next === undefined) throw new UserError('INSTALL_FAILED', `GET ${display(at)} → ${res.statusCode} to an unreadable Location`);
        if (new URL(at).protocol === 'https:' && next.protocol !== 'https:') {
          throw new UserError('INSTALL_FAILED', `refusing redirect from ${display(at)} to ${display(next.href)}: it leaves https`);
        }
        from = at;
        at = next.href;
        continue;
      }
      if (res.statusCode < 200 || res.statusCode > 299) {
        await res.body.dump();
        throw new UserError('INSTALL_FAILED', `GET ${display(at)} → ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}`.trimEnd());
      }
      return await use(res, at);
    }
  } catch (err) {
    throw asUserError(err, at, timeoutMs);
  } finally {
    // destroy, not close: after a timeout a socket may still be waiting on a server that hangs.
    await agent.destroy().catch(() => undefined);
  }
}

function contentLength(res: Dispatcher.ResponseData, at: string, maxBytes: number): number | undefined {
  const raw = firstHeader(res.headers['content-length']);
  const n = raw === undefined ? NaN : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) return undefined;
  if (n > maxBytes) {
    (res.body as Readable).destroy();
    throw tooLarge(at, maxBytes);
  }
  return n;
}

function firstHeader(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function tooLarge(at: string, maxBytes: number): UserError {
  const limit = maxBytes >= 1024 * 1024 ? `${Math.round(maxBytes / 1024 / 1024)} MiB` : `${maxBytes} bytes`;
  return new UserError('INSTALL_FAILED', `GET ${display(at)}: larger than ${limit}, refused`);
}

/** Signed download URLs (GitHub's object storage) carry tokens in the query: keep them out of messages. */
function display(url: string): string {
  try {
    const u = new URL(url);
    return u.search === '' ? u.href : `${u.origin}${u.pathname}?…`;
  } catch {
    return url;
  }
}

function asUserError(err: unknown, at: string, timeoutMs: number): unknown {
  if (err instanceof UserError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const secs = `${timeoutMs / 1000} s`;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new UserError('INSTALL_FAILED', `GET ${display(at)}: could not connect within ${secs}`);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new UserError('INSTALL_FAILED', `GET ${display(at)}: no response within ${secs}`);
    case 'UND_ERR_BODY_TIMEOUT':
      return new UserError('INSTALL_FAILED', `GET ${display(at)}: download stalled (no data for ${secs})`);
  }
  // Network and file-system failures (ECONNREFUSED, ENOTFOUND, socket closed mid-body, ENOSPC)
  // are the user's to fix; anything without a code is a bug and passes through.
  if (typeof code === 'string' && code !== 'UND_ERR_INVALID_ARG') {
    return new UserError('INSTALL_FAILED', `GET ${display(at)} failed: ${(err as Error).message}`);
  }
  return err;
}
