// The planner is pure: these tests feed it plain objects and read the steps a user would see.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FileState, LiveKitDesired, LiveKitObserved, UnitState } from '../../src/model.js';
import { resolvePaths } from '../../src/paths.js';
import { planToJson } from '../../src/plan/plan.js';
import { planLiveKit, type PlanContext } from '../../src/services/livekit/plan.js';
import { renderConfig, renderKeyFile, renderUnit } from '../../src/services/livekit/render.js';

const SECRET = 'declared-secret-0123456789abcdefghijklmnop';
const FRESH = 'fresh-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210';
const ctx: PlanContext = { unitTemplate: readFileSync(new URL('../../templates/livekit.service', import.meta.url), 'utf8'), freshSecret: () => FRESH };
const paths = resolvePaths({ HOME: '/home/u' }).livekit;
const T0 = 1_700_000_000_000;

function desired(over: Partial<LiveKitDesired> = {}): LiveKitDesired {
  return {
    name: 'livekit',
    state: 'running',
    autostart: true,
    version: '1.9.0',
    install: { method: 'release', baseUrl: 'https://github.com/livekit/livekit/releases' },
    port: 7880,
    bindAddresses: ['127.0.0.1'],
    rtc: { portRangeStart: 50000, portRangeEnd: 60000, tcpPort: 7881, useExternalIp: false },
    keys: { kind: 'declared', entries: { devkey: SECRET } },
    room: { autoCreate: true, emptyTimeout: 300 },
    logging: { level: 'info' },
    health: { timeoutMs: 30_000 },
    ...over,
  };
}

const file = (content: string, mode = 0o600, mtimeMs = T0 - 60_000): FileState => ({ exists: true, content, mode, mtimeMs });
const absent: FileState = { exists: false };
const activeUnit: UnitState = {
  loadState: 'loaded',
  activeState: 'active',
  subState: 'running',
  unitFileState: 'enabled',
  needDaemonReload: false,
  mainPid: 4242,
  fragmentPath: paths.unitFile,
  startedAtMs: T0,
};

/** A machine where everything matches `d`. */
function converged(d: LiveKitDesired = desired(), over: Partial<LiveKitObserved> = {}): LiveKitObserved {
  const entries = d.keys.kind === 'declared' ? d.keys.entries : { [d.keys.apiKey]: 'kept-secret-kept-secret-kept-secret-kept' };
  return {
    supervisor: { kind: 'systemd', why: 'a systemd user manager answers' },
    binary: { kind: 'present', path: paths.binary, version: '1.9.0', mtimeMs: T0 - 60_000 },
    config: file(renderConfig(d, paths)),
    keyFile: file(renderKeyFile(entries)),
    keyDirMode: 0o700,
    logDirMode: 0o700,
    unitFile: file(renderUnit(ctx.unitTemplate, paths.binary, paths), 0o644),
    enabled: true,
    unit: activeUnit,
    health: { kind: 'healthy' },
    ...over,
  };
}

const fresh: LiveKitObserved = {
  supervisor: { kind: 'systemd', why: 'a systemd user manager answers' },
  binary: { kind: 'absent', path: paths.binary },
  config: absent,
  keyFile: absent,
  keyDirMode: undefined,
  logDirMode: undefined,
  unitFile: absent,
  enabled: false,
  unit: { ...activeUnit, loadState: 'not-found', activeState: 'inactive', subState: 'dead', unitFileState: '', mainPid: 0, startedAtMs: undefined },
  health: { kind: 'unhealthy', detail: 'ECONNREFUSED' },
};

const summary = (d: LiveKitDesired, o: LiveKitObserved) => planLiveKit(d, o, paths, ctx).steps.map((s) => `${s.resource} ${s.action}`);

