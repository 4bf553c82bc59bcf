// `services.redis`: a Redis server vm supervises (e.g. the one a home server runs for LiveKit's
// nodes on its tailnet). Not HTTP: its config file (redis.conf, 0600, requirepass) is a managed
// file, and health is PING → PONG (src/resources/redis-ping.ts). The process is supervised like
// every kind (src/resources/supervised.ts).

import type { RedisDesired, RedisObserved } from './model.js';
import type { ServiceKind } from '../contract.js';
import { normaliseRedis, REDIS_PORT, type WrittenRedis } from './normalise.js';
import { observeRedis } from './observe.js';
import { planRedis } from './plan.js';
import { restartAndWait, rollbackSupervised } from '../../resources/supervised.js';
import { redisHealthWait, redisPaths, redisServiceSpec, type RedisPaths } from './spec.js';
import { redisStatus } from './status.js';
import { redisRules } from './rules.js';

export const redisKind: ServiceKind<RedisDesired, RedisObserved, RedisPaths> = {
  kind: 'redis',
  defaultPort: REDIS_PORT,
  rules: redisRules,
  sensitive: ['/password'],
  secrets: (entry, at) => ('password' in entry ? [{ pointer: `${at}/password`, who: 'the password' }] : []),
  normalise: (name, written, ctx) => normaliseRedis(name, written as WrittenRedis, ctx, ctx.secretAt(`${ctx.pointer}/password`)),
  title: (name) => name,
  paths: (roots, name) => redisPaths(roots, name),
  observe: (host, d, paths, facts) => observeRedis(host, d, paths, facts),
  plan: planRedis,
  restartEffects({ desired: d, observed: o, paths }) {
    const sup = o.supervisor;
    if (sup.kind === 'unavailable') return [];
    return restartAndWait(sup.kind, redisServiceSpec(d, paths, sup.kind), redisHealthWait(d));
  },
  rollback(before, touched) {
    // Put back the config and unit as they were, then the process as it was.
    const o = before.observed;
    return rollbackSupervised(o, before.plan.steps, touched, (step) => (step.resource === 'unit' ? o.definition : o.config));
  },
  restores: 'its previous config and unit',
  referencedFiles: (d) => [d.program],
  leftovers: (p) => [p.unitFile, p.plistFile, p.config],
  endpoint: () => undefined,
  status: redisStatus,
};
