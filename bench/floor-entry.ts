// The floor of a converged `vm plan` with this stack (bench/plan.ts times it): only what the
// issue requires of it, nothing of vm's own structure. Read the file, parse it with yaml,
// validate it with the precompiled ajv validator, read the unit's state over D-Bus, GET / —
// and print one line. Bundled and given a code cache exactly like dist/vm.cjs.

import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { unitPropertiesOverBus } from '../src/platform/systemd-bus.js';
import { parseSpec } from '../src/spec/parse.js';
import { validateSchema } from '../src/spec/validate.js';

export async function main(): Promise<number> {
  const file = process.env['VOICEMODE_SERVICES_FILE'] ?? '';
  const parsed = parseSpec(await readFile(file, 'utf8'), file);
  if (!parsed.ok || validateSchema(parsed.spec).length > 0) return 1;
  const port = (parsed.spec.data as { services?: { livekit?: { port?: number } } }).services?.livekit?.port ?? 7880;
  const [unit, status] = await Promise.all([
    unitPropertiesOverBus(process.env['XDG_RUNTIME_DIR'], 'voicemode-livekit.service', ['ActiveState', 'MainPID']),
    new Promise<number>((resolve) => {
      request(`http://127.0.0.1:${port}/`, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
        .on('error', () => resolve(0))
        .end();
    }),
  ]);
  process.stdout.write(`livekit: ${unit?.get('ActiveState') ?? 'unknown'}, GET / ${status}\n`);
  return unit?.get('ActiveState') === 'active' && status === 200 ? 0 : 1;
}
