// A slow link in front of a release server: node:http on 127.0.0.1 that forwards every request to
// `target` and sends answers back at `bytesPerSecond`, so a download is still in flight when a
// test kills `vm apply`. Location headers that point at the target are rewritten to the proxy,
// so redirected downloads stay slow too.

import { request, createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ThrottleProxy {
  baseUrl: string;
  close(): Promise<void>;
}

const CHUNK = 16 * 1024;

export async function startThrottleProxy(target: string, bytesPerSecond: number): Promise<ThrottleProxy> {
  const to = new URL(target);
  let baseUrl = '';
  const server = createServer((req, res) => {
    const up = request(
      { host: to.hostname, port: to.port, path: `${to.pathname.replace(/\/$/, '')}${req.url ?? '/'}`, method: req.method, headers: { ...req.headers, host: to.host }, agent: false },
      (upRes) => {
        const headers: IncomingHttpHeaders = { ...upRes.headers };
        if (typeof headers.location === 'string') headers.location = headers.location.replace(to.origin, baseUrl);
        res.writeHead(upRes.statusCode ?? 502, headers);
        const chunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => chunks.push(c));
        upRes.on('end', () => {
          const body = Buffer.concat(chunks);
          let off = 0;
          const tick = (): void => {
            if (res.destroyed) return;
            if (off >= body.length) return void res.end();
            res.write(body.subarray(off, off + CHUNK));
            off += CHUNK;
            setTimeout(tick, (CHUNK / bytesPerSecond) * 1000);
          };
          tick();
        });
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
