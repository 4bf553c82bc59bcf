// The planner is pure: these tests feed it plain objects and read the steps a user would see.

import { livekitPathsFor } from '../helpers/desired.js';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FailureRecord, FileState, RuntimeState } from '../../src/model.js';
import type { LiveKitDesired, LiveKitObserved } from '../../src/services/livekit/model.js';
import type { PlanContext } from '../../src/plan/context.js';
import { plan, planToJson } from '../../src/plan/plan.js';
import { planLiveKit } from '../../src/services/livekit/plan.js';
import { rollbackEffects } from '../../src/services/livekit/rollback.js';
import { renderConfig, renderKeyFile } from '../../src/services/livekit/render.js';
import { renderDefinition, serviceSpec } from '../../src/services/livekit/supervision.js';

const SECRET = 'declared-secret-0123456789abcdefghijklmnop';
const FRESH = 'fresh-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210';
const ctx: PlanContext = {
  template: (file) => readFileSync(new URL(`../../templates/${file}`, import.meta.url), 'utf8'),
  freshSecret: () => FRESH,
  freshSalt: () => 'salt',
  hmac: (key, data) => createHmac('sha256', key).update(data).digest('hex'),
  force: false,
};
const digest = (content: string) => ctx.hmac('salt', content);
const paths = livekitPathsFor({ HOME: '/home/u' });
const T0 = 1_700_000_000_000;

function desired(over: Partial<LiveKitDesired> = {}): LiveKitDesired {
  return {
    name: 'livekit',
    kind: 'livekit',
    state: 'running',
    autostart: true,
    removeData: false,
    dev: false,
    version: '1.9.0',
    install: { method: 'release', baseUrl: 'https://github.com/livekit/livekit/releases' },
    port: 7880,
    bindAddresses: ['127.0.0.1'],
    rtc: { portRangeStart: 50000, portRangeEnd: 60000, tcpPort: 7881, useExternalIp: false },
    keys: { kind: 'declared', entries: { devkey: SECRET } },
    room: { autoCreate: true, emptyTimeout: 300 },
    logging: { level: 'info', maxBytes: 10 * 1024 * 1024 },
    health: { timeoutMs: 30_000 },
    ...over,
  };
}

const file = (content: string, mode = 0o600, mtimeMs = T0 - 60_000): FileState => ({ exists: true, content, mode, mtimeMs });
const absent: FileState = { exists: false };
const running: RuntimeState = { loaded: true, loadDetail: '', enabled: true, running: true, pid: 4242, startedAtMs: T0, state: 'active (running)' };
const stopped: RuntimeState = { ...running, running: false, pid: 0, startedAtMs: undefined, state: 'inactive (dead)' };
const unitText = (d: LiveKitDesired = desired()) => renderDefinition('systemd', serviceSpec(d, paths, 'systemd', paths.binary), ctx.template('livekit.service')) ?? '';

/** A machine where everything matches `d`. */
function converged(d: LiveKitDesired = desired(), over: Partial<LiveKitObserved> = {}): LiveKitObserved {
  const entries = d.keys.kind === 'declared' ? d.keys.entries : { [d.keys.apiKey]: 'kept-secret-kept-secret-kept-secret-kept' };
  return {
    kind: 'livekit',
    supervisor: { kind: 'systemd', why: 'a systemd user manager answers' },
    binary: { kind: 'present', path: paths.binary, version: '1.9.0', mtimeMs: T0 - 60_000, target: `${paths.versionsDir}/1.9.0/livekit-server` },
    installedVersions: ['1.9.0'],
    config: file(renderConfig(d, paths)),
    keyFile: file(renderKeyFile(entries)),
    keyDirMode: 0o700,
    logDirMode: 0o700,
    logDirExists: true,
    definition: file(unitText(d), 0o644),
    written: { salt: 'salt', files: { [paths.config]: digest(renderConfig(d, paths)), [paths.keyFile]: digest(renderKeyFile(entries)), [paths.unitFile]: digest(unitText(d)) } },
    runtime: { ...running, enabled: d.autostart },
    health: { kind: 'healthy' },
    ...over,
  };
}

