// What the user wrote (validated) → DesiredState: defaults filled, durations in ms, `~` expanded,
// secrets resolved (load.ts reads `{ env }` and `{ file }` secrets and passes them in).
// Pure. It trusts its input: load.ts only calls it when the schema and the rules found nothing.

import { join } from 'node:path';
import type { ClientsDesired, DesiredState, KindName, LogLevel, SecretResult, ServiceDesired, ServiceState, SpecSource, SupervisorKind } from '../model.js';
import type { WrittenHttp } from '../services/command/normalise.js';
import type { NormaliseContext } from '../services/contract.js';
import type { WrittenRedis } from '../services/redis/normalise.js';
import { kindNamed, PRESET_NAMES } from '../services/registry.js';
import { escapePointer } from './messages.js';
import { DEFAULTS } from './default.js';

/** tailscale serve's port for `expose.https` when the file names none. */
export const DEFAULT_HTTPS_PORT = 7443;

export type Env = Readonly<Record<string, string | undefined>>;

/** The file as written: snake_case, everything optional but `version`. Matches the schema. */
export interface WrittenSpec {
  readonly version: 1;
  readonly supervisor?: 'auto' | SupervisorKind;
  /**
   * By name: `livekit` is LiveKit; every other service is a supervised HTTP service.
   * `services:` with nothing after it is YAML null: no services, like `services: {}`.
   */
  readonly services?: Readonly<Record<string, WrittenLiveKit | WrittenHttp | WrittenRedis>> | null;
  readonly clients?: { readonly env_file?: string; readonly lk_project?: string };
}

export interface WrittenLiveKit {
  readonly kind?: 'livekit';
  readonly state?: ServiceState;
  readonly autostart?: boolean;
  readonly remove_data?: boolean;
  /** Required by the schema unless the binary is not vm's to pin or the state is absent. */
  readonly version?: string;
  readonly install?: {
    readonly method?: 'auto' | 'release' | 'brew' | 'script' | 'path';
    readonly path?: string;
    readonly base_url?: string;
    readonly archive?: string;
    readonly script_url?: string;
  };
  readonly port?: number;
  readonly bind_addresses?: readonly string[];
  readonly rtc?: {
    readonly port_range_start?: number;
    readonly port_range_end?: number;
    readonly tcp_port?: number;
    readonly use_external_ip?: boolean;
  };
  /** Key name → the secret, or where to read it. */
  readonly keys?: Readonly<Record<string, WrittenSecret>>;
  readonly room?: { readonly auto_create?: boolean; readonly empty_timeout?: number };
  readonly logging?: { readonly level?: LogLevel; readonly max_size?: number | string };
  readonly health?: { readonly timeout?: number | string };
  /** LiveKit's dev mode (`development: true` in its config); refused off loopback (exposure.ts). */
  readonly dev?: boolean;
  /** Lets a weak secret or dev: true face a network; every plan warns (exposure.ts). */
  readonly allow_insecure?: boolean;
  /** A remote LiveKit for clients when the local one is not healthy (src/ops/connection.ts). */
  readonly fallback?: { readonly url: string; readonly api_key: string; readonly api_secret: WrittenSecret };
  /** Reach LiveKit over Tailscale (src/facts/tailnet.ts). */
  readonly expose?: { readonly tailscale?: boolean; readonly https?: boolean; readonly https_port?: number };
  /** LiveKit's multi-node mode (its redis: block). */
  readonly redis?: { readonly address: string; readonly username?: string; readonly password?: WrittenSecret; readonly db?: number; readonly tls?: boolean };
  readonly region?: string;
}

export type WrittenSecret = string | { readonly env: string } | { readonly file: string };

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `6h`, or a plain number of seconds → milliseconds; undefined if neither. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v * 1000) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(v);
  return m === null ? undefined : Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
}

const SIZE_UNIT: Readonly<Record<string, number>> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** `10MiB`, `512KiB`, or a plain number of bytes → bytes; undefined if neither. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^([0-9]+)(B|KiB|MiB|GiB)?$/.exec(v);
  return m === null ? undefined : Number(m[1]) * (SIZE_UNIT[m[2] ?? ''] ?? NaN);
}

/** The home directory `~/` stands for: HOME, when it is an absolute path. */
export function homeDir(env: Env): string | undefined {
  const home = env['HOME'];
  return home !== undefined && home.startsWith('/') ? home : undefined;
}

export function expandHome(path: string, env: Env): string {
  if (!path.startsWith('~/')) return path;
  const home = homeDir(env);
  // rules.ts reports a `~/` path without HOME; reaching here without one is a bug.
  if (home === undefined) throw new Error(`cannot expand ${path}: HOME is not set`);
  return join(home, path.slice(2));
}

/**
 * `secrets`: key name → secret for every `{ env }`/`{ file }` key, as load.ts resolved them
 * (inline secrets are taken from `w`).
 */
export function normalise(
  w: WrittenSpec,
  source: SpecSource,
  env: Env,
  secrets?: ReadonlyMap<string, string>,
  platform: string = process.platform,
  /** The fallback's `{ env }`/`{ file }` secret as load.ts resolved it (or why it could not). */
  fallbackSecret?: SecretResult,
  /** Other secrets (Redis passwords) by JSON pointer, as load.ts resolved them. */
  byPointer?: ReadonlyMap<string, string>,
): DesiredState {
  const services: Record<string, ServiceDesired> = {};
  for (const [name, ws] of Object.entries(w.services ?? {})) {
    if (ws === null || ws === undefined) continue;
    const ctx: NormaliseContext = {
      env,
      platform,
      expandHome: (p: string) => expandHome(p, env),
      parseDuration,
      parseSize,
      voicemodeHome: voicemodeHomeOf(env),
      secretAt: (pointer) => byPointer?.get(pointer),
      keySecrets: secrets,
      fallbackSecret,
      pointer: `/services/${escapePointer(name)}`,
    };
    // Each kind normalises its own entry (src/services/<kind>/normalise.ts).
    services[name] = kindNamed(serviceKind(name, ws)).normalise(name, ws, ctx);
  }
  const clients = w.clients === undefined || w.clients === null ? undefined : normaliseClients(w.clients, env);
  return { source, supervisor: w.supervisor ?? DEFAULTS.supervisor, services, ...(clients === undefined ? {} : { clients }) };
}

/** `clients:`; lk keeps its projects in ~/.livekit/cli-config.yaml (FACTS.md). */
function normaliseClients(w: NonNullable<WrittenSpec['clients']>, env: Env): ClientsDesired {
  const home = homeDir(env);
  return {
    ...(w.env_file === undefined ? {} : { envFile: expandHome(w.env_file, env) }),
    ...(w.lk_project === undefined || home === undefined ? {} : { lkProject: { name: w.lk_project, configFile: join(home, '.livekit', 'cli-config.yaml') } }),
  };
}

/** `kind:` when written; else the well-known name (livekit, whisper, kokoro) says it. */
export function serviceKind(name: string, ws: { readonly kind?: KindName }): KindName {
  return ws.kind ?? ((PRESET_NAMES as readonly string[]).includes(name) ? (name as KindName) : 'command');
}

function voicemodeHomeOf(env: Env): string {
  const v = env['VOICEMODE_HOME'];
  if (v !== undefined && v !== '') return v;
  const home = homeDir(env);
  return home === undefined ? '/nonexistent/.voicemode' : join(home, '.voicemode');
}
