import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { downloadText, downloadToFile } from '../../src/platform/release/download.js';
import { startReleaseServer, type ReleaseServer } from '../helpers/release-server.js';

const ARCHIVE = '/download/v1.9.0/livekit_1.9.0_linux_amd64.tar.gz';
const SUMS = '/download/v1.9.0/checksums.txt';

let dir: string;
let server: ReleaseServer;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vm-download-'));
  // Random content: it does not compress, so the archive really is ~400 kB.
  server = await startReleaseServer({ redirectDownloads: true, releases: [{ version: '1.9.0', binary: randomBytes(300_000).toString('base64') }] });
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).code).toBe('INSTALL_FAILED');
  return (err as UserError).message;
}

describe('downloads', () => {
  it('streams to a file through redirects, with the sha256 and progress up to the total', async () => {
    const dest = join(dir, 'a.tar.gz');
    const seen: Array<[number, number | undefined]> = [];
    const got = await downloadToFile(server.baseUrl + ARCHIVE, dest, { onProgress: (r, t) => seen.push([r, t]) });
    const bytes = readFileSync(dest);
    expect(got).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    expect(seen[0]).toEqual([0, bytes.length]);
    expect(seen.at(-1)).toEqual([bytes.length, bytes.length]);
    expect(server.requests[0]).toBe(ARCHIVE);
    expect(server.requests[1]).toMatch(/^\/objects\/[0-9a-f]+\?X-Amz-Signature=/);
  });

  it('reads checksums.txt as text', async () => {
    expect(await downloadText(server.baseUrl + SUMS)).toMatch(/^[0-9a-f]{64} {2}livekit_1\.9\.0_linux_amd64\.tar\.gz\n/);
  });

  it('refuses a body over the size limit', async () => {
    expect(await failure(downloadToFile(server.baseUrl + ARCHIVE, join(dir, 'a'), { maxBytes: 1000 }))).toMatch(/: larger than 1000 bytes, refused$/);
    expect(await failure(downloadText(server.baseUrl + ARCHIVE, { maxBytes: 1000 }))).toMatch(/refused$/);
  });

  it('stops after too many redirects', async () => {
    server.setFault(SUMS, { redirectTo: server.baseUrl + SUMS });
    expect(await failure(downloadText(server.baseUrl + SUMS, { maxRedirects: 3 }))).toMatch(/too many redirects$/);
    expect(server.requests).toHaveLength(4);
  });

  it('names the failing hop without its signed query string', async () => {
    server.setFault(SUMS, { redirectTo: `${server.baseUrl}/objects/gone?X-Amz-Signature=secret` });
    const message = await failure(downloadText(server.baseUrl + SUMS));
    expect(message).toBe(`GET ${server.baseUrl}/objects/gone?… → 404 Not Found`);
  });

  it('refuses ftp and other schemes, and credentials in the URL, before connecting', async () => {
    expect(await failure(downloadText('ftp://127.0.0.1/x'))).toMatch(/unsupported scheme ftp:/);
    const port = new URL(server.baseUrl).port;
    expect(await failure(downloadText(`http://user:pw@127.0.0.1:${port}${SUMS}`))).toMatch(/credentials/);
    expect(server.requests).toEqual([]);
  });

  it('reports a stalled body within the idle timeout', async () => {
    await server.close();
    server = await startReleaseServer({ releases: [{ version: '1.9.0', binary: randomBytes(300_000).toString('base64') }] });
    server.setFault(ARCHIVE, 'stall');
    const started = Date.now();
    const message = await failure(downloadToFile(`${server.baseUrl}${ARCHIVE}`, join(dir, 'a'), { timeoutMs: 300 }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(message).toMatch(/download stalled \(no data for 0\.3 s\)$/);
  });

  it('the test server answers /latest like GitHub: 302 to the tag page', async () => {
    server.setLatest('1.9.0');
    expect(await downloadText(server.baseUrl + '/latest')).toContain('release');
    expect(server.requests).toEqual(['/latest', '/tag/v1.9.0']);
  });

  it('reports a refused connection', async () => {
    const port = new URL(server.baseUrl).port;
    await server.close();
    server = await startReleaseServer();
    expect(await failure(downloadText(`http://127.0.0.1:${port}${SUMS}`))).toMatch(/failed: .*ECONNREFUSED/);
  });
});
