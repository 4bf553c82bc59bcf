// `services.redis` as written → desired state. Pure; `~` expanded; the password as load.ts
// resolved it (text, { env } or { file }).

import type { ServiceName, ServiceState } from '../../model.js';
import type { RedisDesired } from './model.js';
import type { NormaliseTools } from '../command/normalise.js';

export interface WrittenRedis {
  readonly kind?: 'redis';
  readonly state?: ServiceState;
  readonly autostart?: boolean;
  readonly remove_data?: boolean;
  readonly port?: number;
  readonly bind_addresses?: readonly string[];
  readonly password?: unknown;
  readonly health?: { readonly timeout?: number | string };
  readonly logging?: { readonly max_size?: number | string };
  readonly install?: { readonly method?: 'path'; readonly path?: string };
}

export const REDIS_PORT = 6379;
const LOG_MAX_BYTES = 10 * 1024 * 1024;

/** `password`: the resolved secret, or undefined when the file gives none. */
export function normaliseRedis(name: ServiceName, w: WrittenRedis, t: NormaliseTools, password: string | undefined): RedisDesired {
  const state = w.state ?? 'running';
  return {
    name,
    kind: 'redis',
    state,
    autostart: w.autostart ?? state === 'running',
    removeData: w.remove_data ?? false,
    port: w.port ?? REDIS_PORT,
    bindAddresses: [...(w.bind_addresses ?? ['127.0.0.1'])],
    logging: { maxBytes: t.parseSize(w.logging?.max_size) ?? LOG_MAX_BYTES },
    health: { timeoutMs: t.parseDuration(w.health?.timeout) ?? 30_000 },
    program: t.expandHome(w.install?.path ?? '/usr/bin/redis-server'),
    password: typeof w.password === 'string' ? w.password : password,
  };
}
