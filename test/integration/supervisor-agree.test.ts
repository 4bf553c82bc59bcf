// One ServiceSpec, three supervisors: the systemd unit, the launchd plist and the process
// supervisor must run the same binary with the same config (which holds the ports) and log to the
// same file. Rendered from one set of paths, then checked by reading each back the way its
// supervisor would, and by running each command line.

import { execFileSync } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from '../../src/model.js';
import { nodeHost } from '../../src/platform/node-host.js';
import { processSupervisor } from '../../src/platform/supervisors/process.js';
import { renderPlist } from '../../src/resources/plist.js';
import { renderUnit } from '../../src/resources/unit.js';
import { setUpLiveKit, type LiveKitHome } from '../helpers/livekit-home.js';
import { tempHome, type TempHome } from '../helpers/systemd.js';
import { parsePlist } from '../helpers/plist.js';
import { ROOT } from '../kit/index.js';

/** What systemd would run and where it would log, read back from the unit text (systemd.syntax(7)). */
function readUnit(text: string): { argv: string[]; stdout: string; stderr: string } {
  const line = (key: string) => /^(\w+)=(.*)$/m.exec(text.split('\n').filter((l) => l.startsWith(`${key}=`))[0] ?? '')?.[2] ?? '';
  const argv: string[] = [];
  const exec = line('ExecStart');
  for (const m of exec.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    const quoted = m[1] === undefined ? (m[2] ?? '') : m[1].replace(/\\(.)/g, '$1');
    argv.push(quoted.replaceAll('$$', '$').replaceAll('%%', '%'));
  }
  const unappend = (v: string) => v.replace(/^append:/, '').replaceAll('%%', '%');
  return { argv, stdout: unappend(line('StandardOutput')), stderr: unappend(line('StandardError')) };
}

let home: TempHome;
let lk: LiveKitHome;
let template: string;

beforeEach(async () => {
  home = await tempHome();
  lk = await setUpLiveKit({ ...home.env }, { voicemodeHome: join(home.env.HOME, `vm home & <x> "q" 'a'`) });
  template = await readFile(join(ROOT, 'templates', 'livekit.service'), 'utf8');
});
afterEach(async () => {
  await home.cleanup();
});

function rendered(specs: Record<'systemd' | 'launchd' | 'process', ServiceSpec>): Record<string, { argv: string[]; log: string[] }> {
  const unit = readUnit(renderUnit(template, specs.systemd));
  const plist = parsePlist(renderPlist(specs.launchd));
  return {
    systemd: { argv: unit.argv, log: [unit.stdout, unit.stderr] },
    launchd: { argv: plist['ProgramArguments'] as string[], log: [plist['StandardOutPath'] as string, plist['StandardErrorPath'] as string] },
    // The process supervisor spawns exactly [binary, ...args] with both streams on logFile (see
    // the integration test, which reads /proc/PID/cmdline and fd/1 of the started process).
    process: { argv: [specs.process.binary, ...specs.process.args], log: [specs.process.logFile, specs.process.logFile] },
  };
}

describe('the same settings drive systemd, launchd and the process supervisor', () => {
  it('unit, plist and process argv name the same binary, config and log file, even for hostile paths', () => {
    const ugly = (s: ServiceSpec): ServiceSpec => ({ ...s, binary: `${s.binary} $HOME %i \\ "`, args: ['--config', `${s.args[1] ?? ''} $x`], logFile: `${s.logFile} %h` });
    for (const specs of [
      { systemd: lk.spec('systemd'), launchd: lk.spec('launchd'), process: lk.spec('process') },
      { systemd: ugly(lk.spec('systemd')), launchd: ugly(lk.spec('launchd')), process: ugly(lk.spec('process')) },
    ]) {
      const r = rendered(specs);
      const want = { argv: [specs.process.binary, '--config', specs.process.args[1]], log: [specs.process.logFile, specs.process.logFile] };
      expect(r['systemd']).toEqual(want);
      expect(r['launchd']).toEqual(want);
      expect(r['process']).toEqual(want);
    }
    // Only what names the service differs.
    expect(lk.spec('systemd')).toMatchObject({ label: 'voicemode-livekit.service' });
    expect(lk.spec('launchd')).toMatchObject({ label: 'com.voicemode.livekit' });
    expect(lk.spec('process').definitionFile).toBeUndefined();
  });

  it('each command line, run, reads the same config: the same ports', () => {
    for (const { argv } of Object.values(rendered({ systemd: lk.spec('systemd'), launchd: lk.spec('launchd'), process: lk.spec('process') }))) {
      const [bin, ...args] = argv as [string, ...string[]];
      const out = execFileSync(bin, [...args, 'ports'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: home.env.HOME } });
      expect(out).toContain(`${lk.port} - HTTP service`);
    }
  });

  it('the process supervisor runs that argv and appends to that log, and LiveKit answers on the configured port', async () => {
    const svc = lk.spec('process');
    const host = nodeHost({ PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...lk.env });
    await processSupervisor.run(host, svc, 'start');
    const { pid } = await processSupervisor.observe(host, svc);
    await lk.waitHealth();
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    expect(cmdline.join('\0')).toContain(svc.args.join('\0'));
    expect(await readlink(`/proc/${pid}/fd/1`)).toBe(svc.logFile);
    expect(await readlink(`/proc/${pid}/fd/2`)).toBe(svc.logFile);
    await processSupervisor.run(host, svc, 'stop');
  });
});