const fresh: LiveKitObserved = {
  kind: 'livekit',
  supervisor: { kind: 'systemd', why: 'a systemd user manager answers' },
  binary: { kind: 'absent', path: paths.binary },
  installedVersions: [],
  config: absent,
  keyFile: absent,
  keyDirMode: undefined,
  logDirMode: undefined,
  logDirExists: false,
  definition: absent,
  written: { salt: undefined, files: {} },
  runtime: { ...stopped, loaded: false, loadDetail: 'systemd has not loaded the unit (not-found)', enabled: false, state: 'inactive (dead)' },
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
    expect(p.steps[1]?.reason).toBe('pid 4242 must restart to use the new setup: binary changed 1.9.0 → 1.9.1');
  });

  it('a downgrade says which binary changed, not that the process runs an old setup', () => {
    const o = converged(desired(), { binary: { kind: 'present', path: paths.binary, version: '1.9.1', mtimeMs: T0 - 60_000, target: `${paths.versionsDir}/1.9.1/livekit-server` } });
    const p = planLiveKit(desired({ version: '1.9.0' }), o, paths, ctx);
    expect(p.steps[1]?.reason).toContain('binary changed 1.9.1 → 1.9.0');
    expect(p.steps[1]?.reason).not.toContain('old setup');
  });

  it('declaring keys that drop the generated devkey warns that its clients will be refused', () => {
    const d = desired({ keys: { kind: 'declared', entries: { apikey1: SECRET } } });
    const o = converged(desired({ keys: { kind: 'generated', apiKey: 'devkey' } }));
    const p = planLiveKit(d, o, paths, ctx);
    expect(p.warnings).toContain('the generated key devkey goes away: clients using it will be refused; give them one of the declared keys, or declare devkey too to keep it');
    expect(p.steps[0]?.reason).toContain('keys.devkey: removed');
    // Keeping devkey beside the new key, or a key file without it, warns of nothing.
    expect(planLiveKit(desired({ keys: { kind: 'declared', entries: { apikey1: SECRET, devkey: SECRET } } }), o, paths, ctx).warnings).toEqual([]);
    expect(planLiveKit(d, converged(d), paths, ctx).warnings).toEqual([]);
  });

  it('a binary deleted under a running LiveKit is reinstalled and the process restarted', () => {
    const p = planLiveKit(desired(), converged(desired(), { binary: { kind: 'absent', path: paths.binary } }), paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['binary install', 'running restart', 'healthy wait-healthy']);
    expect(p.steps[1]?.reason).toContain('binary reinstalled');
  });

  it('a hand-edited unit is rewritten, reloaded and restarted', () => {
    const o = converged();
    const p = planLiveKit(desired(), { ...o, definition: file('[Service]\nExecStart=/bin/true\n', 0o644) }, paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['unit update', 'unit daemon-reload', 'running restart', 'healthy wait-healthy']);
  });

  it('a stopped service is started, not restarted', () => {
    const o = converged(desired(), { runtime: stopped, health: { kind: 'unhealthy', detail: 'ECONNREFUSED' } });
    expect(summary(desired(), o)).toEqual(['running start', 'healthy wait-healthy']);
  });

  it('a disabled unit with autostart is enabled and nothing else', () => {
    expect(summary(desired(), converged(desired(), { runtime: { ...running, enabled: false } }))).toEqual(['unit enable']);
    expect(summary(desired({ autostart: false }), converged(desired({ autostart: false }), { runtime: { ...running, enabled: true } }))).toEqual(['unit disable']);
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

  it('a file created under a running LiveKit restarts it in the same plan (it started before the file existed)', () => {
    // The property test's case (seed 20261203, case 41): config missing, unit disabled, LiveKit running.
    const missingConfig = planLiveKit(desired(), converged(desired(), { config: absent, runtime: { ...running, enabled: false } }), paths, ctx);
    expect(missingConfig.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['config create', 'unit enable', 'running restart', 'healthy wait-healthy']);
    expect(missingConfig.steps[2]?.reason).toBe('pid 4242 must restart to use the new setup: config created');
    expect(summary(desired(), converged(desired(), { keyFile: absent }))).toEqual(['config create', 'running restart', 'healthy wait-healthy']);
    expect(summary(desired(), converged(desired(), { definition: absent }))).toEqual(['unit create', 'unit daemon-reload', 'running restart', 'healthy wait-healthy']);
    // Stopped: the start reads the new files; nothing to restart.
    expect(summary(desired(), converged(desired(), { config: absent, runtime: stopped, health: { kind: 'unhealthy', detail: 'ECONNREFUSED' } }))).toEqual(['config create', 'running start', 'healthy wait-healthy']);
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
    const p = planLiveKit(desired(), { ...fresh, supervisor: { kind: 'unavailable', wanted: 'systemd', why: 'systemctl --user does not answer (Failed to connect to bus)' }, runtime: undefined }, paths, ctx);
    expect(p.blockers[0]).toContain('Failed to connect to bus');
    expect(p.steps.some((s) => s.resource === 'running')).toBe(false);
  });

  it('install.path that does not exist is a blocker, never an install', () => {
    const d = desired({ install: { method: 'path', path: '/opt/lk/livekit-server' } });
    const p = planLiveKit(d, { ...fresh, binary: { kind: 'absent', path: '/opt/lk/livekit-server' } }, paths, ctx);
    expect(p.blockers[0]).toContain('install.path /opt/lk/livekit-server does not exist');
    expect(p.steps.some((s) => s.action === 'install')).toBe(false);
  });

  it('the binary deleted and the unit reloaded by hand count as changes to restart for', () => {
    const o = converged(desired(), { runtime: { ...running, loaded: false, loadDetail: 'systemd has an older copy of the unit file' } });
    expect(summary(desired(), o)).toEqual(['unit daemon-reload', 'running restart', 'healthy wait-healthy']);
  });
});

