import { stringify } from 'yaml';
import { renderHost } from '../../ops/render.js';
import { hostLabel } from '../../spec/hosts.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

/** `vm render [--host NAME] [--json]`: what a host gets from the file; secrets (sensitive). */
export async function renderCommand(io: CliIo, o: { file?: string; host?: string; json?: boolean }): Promise<number> {
  const r = await renderHost({ ...(o.file === undefined ? {} : { file: o.file }), ...(o.host === undefined ? {} : { host: o.host }), cwd: io.cwd, env: io.env });
  if (o.json === true) {
    io.stdout.write(`${JSON.stringify(r)}\n`);
    return EXIT.ok;
  }
  const applied = r.applied.length === 0 ? 'no hosts entry matches; the base applies' : `${r.applied.map(hostLabel).join(', ')} applied`;
  io.stdout.write(`# host ${r.host}: ${applied}\n${stringify(r.desired)}`);
  for (const p of r.unread) io.stderr.write(`${p.file}:${p.line}:${p.column}: not read here: ${p.message}\n`);
  return EXIT.ok;
}
