// Per service: what its kind observes (binary or program, config, unit, running, healthy).
// Read-only, like plan.

import { clientStatus } from '../../ops/client-status.js';
import { snapshot } from '../../reconcile.js';
import { kindOf } from '../../services/registry.js';
import { loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

export async function statusCommand(io: CliIo, o: { file?: string; json?: boolean }): Promise<number> {
  const { desired, host } = await loadContext(io, o.file);
  const snap = await snapshot(host, desired);
  if (snap.services.length === 0) {
    io.stdout.write(o.json === true ? `${JSON.stringify({ format_version: '1', services: {}, notes: snap.plan.notes })}\n` : `no services declared\n${snap.plan.notes.map((n) => `note: ${n}\n`).join('')}`);
    return EXIT.ok;
  }
  // Services with clients (LiveKit) add their URL, key name and the room API and token checks.
  const clients = await clientStatus(host, snap);
  const views = snap.services.map((s) => {
    const view = kindOf(s.desired).status(s);
    const c = clients.get(s.name);
    return { name: s.name, view: c === undefined ? view : { json: { ...view.json, ...c.json }, lines: [...view.lines, ...c.lines] } };
  });
  if (o.json === true) {
    io.stdout.write(`${JSON.stringify({ format_version: '1', services: Object.fromEntries(views.map((v) => [v.name, v.view.json])) })}\n`);
    return EXIT.ok;
  }
  const n = snap.plan.steps.length;
  io.stdout.write(
    [
      ...views.flatMap((v) => v.view.lines),
      ...snap.plan.warnings.map((w) => `warning: ${w}`),
      ...snap.plan.notes.filter((note) => note.includes('is not in the file')).map((note) => `note: ${note}`),
      n === 0 ? 'converged' : `${n} step(s) pending: run \`vm plan\` for details`,
      '',
    ].join('\n'),
  );
  return EXIT.ok;
}