describe('planning LiveKit through its lifecycle', () => {
  it('state: stopped stops a running LiveKit and waits for nothing', () => {
    const d = desired({ state: 'stopped', autostart: false });
    expect(summary(d, converged(d))).toEqual(['running stop']);
    expect(summary(d, converged(d, { runtime: { ...stopped, enabled: false } }))).toEqual([]);
  });

  it('state: stopped on a fresh machine installs and configures, but starts nothing', () => {
    const d = desired({ state: 'stopped', autostart: false });
    expect(summary(d, fresh)).toEqual(['binary install', 'config create', 'config create', 'unit create', 'unit create', 'unit daemon-reload']);
  });

  it('state: absent stops, disables and removes what vm installed, and keeps the logs', () => {
    const d = desired({ state: 'absent' });
    const p = planLiveKit(d, converged(d), paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual([
      'running stop',
      'unit disable',
      'unit remove',
      'unit daemon-reload',
      'config remove',
      'config remove',
      'binary remove',
      'binary remove',
    ]);
    expect(p.notes.join('\n')).toContain('logs are kept');
  });

  it('state: absent with remove_data also removes the logs', () => {
    const d = desired({ state: 'absent', removeData: true });
    expect(summary(d, converged(d)).at(-1)).toBe('data remove');
  });

  it('state: absent on a machine without LiveKit plans nothing', () => {
    const d = desired({ state: 'absent' });
    expect(summary(d, { ...fresh, runtime: { ...fresh.runtime!, loaded: true } })).toEqual([]);
  });

  it('state: absent never removes an install.path binary, and says so', () => {
    const d = desired({ state: 'absent', install: { method: 'path', path: '/opt/lk/livekit-server' } });
    const p = planLiveKit(d, converged(d, { binary: { kind: 'present', path: '/opt/lk/livekit-server', version: '1.9.0', mtimeMs: 0 } }), paths, ctx);
    expect(p.steps.some((s) => s.resource === 'binary')).toBe(false);
    expect(p.notes.join('\n')).toContain('/opt/lk/livekit-server is not vm');
  });

  it('version: latest resolves to what the release server redirects to, and shows it', () => {
    const d = desired({ version: 'latest' });
    const p = planLiveKit(d, converged(d, { latest: { ok: true, version: '1.9.1' } }), paths, ctx);
    expect(p.steps[0]?.reason).toContain('version 1.9.0 → 1.9.1 (latest)');
    expect(planLiveKit(d, converged(d, { latest: { ok: true, version: '1.9.0' } }), paths, ctx).steps).toEqual([]);
    expect(planLiveKit(d, converged(d, { latest: { ok: false, why: 'GET …/latest: ENOTFOUND' } }), paths, ctx).blockers[0]).toContain('ENOTFOUND');
  });

  it('an offline archive installs from the file, not the network', () => {
    const d = desired({ install: { method: 'release', baseUrl: 'https://x', archive: '/media/livekit_1.9.0_linux_amd64.tar.gz' } });
    const step = planLiveKit(d, fresh, paths, ctx).steps[0];
    expect(step?.effect).toMatchObject({ kind: 'install-release', archive: '/media/livekit_1.9.0_linux_amd64.tar.gz' });
    expect(step?.reason).toContain('(offline)');
  });

  it('a pinned version Homebrew cannot give is a plan-time error', () => {
    const d = desired({ install: { method: 'brew' } });
    const p = planLiveKit(d, { ...fresh, brewVersion: { ok: true, version: '1.9.4' } }, paths, ctx);
    expect(p.blockers[0]).toContain('version 1.9.0 is declared, but Homebrew offers livekit 1.9.4');
  });

  it('the process supervisor has no unit and cannot autostart: the plan says so instead of pretending', () => {
    const o: LiveKitObserved = { ...fresh, supervisor: { kind: 'process', why: 'auto: no systemd user manager' }, runtime: { ...stopped, enabled: undefined, state: 'no pid file' } };
    const p = planLiveKit(desired(), o, paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['binary install', 'config create', 'config create', 'unit create', 'running start', 'healthy wait-healthy']);
    expect(p.warnings.join('\n')).toContain('cannot start LiveKit at login');
  });

  it('lingering off under systemd is a warning with the command that fixes it', () => {
    expect(planLiveKit(desired(), converged(desired(), { lingering: false }), paths, ctx).warnings.join('\n')).toContain('loginctl enable-linger $USER');
  });
});

describe('rolling back a failed change', () => {
  const snap = (d: LiveKitDesired, o: LiveKitObserved) => ({ name: 'livekit', desired: d, paths, observed: o, plan: planLiveKit(d, o, paths, ctx) });

  it('puts back the previous config and binary, restarts, and waits for health again', () => {
    const before = converged();
    const s = snap(desired({ version: '1.9.1', rtc: { ...desired().rtc, portRangeEnd: 60100 } }), before);
    const effects = rollbackEffects(s, s.plan.steps);
    expect(effects.map((e) => e.kind + (e.kind === 'supervise' ? `:${e.verb}` : ''))).toEqual(['switch-link', 'write-file', 'supervise:restart', 'wait-healthy']);
    expect(effects[0]).toMatchObject({ kind: 'switch-link', target: `${paths.versionsDir}/1.9.0/livekit-server` });
    expect(effects[1]).toMatchObject({ kind: 'write-file', path: paths.config, content: before.config.exists ? before.config.content : '' });
  });

  it('waits for health where the restored config listens, not where the failed one did', () => {
    const s = snap(desired({ port: 9999 }), converged());
    const wait = rollbackEffects(s, s.plan.steps).find((e) => e.kind === 'wait-healthy');
    expect(wait).toMatchObject({ url: 'http://127.0.0.1:7880/' });
  });

  it('a first install has nothing to roll back to', () => {
    const s = snap(desired(), fresh);
    expect(rollbackEffects(s, s.plan.steps)).toEqual([]);
  });

  it('a new unit file is put back and reloaded before the restart', () => {
    const before = converged(desired(), { definition: file('# old unit\n', 0o644) });
    const s = snap(desired(), before);
    const kinds = rollbackEffects(s, s.plan.steps).map((e) => e.kind + (e.kind === 'supervise' ? `:${e.verb}` : ''));
    expect(kinds).toEqual(['write-file', 'supervise:reload', 'supervise:restart', 'wait-healthy']);
  });
});

describe('a change that failed and was rolled back', () => {
  type Failed = { failed?: FailureRecord };
  const roots = { home: '/home/u', voicemodeHome: '/home/u/.voicemode', xdgConfigHome: '/home/u/.config' };
  const planOf = (d: LiveKitDesired, o: LiveKitObserved & Failed) => {
    const { failed, ...observed } = o;
    const r = plan({ source: { kind: 'default' }, supervisor: 'auto', services: { livekit: d } }, { services: [{ name: 'livekit', desired: d, paths, observed, failed }], leftovers: [], clients: { written: { salt: undefined, files: {} }, files: {} } }, ctx, roots);
    const s = r.services[0];
    return { ...r.plan, attempt: s?.attempt };
  };
  const AT = new Date(2026, 11, 3, 14, 2, 11).toISOString(); // 14:02:11 local time
  /** What apply records when the plan for `d` fails its health check and is rolled back. */
  const recordOf = (d: LiveKitDesired, o: LiveKitObserved) => {
    const a = planOf(d, o).attempt;
    if (a === undefined) throw new Error('no change planned');
    return { service: a.service, change: a.change, failedStep: 'healthy wait-healthy', at: AT, salt: a.salt, digest: a.digest };
  };

  it('the plan says so while the file asks for the same thing, and still plans the change', () => {
    const failed = recordOf(desired({ version: '1.9.2' }), converged());
    const p = planOf(desired({ version: '1.9.2' }), ({ ...converged(), failed }));
    expect(p.notes).toContain('1.9.2 failed its health check at 2026-12-03 14:02:11 and was rolled back; `vm apply` will try again');
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['binary install', 'running restart', 'healthy wait-healthy']);
    expect(p.attempt?.failedBefore).toEqual(failed);
  });

  it('any other desired state is a new change: no note, nothing held back', () => {
    const failed = recordOf(desired({ version: '1.9.2' }), converged());
    const edited = planOf(desired({ version: '1.9.2', room: { autoCreate: true, emptyTimeout: 60 } }), ({ ...converged(), failed }));
    expect(edited.attempt?.failedBefore).toBeUndefined();
    expect(edited.notes.join('\n')).not.toContain('failed');
    const otherSecret = planOf(desired({ version: '1.9.2', keys: { kind: 'declared', entries: { devkey: `${SECRET}-2` } } }), ({ ...converged(), failed }));
    expect(otherSecret.attempt?.failedBefore).toBeUndefined();
  });

  it('a failed config change is named by its steps; the record holds no secret', () => {
    const d = desired({ rtc: { ...desired().rtc, tcpPort: 7999 } });
    const failed = recordOf(d, converged());
    expect(JSON.stringify(failed)).not.toContain(SECRET);
    expect(planOf(d, ({ ...converged(), failed })).notes).toContain('the change (config update, running restart) failed its health check at 2026-12-03 14:02:11 and was rolled back; `vm apply` will try again');
  });

  it('a converged machine has no change to name', () => {
    expect(planOf(desired(), converged()).attempt).toBeUndefined();
  });
});

