// LiveKit's planner: (desired, observed) → ordered steps. Pure: no I/O, no clock; randomness (a
// fresh secret) is injected.
//
// Order: binary → config → unit → running → healthy. A binary, config, key file or unit created or
// changed under a running process plans exactly one restart; a stopped service plans a start instead. Every start or restart is
// followed by a wait for health, because livekit-server exits 0 on a config error and only
// `GET /` → 200 OK says it works. `state: absent` is planned in plan-absent.ts.

import type { Effect, ResourceKind, StepAction } from '../../model.js';
import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';
import type { PlanContext } from '../../plan/context.js';
import { describeYamlChange } from '../../plan/describe-change.js';
import { inCidr, ipBytes, isWildcard, sameIp } from '../../ip.js';
import { basename } from 'node:path';
import { fileProblem, octal, planWrite, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, type ManagedFile, type Ownership } from '../../resources/managed-file.js';
import { unbindable } from '../../resources/listening.js';
import { planSupervised, planSupervisor } from '../../resources/supervised.js';
import { GENERATED_API_KEY } from './defaults.js';
import { exposureWarnings } from './exposure-rules.js';
import type { ServicePlan } from '../contract.js';
import { describeKeyChanges, MIN_SECRET_LENGTH, readKeyFile, resolveKeys } from './keys.js';
import { planAbsent } from './plan-absent.js';
import { planBinary } from './plan-binary.js';
import { planServe, tailnetAddress, tailnetWarnings } from './expose.js';
import { bindAddressesWith, healthWait, redactConfigText, redactedConfig, redactKeyFile, renderConfig, renderKeyFile } from './render.js';
import { renderDefinition, serviceSpec } from './supervision.js';