describe('planning LiveKit', () => {
  it('a fresh machine gets install, files, unit, start and a health wait, in that order', () => {
    expect(summary(desired(), fresh)).toEqual([
      'binary install',
      'config create',
      'config create',
      'unit create',
      'unit create',
      'unit daemon-reload',
      'unit enable',
      'running start',
      'healthy wait-healthy',
    ]);
  });

  it('a converged machine plans nothing', () => {
    const p = planLiveKit(desired(), converged(), paths, ctx);
    expect(p.steps).toEqual([]);
    expect(p.blockers).toEqual([]);
  });

  it('a changed RTC port range rewrites the config and plans exactly one restart, saying what changed', () => {
    const before = desired();
    const after = desired({ rtc: { ...before.rtc, portRangeEnd: 60100 } });
    const p = planLiveKit(after, converged(before), paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['config update', 'running restart', 'healthy wait-healthy']);
    expect(p.steps[0]?.reason).toContain('config changed: rtc.port_range_end 60000 → 60100');
    expect(p.steps[0]?.change?.before).toContain('port_range_end: 60000');
    expect(p.steps[0]?.change?.after).toContain('port_range_end: 60100');
  });

  it('a new version installs and restarts once', () => {
    const p = planLiveKit(desired({ version: '1.9.1' }), converged(), paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['binary install', 'running restart', 'healthy wait-healthy']);
    expect(p.steps[0]?.reason).toContain('version 1.9.0 → 1.9.1');
  });

  it('a binary deleted under a running LiveKit is reinstalled and the process restarted', () => {
    const p = planLiveKit(desired(), converged(desired(), { binary: { kind: 'absent', path: paths.binary } }), paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['binary install', 'running restart', 'healthy wait-healthy']);
    expect(p.steps[1]?.reason).toContain('binary reinstalled');
  });

  it('a hand-edited unit is rewritten, reloaded and restarted', () => {
    const o = converged();
    const p = planLiveKit(desired(), { ...o, unitFile: file('[Service]\nExecStart=/bin/true\n', 0o644) }, paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['unit update', 'unit daemon-reload', 'running restart', 'healthy wait-healthy']);
  });

  it('a stopped service is started, not restarted', () => {
    const o = converged(desired(), { unit: { ...activeUnit, activeState: 'inactive', subState: 'dead', mainPid: 0, startedAtMs: undefined }, health: { kind: 'unhealthy', detail: 'ECONNREFUSED' } });
    expect(summary(desired(), o)).toEqual(['running start', 'healthy wait-healthy']);
  });

  it('a disabled unit with autostart is enabled and nothing else', () => {
    expect(summary(desired(), converged(desired(), { enabled: false }))).toEqual(['unit enable']);
    expect(summary(desired({ autostart: false }), converged(desired({ autostart: false })))).toEqual(['unit disable']);
  });

  it('a running but unhealthy process is restarted; a starting one is waited for', () => {
    expect(summary(desired(), converged(desired(), { health: { kind: 'unhealthy', detail: 'ECONNREFUSED' } }))).toEqual(['running restart', 'healthy wait-healthy']);
    expect(summary(desired(), converged(desired(), { health: { kind: 'starting', status: 406 } }))).toEqual(['healthy wait-healthy']);
  });

  it('a file written after the process started means the process runs an old setup: restart', () => {
    const d = desired();
    const o = converged(d, { config: file(renderConfig(d, paths), 0o600, T0 + 5_000) });
    const p = planLiveKit(d, o, paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['running restart', 'healthy wait-healthy']);
    expect(p.steps[0]?.reason).toContain('config written after pid 4242 started');
  });

  it('a key file readable by others is rewritten 0600 (LiveKit refuses it otherwise)', () => {
    const d = desired();
    const o = converged(d, { keyFile: file(renderKeyFile({ devkey: SECRET }), 0o644) });
    const p = planLiveKit(d, o, paths, ctx);
    expect(p.steps[0]?.reason).toContain('mode 0644 → 0600');
    expect(p.steps[0]?.effect).toMatchObject({ kind: 'write-file', mode: 0o600, dirMode: 0o700 });
  });

  it('a generated key keeps the secret already on disk', () => {
    const d = desired({ keys: { kind: 'generated', apiKey: 'devkey' } });
    expect(planLiveKit(d, converged(d), paths, ctx).steps).toEqual([]);
  });

  it('a generated key gets a fresh secret only when none is on disk', () => {
    const d = desired({ keys: { kind: 'generated', apiKey: 'devkey' } });
    const p = planLiveKit(d, fresh, paths, ctx);
    const keyStep = p.steps.find((s) => s.effect.kind === 'write-file' && s.effect.path === paths.keyFile);
    expect(keyStep?.effect).toMatchObject({ content: expect.stringContaining(`devkey: ${FRESH}`) });
    expect(keyStep?.reason).toContain('generating a new secret for devkey');
  });

  it('a changed secret is reported as (sensitive) and never shown', () => {
    const d = desired({ keys: { kind: 'declared', entries: { devkey: `${SECRET}-new` } } });
    const p = planLiveKit(d, converged(desired()), paths, ctx);
    expect(p.steps[0]?.reason).toContain('keys.devkey: (sensitive) changed');
    const visible = JSON.stringify({ json: planToJson({ ...p, notes: [] }), changes: p.steps.map((s) => [s.reason, s.change]) });
    expect(visible).not.toContain(SECRET);
    expect(visible).toContain('(sensitive)');
  });

  it('no systemd user manager blocks the plan with the reason', () => {
    const p = planLiveKit(desired(), { ...fresh, supervisor: { kind: 'unavailable', why: 'systemctl --user does not answer (Failed to connect to bus)' }, unit: undefined }, paths, ctx);
    expect(p.blockers[0]).toContain('Failed to connect to bus');
    expect(p.steps.some((s) => s.resource === 'running')).toBe(false);
  });

  it('install.path that does not exist is a blocker, never an install', () => {
    const d = desired({ install: { method: 'path', path: '/opt/lk/livekit-server' } });
    const p = planLiveKit(d, { ...fresh, binary: { kind: 'absent', path: '/opt/lk/livekit-server' } }, paths, ctx);
    expect(p.blockers[0]).toContain('install.path /opt/lk/livekit-server does not exist');
    expect(p.steps.some((s) => s.action === 'install')).toBe(false);
  });
});