describe('never losing what a person wrote', () => {
  it('a hand edit of a file vm wrote is kept as a backup before the rewrite, and the plan says so', () => {
    const d = desired();
    const edited = converged(d, { config: file(`${renderConfig(d, paths)}# my note\n`) });
    const step = planLiveKit(d, edited, paths, ctx).steps[0];
    expect(step?.reason).toContain('edited by hand: the current file is kept as livekit.yaml.vm-backup-');
    expect(step?.effect).toMatchObject({ kind: 'write-file', backup: true, record: { salt: 'salt', digest: digest(renderConfig(d, paths)) } });
  });

  it('a file vm wrote and nobody touched is overwritten without a backup', () => {
    const before = desired();
    const after = desired({ port: 7890 });
    const step = planLiveKit(after, converged(before), paths, ctx).steps.find((s) => s.resource === 'config');
    expect(step?.effect).not.toHaveProperty('backup');
  });

  it('a file at a managed path that vm never wrote is not overwritten without --force', () => {
    const foreign = { ...fresh, config: file('port: 7880\n# my own LiveKit config\n') };
    const p = planLiveKit(desired(), foreign, paths, ctx);
    expect(p.blockers.join('\n')).toContain(`${paths.config} exists and was not written by vm`);
    expect(p.steps.some((s) => s.effect.kind === 'write-file' && s.effect.path === paths.config)).toBe(false);
    const forced = planLiveKit(desired(), foreign, paths, { ...ctx, force: true });
    expect(forced.blockers).toEqual([]);
    const step = forced.steps.find((s) => s.effect.kind === 'write-file' && s.effect.path === paths.config);
    expect(step?.reason).toContain('not written by vm (--force): the current file is kept as livekit.yaml.vm-backup-');
    expect(step?.effect).toMatchObject({ backup: true });
  });

  it('a changed secret shows salted fingerprints, never the secret', () => {
    const d = desired({ keys: { kind: 'declared', entries: { devkey: `${SECRET}-new` } } });
    const reason = planLiveKit(d, converged(desired()), paths, ctx).steps[0]?.reason ?? '';
    const fp = (s: string) => ctx.hmac('salt', `secret:${s}`).slice(0, 8);
    expect(reason).toContain(`keys.devkey: (sensitive) changed, fingerprint ${fp(SECRET)} → ${fp(`${SECRET}-new`)}`);
    expect(reason).not.toContain(SECRET);
  });

  it('a foreign process on the port blocks the plan, named with its pid', () => {
    const o = converged(desired(), { runtime: stopped, health: { kind: 'unhealthy', detail: 'GET / answered 404' }, portHolder: { pid: 777, command: 'python3 -m http.server 7880' } });
    const p = planLiveKit(desired(), o, paths, ctx);
    expect(p.blockers).toEqual(["port 7880 is in use by pid 777 (python3 -m http.server 7880), not by vm's LiveKit: LiveKit cannot listen there; stop that process or choose another port"]);
    expect(p.steps.some((s) => s.action === 'start')).toBe(false);
  });

  it('another LiveKit answering OK on the port is not health: the plan is blocked, naming its pid', () => {
    // What observe sees when an old Voice Mode LiveKit holds the port and vm's has exited.
    const other = { pid: 919, command: 'livekit-server --config /home/u/.voicemode/old.yaml' };
    const o = converged(desired(), { runtime: { ...stopped, state: 'stale pid file (pid 4242 is gone)' }, health: { kind: 'foreign', ...other }, portHolder: other });
    const p = planLiveKit(desired(), o, paths, ctx);
    expect(p.blockers).toEqual([`port 7880 is in use by pid 919 (${other.command}), not by vm's LiveKit: LiveKit cannot listen there; stop that process or choose another port`]);
    expect(p.steps.some((s) => s.resource === 'running' || s.resource === 'healthy')).toBe(false);
  });

  it('a foreign answer blocks even while vm thinks its own LiveKit runs', () => {
    const o = converged(desired(), { health: { kind: 'foreign', pid: 919, command: 'livekit-server' } });
    expect(planLiveKit(desired(), o, paths, ctx).blockers).toEqual(["port 7880 is in use by pid 919 (livekit-server), not by vm's LiveKit: LiveKit cannot listen there; stop that process or choose another port"]);
  });

  it('a foreign holder of rtc.tcp_port blocks the start', () => {
    const o = converged(desired(), { runtime: stopped, health: { kind: 'unhealthy', detail: 'connection refused' }, rtcPortHolder: { pid: 555, command: 'nc -l 7881' } });
    const p = planLiveKit(desired(), o, paths, ctx);
    expect(p.blockers).toEqual(["rtc.tcp_port 7881 is in use by pid 555 (nc -l 7881), not by vm's LiveKit: LiveKit cannot listen there; stop that process or choose another rtc.tcp_port"]);
    expect(p.steps.some((s) => s.action === 'start')).toBe(false);
  });

  it('LiveKit itself on its port is not a foreign holder', () => {
    const o = converged(desired(), { health: { kind: 'starting', status: 406 }, portHolder: { pid: 4242, command: 'livekit-server --config x' } });
    expect(planLiveKit(desired(), o, paths, ctx).blockers).toEqual([]);
  });
});

