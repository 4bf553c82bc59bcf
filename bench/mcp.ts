// `vm mcp`: the round trip of one `status` tool call (the server already up), against running
// `vm status` as a process, alternated in the same run on a converged machine (bench/plan.ts
// for why: these machines are noisy, compare ratios). Run: npm run bench (root). Prints figures.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawnSync } from 'node:child_process';
import { it } from 'vitest';
import { startReleaseServer } from '../test/helpers/release-server.js';
import { standinScript } from '../test/helpers/standin.js';
import { startUserManager } from '../test/helpers/systemd.js';
import { cleanEnv, converge, median, medianOfRatios, ratioOfMedians, ROUNDS, rounds, timed, VM, writeLiveKitSpec } from './lib.js';

it('vm mcp status round trip, against vm status as a process', async () => {
  const um = await startUserManager();
  const rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
  let client: Client | undefined;
  try {
    const spec = `${um.env.HOME}/dotfiles/voicemode.services.yaml`;
    await writeLiveKitSpec(spec, { version: '1.9.0', install: `{ base_url: "${rel.baseUrl}" }` });
    const env = cleanEnv(um.env, spec);
    await converge(env);
    const t0 = process.hrtime.bigint();
    client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [VM, 'mcp'], env }));
    const startMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const callOnce = async () => {
      const s = process.hrtime.bigint();
      const r = await client?.callTool({ name: 'status', arguments: {} });
      if (r?.isError === true) throw new Error(JSON.stringify(r));
      return Number(process.hrtime.bigint() - s) / 1e6;
    };
    const procOnce = () => timed([VM, 'status'], env);
    await callOnce();
    procOnce();
    const t = await rounds({ mcp: callOnce, cli: procOnce }, { rotate: true });
    process.stdout.write(
      `${JSON.stringify({ rounds: ROUNDS, mcp_server_start_to_connected_ms: +startMs.toFixed(1), mcp_status_call_median_ms: +median(t.mcp).toFixed(1), vm_status_process_median_ms: +median(t.cli).toFixed(1), ratio_of_medians: ratioOfMedians(t.mcp, t.cli), median_of_pair_ratios: medianOfRatios(t.mcp, t.cli) }, null, 2)}\n`,
    );
  } finally {
    await client?.close();
    spawnSync('systemctl', ['--user', 'stop', 'voicemode-livekit.service'], { env: { PATH: process.env['PATH'], ...um.env } });
    await um.stop();
    await rel.close();
  }
});
