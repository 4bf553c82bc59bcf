// Observes a `redis` service. Never changes anything; everything absent is a value. One round of
// concurrent probes, like the other kinds; health is PING → PONG (with AUTH).

import type { PathPresence, RedisDesired, RedisObserved } from '../../model.js';
import type { Facts } from '../../facts/facts.js';
import type { Host } from '../../platform/host.js';
import { listening, ownersOf } from '../../platform/port-holder.js';
import { foreignOf, localAddresses } from '../../resources/listening.js';
import { parseRecord } from '../../resources/ownership.js';
import { observeRedisHealth } from '../../resources/redis-ping.js';
import { redisAddress, redisServiceSpec, type RedisPaths } from './spec.js';

export async function observeRedis(host: Host, d: RedisDesired, paths: RedisPaths, facts: Facts): Promise<RedisObserved> {
  const [sup, program, config, dataDir, unitFile, logDir, written, health, lingering, listeners] = await Promise.all([
    facts.supervise((kind) => redisServiceSpec(d, paths, kind)),
    presence(host, d.program),
    host.readFile(paths.config),
    host.stat(paths.dataDir),
    host.readFile(paths.unitFile),
    host.stat(paths.logDir),
    host.readFile(paths.writtenRecord).then(parseRecord),
    observeRedisHealth(host, { address: redisAddress(d), password: d.password }),
    facts.lingering(),
    listening(host, [{ port: d.port, addresses: d.bindAddresses }]),
  ]);
  const kind = sup.supervisor.kind === 'unavailable' ? undefined : sup.supervisor.kind;
  const [definition, owners] = await Promise.all([
    kind === 'systemd' ? unitFile : kind === 'launchd' ? host.readFile(paths.plistFile) : ({ exists: false } as const),
    ownersOf(host, listeners, sup.runtime?.running === true ? sup.runtime.pid : undefined),
  ]);
  const holder = foreignOf(owners?.[0]);
  return {
    kind: 'redis',
    supervisor: sup.supervisor,
    ...(lingering === undefined || kind !== 'systemd' ? {} : { lingering }),
    program,
    config,
    dataDirMode: dataDir?.mode,
    definition,
    runtime: sup.runtime,
    logDirMode: logDir?.mode,
    logDirExists: logDir !== undefined,
    written,
    ...(holder === undefined ? {} : { portHolder: holder }),
    localAddresses: localAddresses(host),
    health: holder === undefined ? health : { kind: 'foreign', ...holder },
  };
}

async function presence(host: Host, path: string): Promise<PathPresence> {
  const st = await host.stat(path);
  if (st === undefined) return { exists: false };
  return { exists: true, kind: st.kind, executable: (st.mode & 0o111) !== 0, mtimeMs: st.mtimeMs, size: st.size };
}
