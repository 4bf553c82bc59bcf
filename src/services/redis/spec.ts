// What vm writes and runs for a `redis` service: its paths, its config file (0600: it holds
// requirepass) and the ServiceSpec every supervisor runs (`redis-server CONFIG`; the password is
// never on the command line or in the unit). Pure.

import { join } from 'node:path';
import type { HealthCheck, Roots, ServiceName, ServicePaths, ServiceSpec, SupervisorKind } from '../../model.js';
import type { RedisDesired } from './model.js';
import { servicePaths } from '../../paths.js';
import type { SupervisedInput } from '../../resources/supervised.js';

export interface RedisPaths extends ServicePaths {
  /** $VOICEMODE_HOME/services/NAME/redis.conf */
  readonly config: string;
  /** $VOICEMODE_HOME/services/NAME/data: Redis's `dir` (its dump file). Removed only with remove_data. */
  readonly dataDir: string;
}

export function redisPaths(roots: Roots, name: ServiceName): RedisPaths {
  const base = servicePaths(roots, name);
  return { ...base, config: join(base.dir, 'redis.conf'), dataDir: join(base.dir, 'data') };
}

const MANAGED = '# Managed by vm (Voice Mode). `vm apply` rewrites this file: change voicemode.services.yaml instead. Keep it private (0600).\n';

/** redis.conf; `password` replaces the real one in what the plan shows. */
export function renderRedisConfig(d: RedisDesired, paths: RedisPaths, password = d.password): string {
  const lines = [
    `bind ${d.bindAddresses.join(' ')}`,
    `port ${d.port}`,
    // Redis refuses outside connections without a password anyway; with one it needs this off.
    `protected-mode ${d.password === undefined ? 'yes' : 'no'}`,
    // The supervisor keeps it running: it must stay in the foreground.
    'daemonize no',
    `dir ${quote(paths.dataDir)}`,
    'logfile ""',
    ...(password === undefined ? [] : [`requirepass ${quote(password)}`]),
  ];
  return `${MANAGED}${lines.join('\n')}\n`;
}

/** Redis's config quoting: double quotes, with \\ and " escaped. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function redisServiceSpec(d: RedisDesired, paths: RedisPaths, kind: SupervisorKind): ServiceSpec {
  return {
    name: d.name,
    title: d.name,
    label: kind === 'systemd' ? paths.unitName : paths.launchdLabel,
    binary: d.program,
    args: [paths.config],
    logFile: paths.logFile,
    definitionFile: kind === 'systemd' ? paths.unitFile : kind === 'launchd' ? paths.plistFile : undefined,
    pidFile: paths.pidFile,
    autostart: d.autostart,
    workingDir: paths.dataDir,
  };
}

/** PING → PONG; LOADING while it loads its data. */
export const REDIS_HEALTH: HealthCheck = { protocol: 'resp' };

/** The wait for health after a start or restart (PING, with its password): the plan's, and `vm restart`'s. */
export function redisHealthWait(d: RedisDesired): SupervisedInput['health'] {
  const address = redisAddress(d);
  return { url: `redis://${address}`, check: REDIS_HEALTH, timeoutMs: d.health.timeoutMs, resp: { address, password: d.password } };
}

/** Where vm PINGs it: loopback when it listens there, else its first address. */
export function redisAddress(d: Pick<RedisDesired, 'port' | 'bindAddresses'>): string {
  const addrs = d.bindAddresses;
  const loop = addrs.length === 0 || addrs.some((a) => a === '0.0.0.0' || a === '::' || a.startsWith('127.'));
  const host = loop ? '127.0.0.1' : addrs.includes('::1') ? '[::1]' : (addrs[0] ?? '127.0.0.1').includes(':') ? `[${addrs[0] ?? ''}]` : (addrs[0] ?? '127.0.0.1');
  return `${host}:${d.port}`;
}
