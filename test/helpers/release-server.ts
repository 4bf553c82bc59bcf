// A real release server for tests: node:http on 127.0.0.1 serving real .tar.gz archives and a
// real sha256 checksums.txt, laid out like GitHub releases:
//
//   {baseUrl}/download/vX.Y.Z/livekit_X.Y.Z_linux_<arch>.tar.gz
//   {baseUrl}/download/vX.Y.Z/checksums.txt
//   {baseUrl}/latest  → 302 {baseUrl}/tag/vX.Y.Z
//   {baseUrl}<model path>  (addModel) a model file with Range support, and <model path>.sha256
//
// With `redirectDownloads`, downloads answer 302 to {baseUrl}/objects/<id>, as GitHub sends them
// to its object storage. Archives are written block by block with node-tar's own Header encoder
// rather than packed from a staging directory, because tests need members no file system can
// hold (`../evil`, `/abs`) and a symlink called livekit-server. GNU tar reads them (see tests).

import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';

export interface ReleaseMember {
  name: string;
  /** `hardlink` is beyond the brief, for the extractor's refusal tests. */
  type?: 'file' | 'symlink' | 'hardlink';
  content?: string;
  linkpath?: string;
}

export interface ReleaseSpec {
  version: string;
  /** The livekit-server file content, e.g. a #!/bin/sh script. */
  binary: string;
  /** Default ['amd64', 'arm64', 'armv7']. */
  arches?: string[];
  /** checksums.txt lists a wrong sha256 for every archive of this version. */
  corruptChecksum?: boolean;
  /** checksums.txt lists none of this version's archives. */
  omitFromChecksums?: boolean;
  /** Added before LICENSE and livekit-server. A member named exactly `livekit-server` replaces the binary. */
  extraMembers?: ReleaseMember[];
}

/**
 * `hang`: accept, never answer. `truncate`: promise the full length, send half, close.
 * `stall`: promise the full length, send half, then nothing (the connection stays open).
 * Both apply to 200 answers only: a download redirected to /objects/ is cut on the object path.
 * `redirectTo`: answer 302 to that URL (e.g. plain http on another host).
 */
export type Fault = 'hang' | 'truncate' | 'stall' | { redirectTo: string };

/** A model file (whisper ggml-*.bin, kokoro-v1_0.pth) served like Hugging Face / GitHub assets. */
export interface ModelSpec {
  /** Request path, e.g. `/ggerganov/whisper.cpp/resolve/main/ggml-base.en.bin`. */
  path: string;
  body: Buffer;
  /** Serve bytes that differ from `body` (same length): the download's sha256 will not match. */
  corrupt?: boolean;
  /** Cut the connection after this many body bytes, on the next GET only (then serve normally). */
  cutOnceAfterBytes?: number;
  /** Ignore Range headers (always 200 with the whole file), as a server without range support. */
  noRanges?: boolean;
}

export interface ModelFile {
  url: string;
  /** sha256 (hex) of `body`, the true file, whatever is served. */
  sha256: string;
  size: number;
}

export interface ModelRequest {
  method: string;
  path: string;
  /** The Range header as sent, if any. */
  range?: string;
  status: number;
  /** Body bytes actually written before the answer ended or was cut. */
  bytes: number;
}

export interface ReleaseServer {
  baseUrl: string;
  /** Request paths (with query), in order. */
  requests: string[];
  addRelease(r: ReleaseSpec): Promise<void>;
  setLatest(version: string): void;
  /** Applies to the exact request path, e.g. `/download/v1.9.0/checksums.txt`. */
  setFault(path: string, fault: Fault | undefined): void;
  /**
   * Serves `spec.body` at `spec.path` (GET and HEAD; `Range: bytes=…` → 206 with Content-Range,
   * unsatisfiable → 416; `If-Range` with another ETag → 200 whole file; ETag is the sha256) and
   * `<path>.sha256` as `<hex>  <file name>\n`. Adding the same path again replaces it.
   * `hang`, `redirectTo`, `truncate` and `stall` faults apply to it as to other files.
   */
  addModel(spec: ModelSpec): ModelFile;
  /** Every request to a model path, in order. */
  modelRequests: ModelRequest[];
  close(): Promise<void>;
}