describe('bind addresses this machine does not have', () => {
  const local = ['127.0.0.1/8', '::1', '192.168.1.20', 'fe80::1'];
  const stoppedO = (d: LiveKitDesired) => converged(d, { runtime: stopped, health: { kind: 'unhealthy', detail: 'connection refused' }, localAddresses: local });

  it('block a start, naming the address and what the machine has', () => {
    const d = desired({ bindAddresses: ['127.0.0.1', '192.0.2.1'] });
    const p = planLiveKit(d, stoppedO(d), paths, ctx);
    expect(p.blockers).toEqual(['bind_addresses: 192.0.2.1 is not an address of this machine (its interfaces have 127.0.0.1, ::1, 192.168.1.20, fe80::1): LiveKit cannot listen there; use one of those, or 0.0.0.0 for every interface']);
  });

  it('accept every interface, any loopback address Linux routes locally, and another spelling of an address', () => {
    for (const bindAddresses of [['0.0.0.0'], ['::'], ['127.0.0.77'], ['0:0::1'], ['192.168.1.20', '::1']]) {
      const d = desired({ bindAddresses });
      expect(planLiveKit(d, stoppedO(d), paths, ctx).blockers, bindAddresses.join()).toEqual([]);
    }
  });

  it('only warn when LiveKit already runs and nothing restarts it', () => {
    const d = desired({ bindAddresses: ['192.0.2.1'] });
    const p = planLiveKit(d, converged(d, { localAddresses: local }), paths, ctx);
    expect(p.steps).toEqual([]);
    expect(p.blockers).toEqual([]);
    expect(p.warnings.some((w) => w.includes('bind_addresses: 192.0.2.1 is not an address of this machine') && w.includes('would not start again'))).toBe(true);
  });
});

describe('the log directory', () => {
  it('removed under a running LiveKit is recreated and LiveKit restarted, so it logs again', () => {
    const p = planLiveKit(desired(), converged(desired(), { logDirMode: undefined, logDirExists: false }), paths, ctx);
    expect(p.steps.map((s) => `${s.resource} ${s.action}`)).toEqual(['unit create', 'running restart', 'healthy wait-healthy']);
    expect(p.steps[1]?.reason).toContain('log directory was removed');
  });
});
