// What an interrupted run leaves behind is swept; nothing else is touched. Real files, temp HOME.

import { livekitPathsFor } from '../helpers/desired.js';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepLeftovers } from '../../src/apply/sweep.js';
import { nodeHost } from '../../src/platform/node-host.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'vm-sweep-'));
});
afterEach(async () => rm(home, { recursive: true, force: true }));

describe('sweeping leftovers of an interrupted run', () => {
  it('removes temp files and unfinished versions, and keeps everything else', async () => {
    const env = { HOME: home };
    const p = livekitPathsFor(env);
    const unitDir = join(home, '.config', 'systemd', 'user');
    for (const d of [p.dir, join(p.versionsDir, '1.9.0'), join(p.versionsDir, '1.9.1'), unitDir, join(home, '.voicemode', 'state')]) await mkdir(d, { recursive: true });
    const keep = [p.config, p.keyFile, join(p.versionsDir, '1.9.0', 'livekit-server'), p.unitFile, join(unitDir, 'someone-else.service'), join(unitDir, '.someone-else.service.tmp'), p.writtenRecord];
    const junk = [
      join(p.dir, '.livekit.yaml.vm-tmp-123-1-1'),
      join(p.dir, 'livekit-server.tmp-ab12cd'),
      join(p.versionsDir, '.livekit_1.9.1_linux_amd64.tar.gz.tmp-ab12cd'),
      join(p.versionsDir, '1.9.0', 'livekit-server.tmp-ab12cd'),
      join(unitDir, '.voicemode-livekit.service.vm-tmp-9-9-9'),
      join(home, '.voicemode', 'state', '.written.json.vm-tmp-1-2-3'),
    ];
    for (const f of [...keep, ...junk]) await writeFile(f, 'x');
    const n = await sweepLeftovers(nodeHost(env), p);
    expect(n).toBe(junk.length + 1); // + versions/1.9.1, which has no binary
    const left = async (d: string) => (await readdir(d)).sort();
    expect(await left(p.versionsDir)).toEqual(['1.9.0']);
    expect(await left(join(p.versionsDir, '1.9.0'))).toEqual(['livekit-server']);
    expect(await left(unitDir)).toEqual(['.someone-else.service.tmp', 'someone-else.service', 'voicemode-livekit.service']);
    expect(await left(p.dir)).toEqual(['keys.yaml', 'livekit.yaml', 'versions']);
  });
});
