// `vm mcp`: the round trip of one `status` tool call (the server already up), against running
// `vm status` as a process, alternated in the same run on a converged machine (bench/plan.ts
// for why: these machines are noisy, compare ratios). Run: npm run bench (root). Prints figures.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { it } from 'vitest';
import { freePorts } from '../test/helpers/ports.js';
import { startReleaseServer } from '../test/helpers/release-server.js';
import { standinScript } from '../test/helpers/standin.js';
import { startUserManager } from '../test/helpers/systemd.js';
import { ROOT, runVm } from '../test/helpers/vm.js';

const ROUNDS = Number(process.env['BENCH_PAIRS'] ?? 20);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

it('vm mcp status round trip, against vm status as a process', async () => {
  const um = await startUserManager();
  const rel = await startReleaseServer({ releases: [{ version: '1.9.0', binary: standinScript({ version: '1.9.0', readyAfterMs: 300 }) }] });
  let client: Client | undefined;
  try {
    const [port, tcp] = (await freePorts(2)) as [number, number];
    const spec = `${um.env.HOME}/dotfiles/voicemode.services.yaml`;
    await mkdir(`${um.env.HOME}/dotfiles`, { recursive: true });
    await writeFile(spec, `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n    install: { base_url: "${rel.baseUrl}" }\n    port: ${port}\n    rtc: { tcp_port: ${tcp} }\n`);
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...um.env, VOICEMODE_SERVICES_FILE: spec };
    const apply = await runVm(['apply', '--yes'], env);
    if (apply.code !== 0) throw new Error(`apply failed: ${apply.stderr}`);
    const t0 = process.hrtime.bigint();
    client = new Client({ name: 'bench', version: '1' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [`${ROOT}bin/vm.cjs`, 'mcp'], env }));
    const startMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const mcp: number[] = [];
    const cli: number[] = [];
    const ratios: number[] = [];
    const callOnce = async () => {
      const s = process.hrtime.bigint();
      const r = await client?.callTool({ name: 'status', arguments: {} });
      if (r?.isError === true) throw new Error(JSON.stringify(r));
      return Number(process.hrtime.bigint() - s) / 1e6;
    };
    const procOnce = () => {
      const s = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [`${ROOT}bin/vm.cjs`, 'status'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      if (r.status !== 0) throw new Error(`vm status exited ${r.status}: ${r.stderr.toString()}`);
      return Number(process.hrtime.bigint() - s) / 1e6;
    };
    await callOnce();
    procOnce();
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b] = i % 2 === 0 ? [await callOnce(), procOnce()] : [0, procOnce()];
      const m = i % 2 === 0 ? a : await callOnce();
      mcp.push(m);
      cli.push(b);
      ratios.push(m / b);
    }
    process.stdout.write(
      `${JSON.stringify({ rounds: ROUNDS, mcp_server_start_to_connected_ms: +startMs.toFixed(1), mcp_status_call_median_ms: +median(mcp).toFixed(1), vm_status_process_median_ms: +median(cli).toFixed(1), ratio_of_medians: +(median(mcp) / median(cli)).toFixed(2), median_of_pair_ratios: +median(ratios).toFixed(2) }, null, 2)}\n`,
    );
  } finally {
    await client?.close();
    spawnSync('systemctl', ['--user', 'stop', 'voicemode-livekit.service'], { env: { PATH: process.env['PATH'], ...um.env } });
    await um.stop();
    await rel.close();
  }
});