export function archiveName(version: string, arch: string): string {
  return `livekit_${version}_linux_${arch}.tar.gz`;
}

export async function startReleaseServer(
  opts: { releases?: ReleaseSpec[]; redirectDownloads?: boolean; latest?: string } = {},
): Promise<ReleaseServer> {
  const files = new Map<string, Buffer>(); // request path → body
  const objects = new Map<string, Buffer>(); // object id → body (redirect targets)
  const faults = new Map<string, Fault>();
  const requests: string[] = [];
  const models = new Map<string, ModelEntry>(); // request path → model
  const modelRequests: ModelRequest[] = [];
  let latest = opts.latest;

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const fault = faults.get(path);
    if (fault === 'hang') return; // closeAllConnections() in close() ends it
    const send = (status: number, body: Buffer, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-length': String(body.length), ...headers });
      if ((fault === 'truncate' || fault === 'stall') && status === 200) {
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        if (fault === 'truncate') res.destroy();
        return;
      }
      res.end(body);
    };
    const redirect = (to: string): void => send(302, Buffer.from(''), { location: to });
    if (typeof fault === 'object') return redirect(fault.redirectTo);

    const model = models.get(path.split('?')[0] ?? '');
    if (model !== undefined) return serveModel(model, req, res, fault, modelRequests);

    if (path === '/latest' && latest !== undefined) return redirect(`${baseUrl}/tag/v${latest}`);
    if (path.startsWith('/tag/v')) return send(200, Buffer.from('<html>release</html>'), { 'content-type': 'text/html' });
    const object = path.startsWith('/objects/') ? objects.get(path.slice('/objects/'.length).split('?')[0] ?? '') : undefined;
    if (object !== undefined) return send(200, object, { 'content-type': 'application/octet-stream' });
    const file = files.get(path);
    if (file === undefined) return send(404, Buffer.from('Not Found'));
    if (opts.redirectDownloads === true) {
      const id = randomBytes(8).toString('hex');
      objects.set(id, file);
      // Signed-URL look-alike: the installer must not print the query.
      return redirect(`${baseUrl}/objects/${id}?X-Amz-Signature=${randomBytes(8).toString('hex')}`);
    }
    return send(200, file, { 'content-type': 'application/octet-stream' });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const addRelease = async (r: ReleaseSpec): Promise<void> => {
    const lines: string[] = [];
    for (const arch of r.arches ?? ['amd64', 'arm64', 'armv7']) {
      const name = archiveName(r.version, arch);
      const body = buildReleaseArchive(r);
      files.set(`/download/v${r.version}/${name}`, body);
      if (r.omitFromChecksums === true) continue;
      const sum = r.corruptChecksum === true ? sha256(Buffer.concat([body, Buffer.from('x')])) : sha256(body);
      lines.push(`${sum}  ${name}`);
    }
    files.set(`/download/v${r.version}/checksums.txt`, Buffer.from(lines.map((l) => `${l}\n`).join('')));
  };

  for (const r of opts.releases ?? []) await addRelease(r);

  const addModel = (spec: ModelSpec): ModelFile => {
    const sum = sha256(spec.body);
    let served = spec.body;
    if (spec.corrupt === true) {
      served = Buffer.from(spec.body);
      const at = Math.floor(served.length / 2);
      served[at] = (served[at] ?? 0) ^ 0xff;
    }
    models.set(spec.path, { body: served, etag: `"${sum}"`, cutOnceAfter: spec.cutOnceAfterBytes, noRanges: spec.noRanges === true });
    const name = spec.path.split('/').pop() ?? 'model';
    files.set(`${spec.path}.sha256`, Buffer.from(`${sum}  ${name}\n`));
    return { url: `${baseUrl}${spec.path}`, sha256: sum, size: spec.body.length };
  };

  return {
    baseUrl,
    requests,
    addRelease,
    setLatest: (v) => void (latest = v),
    setFault: (path, fault) => void (fault === undefined ? faults.delete(path) : faults.set(path, fault)),
    addModel,
    modelRequests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

interface ModelEntry {
  body: Buffer;
  etag: string;
  cutOnceAfter: number | undefined;
  noRanges: boolean;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range only) → [start, end] inclusive, 'bad', or undefined. */
function parseRange(header: string | undefined, size: number): [number, number] | 'bad' | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // not understood (e.g. several ranges): whole file
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 ? 'bad' : [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || end < start ? 'bad' : [start, end];
}

function serveModel(m: ModelEntry, req: IncomingMessage, res: ServerResponse, fault: Fault | undefined, log: ModelRequest[]): void {
  const size = m.body.length;
  const rangeHeader = typeof req.headers.range === 'string' ? req.headers.range : undefined;
  const ifRange = req.headers['if-range'];
  const useRange = !m.noRanges && (ifRange === undefined || ifRange === m.etag);
  const range = useRange ? parseRange(rangeHeader, size) : undefined;
  const entry: ModelRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 200, bytes: 0 };
  if (rangeHeader !== undefined) entry.range = rangeHeader;
  log.push(entry);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream', etag: m.etag };
  if (!m.noRanges) headers['accept-ranges'] = 'bytes';
  if (range === 'bad') {
    entry.status = 416;
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' });
    res.end();
    return;
  }
  const [start, end] = range ?? [0, size - 1];
  const body = m.body.subarray(start, end + 1);
  entry.status = range === undefined ? 200 : 206;
  if (range !== undefined) headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(entry.status, { ...headers, 'content-length': String(body.length) });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let cut: number | undefined;
  if (m.cutOnceAfter !== undefined) {
    cut = Math.min(m.cutOnceAfter, body.length);
    m.cutOnceAfter = undefined;
  } else if (fault === 'truncate' || fault === 'stall') {
    cut = Math.floor(body.length / 2);
  }
  if (cut === undefined) {
    entry.bytes = body.length;
    res.end(body);
    return;
  }
  entry.bytes = cut;
  // Flush what is promised so far, then end the socket: the client sees a short body.
  res.write(body.subarray(0, cut), () => {
    if (fault !== 'stall') res.socket?.destroy();
  });
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A ustar archive, gzipped: header block, content padded to 512, two zero blocks at the end. */
export function buildReleaseArchive(r: Pick<ReleaseSpec, 'binary' | 'extraMembers'>): Buffer {
  const extra = r.extraMembers ?? [];
  const members: ReleaseMember[] = [...extra, { name: 'LICENSE', content: 'Apache License 2.0 (test copy)\n' }];
  if (!extra.some((m) => m.name === 'livekit-server')) members.push({ name: 'livekit-server', content: r.binary });
  const blocks: Buffer[] = [];
  for (const m of members) {
    const isLink = m.type === 'symlink' || m.type === 'hardlink';
    const content = Buffer.from(isLink ? '' : (m.content ?? ''));
    const header = new Header({
      path: m.name,
      mode: m.name === 'livekit-server' || isLink ? 0o755 : 0o644,
      uid: 1001,
      gid: 127,
      uname: 'runner',
      gname: 'docker',
      size: content.length,
      mtime: new Date('2025-01-01T00:00:00Z'),
      type: m.type === 'symlink' ? 'SymbolicLink' : m.type === 'hardlink' ? 'Link' : 'File',
      linkpath: isLink ? (m.linkpath ?? '/bin/sh') : '',
    });
    const block = Buffer.alloc(512);
    // encode() returns true when the fields need a pax header; test names are short, so never.
    if (header.encode(block, 0)) throw new Error(`test archive member needs pax headers: ${m.name}`);
    blocks.push(block, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}
