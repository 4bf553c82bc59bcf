// vm web: serves the local page (src/web/) on 127.0.0.1 until Ctrl-C, and prints its URL with the
// launch key. Reads the file afresh on every API call, like `vm status`; changes nothing.

import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';
import { nodeHost } from '../../platform/node-host.js';
import { UserError } from '../../errors.js';
import { loadDesired, loadDesiredForReading } from '../../spec/load.js';
import { hint } from '../invocation.js';

export interface WebFlags {
  readonly file?: string;
  readonly port?: string;
  /** --open / --no-open; undefined: open when run on a terminal. */
  readonly open?: boolean;
}

export async function webCommand(io: CliIo, o: WebFlags): Promise<number> {
  const port = Number(o.port ?? '7890');
  if (!/^[0-9]+$/.test(o.port ?? '7890') || port > 65535) throw new UserError('USAGE', `--port must be a port number, 0 to 65535 (0: any free one); got ${JSON.stringify(o.port)}`);
  const file = o.file === undefined ? {} : { file: o.file };
  // Fail now, not on the first refresh, when the file does not load at all.
  await loadDesiredForReading({ ...file, cwd: io.cwd, env: io.env });
  const [{ startWebServer }, { loadPageAssets }, { newKey }] = await Promise.all([import('../../web/server.js'), import('../../web/assets.js'), import('../../web/security.js')]);
  const host = nodeHost(io.env);
  const server = await startWebServer({
    port,
    key: newKey(),
    assets: await loadPageAssets(),
    log: (line) => io.stderr.write(`${line}\n`),
    ctx: {
      host,
      load: () => loadDesiredForReading({ ...file, cwd: io.cwd, env: io.env }),
      loadStrict: () => loadDesired({ ...file, cwd: io.cwd, env: io.env }),
      user: io.env['USER'] ?? io.env['LOGNAME'] ?? 'user',
      hint: (s) => hint(io, s),
    },
  });
  // Printed only once the server listens: whoever reads this line can open the URL at once.
  io.stdout.write(`vm web: ${server.url}\n`);
  io.stderr.write(`vm web: serving on 127.0.0.1:${server.port} only; the key in the URL is this launch's (Ctrl-C to stop)\n`);
  let cleanup: (() => Promise<void>) | undefined;
  if (o.open ?? io.isTTY) {
    try {
      cleanup = await (await import('../../web/open-browser.js')).openBrowser(server.url, process.platform);
    } catch (e) {
      io.stderr.write(`vm web: could not open a browser (${(e as Error).message}): open the URL above\n`);
    }
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals) => {
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      resolve(s);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
  });
  await server.close();
  await cleanup?.();
  io.stderr.write(`vm web: stopped (${signal})\n`);
  return EXIT.ok;
}
