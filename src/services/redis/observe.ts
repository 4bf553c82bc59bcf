// Observes a `redis` service. Never changes anything; everything absent is a value. One round of
// concurrent probes, like the other kinds (resources/supervised-observe.ts); health is PING → PONG
// (with AUTH).

import type { RedisDesired, RedisObserved } from './model.js';
import type { Facts } from '../../facts/facts.js';
import type { Host } from '../../platform/host.js';
import { observeRedisHealth } from '../../resources/redis-ping.js';
import { observeSupervised } from '../../resources/supervised-observe.js';
import { redisAddress, redisServiceSpec, type RedisPaths } from './spec.js';

export function observeRedis(host: Host, d: RedisDesired, paths: RedisPaths, facts: Facts): Promise<RedisObserved> {
  return observeSupervised(host, facts, d, paths, {
    kind: 'redis',
    spec: (kind) => redisServiceSpec(d, paths, kind),
    health: () => observeRedisHealth(host, { address: redisAddress(d), password: d.password }),
    own: async () => {
      const [config, dataDir] = await Promise.all([host.readFile(paths.config), host.stat(paths.dataDir)]);
      return { config, dataDirMode: dataDir?.mode };
    },
  });
}