export function planLiveKit(d: LiveKitDesired, o: LiveKitObserved, paths: LiveKitPaths, ctx: PlanContext): ServicePlan {
  // Exposure a file allowed with allow_insecure: every plan says so (spec/exposure.ts).
  const out: ServicePlan = { steps: [], blockers: [], warnings: exposureWarnings(d), notes: [] };
  // brew's binary path is what observe found from `brew --prefix`.
  const { kind, svc } = planSupervisor(out, 'LiveKit', d.state, o, (k) => serviceSpec(d, paths, k, d.install.method === 'brew' ? o.binary.path : paths.binary));

  // The tailnet (expose): not there → loopback-only config and one warning saying why.
  out.warnings.push(...tailnetWarnings(d, o.tailnet));
  const serve = planServe(d, o, paths);
  out.warnings.push(...serve.warnings);

  if (d.state === 'absent') {
    const a = planAbsent(d, o, paths, svc);
    // The endpoint vm made goes first: it would forward to a LiveKit that is gone.
    return { ...out, steps: [...serve.steps, ...a.steps], notes: [...out.notes, ...a.notes] };
  }
  const add = (resource: ResourceKind, action: StepAction, reason: string, effect: Effect): void => {
    out.steps.push({ service: d.name, resource, action, reason, effect });
  };
  /** Why the running process no longer matches what is on disk. */
  const restartBecause: string[] = [];
  const salt = o.written.salt ?? ctx.freshSalt();
  const own: Ownership = { written: o.written, salt, stateFile: paths.writtenRecord, hmac: ctx.hmac, force: ctx.force };
  // A short salted fingerprint shows that a secret changed without showing it.
  const fingerprint = (secret: string) => ctx.hmac(salt, `secret:${secret}`).slice(0, 8);
  const managed = (resource: ResourceKind, why: string, f: ManagedFile): void => planWrite(out, d.name, resource, why, f, own);

  // 1. binary
  const bin = planBinary(d, o, paths);
  out.blockers.push(...bin.blockers);
  out.warnings.push(...bin.warnings);
  if (bin.step !== undefined) add('binary', 'install', bin.step.reason, bin.step.effect);
  if (bin.restartBecause !== undefined) restartBecause.push(bin.restartBecause);

  // 2. config and key file
  const keys = resolveKeys(d.keys, o.keyFile, ctx.freshSecret);
  for (const [k, v] of Object.entries(keys.entries)) {
    if (v.length < MIN_SECRET_LENGTH) out.warnings.push(`keys.${k}: secret is shorter than ${MIN_SECRET_LENGTH} characters; LiveKit will log that it is too short`);
  }
  // The tailnet address is an observation: a changed address or state is a changed config
  // (one restart), an unchanged one renders the same text (nothing to do).
  const tailnet = tailnetAddress(d, o.tailnet);
  const config = renderConfig(d, paths, tailnet);
  // The Redis password is in this file: diffs and reasons compare the redacted texts (a changed
  // password shows as the file changing, never as its value).
  const shownConfig = redactedConfig(d, paths, tailnet);
  const configWhy = fileProblem(o.config, config, PRIVATE_FILE_MODE, (before) => {
    const b = redactConfigText(before);
    return `config changed: ${b === shownConfig ? 'redis.password: (sensitive) changed' : describeYamlChange(b, shownConfig)}`;
  });
  if (configWhy !== undefined) {
    const shown = { before: o.config.exists ? redactConfigText(o.config.content) : undefined, after: shownConfig };
    managed('config', configWhy, { path: paths.config, observed: o.config, content: config, mode: PRIVATE_FILE_MODE, dirMode: PRIVATE_DIR_MODE, shown });
    // Created or changed, a file the running process uses is newer than it: restart (a created
    // one too, or the next look finds "config written after pid N started").
    restartBecause.push(o.config.exists ? 'config changed' : 'config created');
  }
  const keyFile = renderKeyFile(keys.entries);
  let keyWhy = fileProblem(o.keyFile, keyFile, PRIVATE_FILE_MODE, () => describeKeyChanges(readKeyFile(o.keyFile), keys.entries, fingerprint).join(', ') || 'edited by hand (comments or formatting)');
  if (keyWhy === undefined && o.keyDirMode !== undefined && o.keyDirMode !== PRIVATE_DIR_MODE) {
    keyWhy = `directory mode ${octal(o.keyDirMode)} → ${octal(PRIVATE_DIR_MODE)}`;
  }
  if (d.keys.kind === 'declared' && !(GENERATED_API_KEY in d.keys.entries) && readKeyFile(o.keyFile)?.[GENERATED_API_KEY] !== undefined) {
    // Declaring keys replaces the generated one; whatever was given its secret stops working.
    out.warnings.push(`the generated key ${GENERATED_API_KEY} goes away: clients using it will be refused; give them one of the declared keys, or declare ${GENERATED_API_KEY} too to keep it`);
  }
  if (keyWhy !== undefined) {
    if (keys.generated === 'new') keyWhy += `; generating a new secret for ${Object.keys(keys.entries).join(', ')}`;
    const before = readKeyFile(o.keyFile);
    const shown = { before: before === undefined ? undefined : redactKeyFile(before), after: redactKeyFile(keys.entries) };
    managed('config', keyWhy, { path: paths.keyFile, observed: o.keyFile, content: keyFile, mode: PRIVATE_FILE_MODE, dirMode: PRIVATE_DIR_MODE, shown });
    restartBecause.push(o.keyFile.exists ? 'key file changed' : 'key file created');
  }
  if (kind === undefined || svc === undefined || o.runtime === undefined) return { ...out, steps: [...out.steps, ...serve.steps] }; // the blocker says why

  // 3. unit, 4. running, 5. healthy: as for every supervised service
  planSupervised(
    out,
    {
      service: d.name,
      title: 'LiveKit',
      state: d.state,
      autostart: d.autostart,
      port: d.port,
      kind,
      svc,
      definition: renderDefinition(kind, svc, ctx.template('livekit.service')),
      observed: { runtime: o.runtime, definition: o.definition, logDirMode: o.logDirMode, health: o.health },
      logDir: paths.logDir,
      health: healthWait(d),
      restartBecause,
      uses: [
        ['binary', o.binary.kind === 'present' ? o.binary.mtimeMs : undefined],
        ['config', o.config.exists ? o.config.mtimeMs : undefined],
        ['key file', o.keyFile.exists ? o.keyFile.mtimeMs : undefined],
        ['unit', o.definition.exists ? o.definition.mtimeMs : undefined],
      ],
      taken: [
        { holder: o.portHolder ?? (o.health.kind === 'foreign' ? o.health : undefined), what: `port ${d.port}`, fix: 'another port' },
        { holder: o.rtcPortHolder, what: `rtc.tcp_port ${d.rtc.tcpPort}`, fix: 'another rtc.tcp_port' },
      ],
      unbindable: unbindable('LiveKit', bindAddressesWith(d, tailnet), o.localAddresses),
    },
    own,
  );
  // Multi-node: LiveKit would exit at start ("unable to connect to redis"). Nothing changes
  // before the Redis answers: a blocker names the address and the reason.
  const starts = out.steps.some((s) => s.resource === 'running' && (s.action === 'start' || s.action === 'restart'));
  if (starts && d.redis !== undefined && o.redis?.ok === false) {
    out.blockers.push(`LiveKit's Redis at ${d.redis.address} does not answer: ${o.redis.error}; LiveKit would not start. Start that Redis (or fix redis.address/password), then run vm again`);
  }
  // After LiveKit's own steps: the endpoint forwards to a LiveKit that is up.
  out.steps.push(...serve.steps);
  return out;
}
