// `vm mcp`: serves vm's tools over stdio (src/mcp/server.ts). stdout carries the protocol and
// nothing else: every other write to stdout (a stray progress line, a library's console.log)
// is sent to stderr, where an MCP client shows it as the server's log.
// `vm mcp --print-config` prints the `mcpServers` entry to paste into an MCP client's settings.

import { resolve } from 'node:path';
import { nodeHost } from '../../platform/node-host.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

declare const __VM_VERSION__: string | undefined;
const VERSION = typeof __VM_VERSION__ === 'string' ? __VM_VERSION__ : '0.0.0-dev';

export async function mcpCommand(io: CliIo, o: { file?: string; printConfig?: boolean }): Promise<number> {
  const file = o.file === undefined ? undefined : resolve(io.cwd, o.file);
  if (o.printConfig === true) {
    // Absolute paths: an MCP client starts the server from its own directory, with its own PATH.
    const script = resolve(io.script ?? process.argv[1] ?? 'bin/vm.cjs');
    const entry = { command: process.execPath, args: [script, 'mcp', ...(file === undefined ? [] : ['--file', file])] };
    io.stdout.write(`${JSON.stringify({ mcpServers: { vm: entry } }, null, 2)}\n`);
    return EXIT.ok;
  }
  const real = process.stdout;
  const write = real.write.bind(real);
  // The transport's own stdout: the only writer of the real one.
  const protocolOut = { write: (chunk: string) => write(chunk), once: (ev: string, cb: () => void) => real.once(ev, cb) };
  real.write = ((chunk: unknown, ...rest: unknown[]) => (process.stderr.write as (...a: unknown[]) => boolean)(chunk, ...rest)) as typeof real.write;

  const { createServer } = await import('../../mcp/server.js');
  const { StdioServerTransport } = await import('../../mcp/sdk.js');
  const server = await createServer({ host: nodeHost(io.env), env: io.env, cwd: io.cwd, ...(file === undefined ? {} : { file }), version: VERSION });
  const transport = new StdioServerTransport(process.stdin, protocolOut as unknown as NodeJS.WritableStream as never);
  await server.connect(transport);
  await new Promise<void>((done) => {
    server.server.onclose = () => done();
    // The client went away (closed our stdin): stop serving.
    process.stdin.once('end', () => void server.close().then(done, done));
  });
  return EXIT.ok;
}
