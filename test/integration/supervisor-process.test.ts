// The process supervisor where there is no /proc (macOS, BSD): identity comes from kill(pid, 0)
// and `ps`. Exercised here on Linux by a host that says it is darwin; `ps -o stat=,etime=,command=`
// is the same on procps and BSD ps.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/model.js';
import type { Host } from '../../src/platform/host.js';
import { nodeHost } from '../../src/platform/node-host.js';
import { processSupervisor as sup } from '../../src/platform/supervisors/process.js';
import { setUpLiveKit, type LiveKitHome } from '../helpers/livekit-home.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';

let home: TempHome;
let lk: LiveKitHome;
let svc: ServiceSpec;
let host: Host;
const strays: ChildProcess[] = [];

beforeEach(async () => {
  home = await tempHome();
  lk = await setUpLiveKit({ ...home.env });
  svc = lk.spec('process');
  host = { ...nodeHost({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...lk.env }), platform: 'darwin' };
});
afterEach(async () => {
  // Each stray leads its own process group: `sh -c 'sleep 30; :'` has a child to take down too.
  for (const c of strays.splice(0)) {
    try {
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await home.cleanup();
});

describe('process supervisor without /proc', () => {
  it('start, observe, stop through kill(0) and ps', async () => {
    await sup.run(host, svc, 'start');
    const rt = await sup.observe(host, svc);
    expect(rt).toMatchObject({ running: true, state: `running (pid ${rt.pid})` });
    await lk.waitHealth();
    await sup.run(host, svc, 'stop');
    expect(await sup.observe(host, svc)).toMatchObject({ running: false, state: 'no pid file' });
    expect(await lk.health()).toBe('down');
  });

  it('a foreign pid (other arguments, or started long before the pid file says) is not ours', async () => {
    const c = spawn('sh', ['-c', 'sleep 30; :', 'sh', ...svc.args], { stdio: 'ignore', detached: true });
    strays.push(c);
    await new Promise((r) => c.once('spawn', r));
    await mkdir(dirname(svc.pidFile), { recursive: true });
    const write = (rec: object) => writeFile(svc.pidFile, JSON.stringify(rec));
    await write({ pid: c.pid, started_at_ms: Date.now(), argv: [svc.binary, '--config', '/elsewhere.yaml'] });
    expect((await sup.observe(host, svc)).state).toBe(`stale pid file (pid ${c.pid} is another program: sh)`);
    await write({ pid: c.pid, started_at_ms: Date.now() + 3_600_000, argv: [svc.binary, ...svc.args] });
    expect((await sup.observe(host, svc)).running).toBe(false);
    await write({ pid: c.pid, started_at_ms: Date.now(), argv: [svc.binary, ...svc.args] });
    expect((await sup.observe(host, svc)).running).toBe(true); // the control
    await write({ pid: 999_999_999, started_at_ms: Date.now(), argv: [svc.binary, ...svc.args] });
    expect((await sup.observe(host, svc)).state).toBe('stale pid file (pid 999999999 is gone)');
  });
});
