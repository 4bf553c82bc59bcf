// LiveKit (livekit-server) behind the service-kind contract.

import type { LiveKitDesired, LiveKitObserved, LiveKitPaths } from './model.js';
import type { ServiceKind } from '../contract.js';
import { livekitClientFragments } from './clients.js';
import { livekitClients } from './connection.js';
import { observeLiveKit, type SlowAnswers, type VersionCache } from './observe.js';
import { normaliseLiveKit } from './normalise.js';
import { livekitPaths } from './paths.js';
import { planLiveKit } from './plan.js';
import { restartAndWait } from '../../resources/supervised.js';
import { clientUrl, healthWait } from './render.js';
import { serviceSpec } from './supervision.js';
import { removeFailedVersions, rollbackEffects } from './rollback.js';
import { livekitStatus } from './status.js';
import { livekitRules, livekitSecrets } from './rules.js';
import { LIVEKIT_DEFAULTS } from './defaults.js';
import { recordVersion } from './version-record.js';
import { versionsToRemove } from './versions.js';

export const livekitKind: ServiceKind<LiveKitDesired, LiveKitObserved, LiveKitPaths> = {
  kind: 'livekit',
  normalise: normaliseLiveKit,
  title: () => 'LiveKit',
  paths: livekitPaths,
  observe(host, d, paths, facts, memo) {
    const versions = memoised(memo, 'versions', (): VersionCache => new Map());
    const slow = memoised(memo, 'slow', (): SlowAnswers => ({}));
    return observeLiveKit(host, d, paths, facts, versions, slow);
  },
  plan: planLiveKit,
  rollback: rollbackEffects,
  restores: 'the previous binary, config and unit',
  // `version: latest` resolves here: a newer release is a new change, not the one that failed.
  resolved: (d, o) => (d.version === 'latest' && o.latest?.ok === true ? { version: o.latest.version } : {}),
  afterRollback: removeFailedVersions,
  versionChange(s) {
    const bin = s.observed.binary;
    for (const step of s.plan.steps) {
      const e = step.effect;
      if ((e.kind === 'install-release' || e.kind === 'install-script') && bin.kind === 'present' && bin.version !== e.version) {
        return { program: 'livekit-server', from: bin.version, to: e.version, wasRunning: s.observed.runtime?.running === true };
      }
    }
    return undefined;
  },
  referencedFiles(d) {
    const i = d.install;
    return i.method === 'path' ? [i.path] : i.method === 'release' && i.archive !== undefined ? [i.archive] : [];
  },
  leftovers: (p) => [p.config, p.keyFile, p.binary, p.unitFile, p.plistFile],
  async afterConverged(host, before, after, installed) {
    // After a successful upgrade, keep the new version and the one before it (going back is one
    // link switch); older ones go.
    const a = after.observed;
    if (installed && a.binary.kind === 'present') {
      const previous = before.observed.binary.kind === 'present' ? before.observed.binary.version : undefined;
      for (const v of versionsToRemove(a.installedVersions, [a.binary.version, previous])) await host.remove(`${after.paths.versionsDir}/${v}`);
    }
    // Remember the binary's answer so the next plan need not run it.
    await recordVersion(host, after.paths.versionRecord, a.binary);
  },
  defaultPort: LIVEKIT_DEFAULTS.port,
  rules: livekitRules,
  secrets: livekitSecrets,
  sensitive: ['/keys', '/redis/password', '/fallback/api_secret'],
  endpoint: (d) => ({ role: 'livekit', url: clientUrl(d) }),
  wellKnown: {
    port: 7880,
    path: '/',
    role: 'livekit',
    // livekit-server answers `GET /` with `OK` (FACTS.md), and 406 while starting.
    recognise: (r) => r.ok && ((r.status === 200 && r.body.trim() === 'OK') || (r.status === 406 && r.body.startsWith('Not Ready'))),
    clientUrl: (port) => `ws://127.0.0.1:${port}`,
  },
  restartEffects({ desired: d, observed: o, paths }) {
    const sup = o.supervisor;
    if (sup.kind === 'unavailable') return [];
    // The same ServiceSpec and health check the planner builds (plan.ts).
    const svc = serviceSpec(d, paths, sup.kind, d.install.method === 'brew' ? o.binary.path : paths.binary);
    return restartAndWait(sup.kind, svc, healthWait(d));
  },
  status: livekitStatus,
  clientFragments: livekitClientFragments,
  clients: livekitClients,
};

function memoised<T>(memo: Map<string, unknown>, key: string, init: () => T): T {
  let v = memo.get(key) as T | undefined;
  if (v === undefined) memo.set(key, (v = init()));
  return v;
}
