// `vm discover [--json]`: what answers here, whether vm manages it, and the provider lists
// Voice Mode reads. A thin view over ops/discover.ts.

import { discover } from '../../ops/discover.js';
import { loadContext } from '../context.js';
import { EXIT } from '../exit.js';
import type { CliIo } from '../io.js';

export async function discoverCommand(io: CliIo, o: { file?: string; json?: boolean }): Promise<number> {
  const { desired, host } = await loadContext(io, o.file);
  const d = await discover(host, desired);
  if (o.json === true) {
    const services = d.services.map((s) => ({ name: s.name, kind: s.kind, url: s.url ?? null, healthy: s.healthy, managed: s.managed }));
    io.stdout.write(`${JSON.stringify({ services, env: d.env })}\n`);
    return EXIT.ok;
  }
  const width = Math.max(8, ...d.services.map((s) => s.name.length));
  const lines = d.services.map((s) => `${s.name.padEnd(width)}  ${(s.healthy ? 'healthy' : 'not healthy').padEnd(11)}  ${(s.url ?? '-').padEnd(28)}  ${s.note}`);
  if (lines.length === 0) lines.push('nothing declared, and nothing answers on the well-known ports (7880, 2022, 8880)');
  lines.push('', '# for Voice Mode (healthy local endpoints first):');
  // Quoted for a shell; the URLs hold no quotes (vm builds them, or they came from this env).
  lines.push(`VOICEMODE_STT_BASE_URLS='${d.env.VOICEMODE_STT_BASE_URLS}'`, `VOICEMODE_TTS_BASE_URLS='${d.env.VOICEMODE_TTS_BASE_URLS}'`, '');
  io.stdout.write(lines.join('\n'));
  return EXIT.ok;
}
