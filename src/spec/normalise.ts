// What the user wrote (validated) → DesiredState: defaults filled, durations in ms, `~` expanded,
// secrets resolved (load.ts reads `{ env }` and `{ file }` secrets and passes them in).
// Pure. It trusts its input: load.ts only calls it when the schema and the rules found nothing.

import { join } from 'node:path';
import type { ClientsDesired, DesiredState, InstallMethod, KeysSpec, KindName, LiveKitDesired, LiveKitExpose, LiveKitFallback, SecretResult, LogLevel, ServiceDesired, ServiceState, SpecSource, SupervisorKind } from '../model.js';
import { normaliseHttp, type WrittenHttp } from '../services/command/normalise.js';
import { normaliseRedis, type WrittenRedis } from '../services/redis/normalise.js';
import { escapePointer } from './messages.js';
import { DEFAULTS, DEFAULT_SCRIPT_URL, GENERATED_API_KEY } from './default.js';
import { clientFallbackUrl } from './rules-fallback.js';

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

function install(w: WrittenLiveKit['install'], env: Env, platform: string): InstallMethod {
  // auto: LiveKit publishes no macOS builds, so Homebrew there; the verified release elsewhere.
  const method = w?.method === undefined || w.method === 'auto' ? (platform === 'darwin' ? 'brew' : 'release') : w.method;
  switch (method) {
    case 'path':
      return { method: 'path', path: expandHome(w?.path ?? '', env) };
    case 'brew':
      return { method: 'brew' };
    case 'script':
      return { method: 'script', scriptUrl: w?.script_url ?? DEFAULT_SCRIPT_URL };
    case 'release':
      return { method: 'release', baseUrl: w?.base_url ?? DEFAULTS.baseUrl, ...(w?.archive === undefined ? {} : { archive: expandHome(w.archive, env) }) };
  }
}

function keys(w: WrittenLiveKit['keys'], secrets: ReadonlyMap<string, string> | undefined): KeysSpec {
  if (w === undefined) return { kind: 'generated', apiKey: GENERATED_API_KEY };
  // A fresh plain object: the written map came from YAML and may hold keys like __proto__ as
  // own properties; Object.fromEntries keeps them as data.
  const entries = Object.entries(w).map(([name, secret]): [string, string] => {
    const value = typeof secret === 'string' ? secret : secrets?.get(name);
    // load.ts resolves every reference before normalising; reaching here without one is a bug.
    if (value === undefined) throw new Error(`the secret of key ${JSON.stringify(name)} was not resolved`);
    return [name, value];
  });
  return { kind: 'declared', entries: Object.fromEntries(entries) };
}

function fallback(w: WrittenLiveKit['fallback'], resolved: SecretResult | undefined): LiveKitFallback | undefined {
  if (w === undefined) return undefined;
  const s = w.api_secret;
  // load.ts resolves a reference; only a direct caller (tests) may leave it to us.
  const apiSecret: SecretResult = typeof s === 'string' ? { ok: true, value: s } : resolved ?? { ok: false, message: "the fallback's api_secret was not resolved" };
  return { url: clientFallbackUrl(w.url), apiKey: w.api_key, apiSecret };
}

function redisOf(w: WrittenLiveKit['redis'], password: string | undefined): LiveKitDesired['redis'] {
  if (w === undefined) return undefined;
  const pw = typeof w.password === 'string' ? w.password : password;
  return { address: w.address, ...(w.username === undefined ? {} : { username: w.username }), ...(pw === undefined ? {} : { password: pw }), db: w.db ?? 0, tls: w.tls ?? false };
}

function livekit(w: WrittenLiveKit, env: Env, secrets: ReadonlyMap<string, string> | undefined, platform: string, fallbackSecret?: SecretResult, byPointer?: ReadonlyMap<string, string>): LiveKitDesired {
  const redis = redisOf(w.redis, byPointer?.get('/services/livekit/redis/password'));
  const d = DEFAULTS;
  const state = w.state ?? d.state;
  const inst = install(w.install, env, platform);
  return {
    name: 'livekit',
    kind: 'livekit',
    state,
    // A stopped service is not started at the next login unless the file asks for it.
    autostart: w.autostart ?? state === 'running',
    removeData: w.remove_data ?? false,
    dev: w.dev ?? false,
    // '' means "whatever that binary is" (nothing to pin); `latest` is a release-server notion.
    version: w.version === undefined || (w.version === 'latest' && inst.method !== 'release') ? '' : w.version,
    install: inst,
    port: w.port ?? d.port,
    bindAddresses: [...(w.bind_addresses ?? d.bindAddresses)],
    rtc: {
      portRangeStart: w.rtc?.port_range_start ?? d.rtc.portRangeStart,
      portRangeEnd: w.rtc?.port_range_end ?? d.rtc.portRangeEnd,
      tcpPort: w.rtc?.tcp_port ?? d.rtc.tcpPort,
      useExternalIp: w.rtc?.use_external_ip ?? d.rtc.useExternalIp,
    },
    keys: keys(w.keys, secrets),
    room: {
      autoCreate: w.room?.auto_create ?? d.room.autoCreate,
      emptyTimeout: w.room?.empty_timeout ?? d.room.emptyTimeout,
    },
    logging: { level: w.logging?.level ?? d.logLevel, maxBytes: parseSize(w.logging?.max_size) ?? d.logMaxBytes },
    health: { timeoutMs: parseDuration(w.health?.timeout) ?? d.healthTimeoutMs },
    ...(w.fallback === undefined ? {} : { fallback: fallback(w.fallback, fallbackSecret) }),
    ...exposeOf(w.expose),
    ...(redis === undefined ? {} : { redis }),
    ...(w.region === undefined ? {} : { region: w.region }),
  };
}

/** `expose` only when it exposes something: otherwise the tailnet is never asked. */
function exposeOf(w: WrittenLiveKit['expose']): { expose?: LiveKitExpose } {
  const tailscale = w?.tailscale === true;
  const https = w?.https === true;
  return tailscale || https ? { expose: { tailscale, https, httpsPort: w?.https_port ?? DEFAULT_HTTPS_PORT } } : {};
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
  const tools = { expandHome: (p: string) => expandHome(p, env), parseDuration, parseSize, voicemodeHome: voicemodeHomeOf(env) };
  const services: Record<string, ServiceDesired> = {};
  for (const [name, ws] of Object.entries(w.services ?? {})) {
    if (ws === null || ws === undefined) continue;
    const kind = serviceKind(name, ws);
    services[name] =
      kind === 'livekit'
        ? livekit(ws as WrittenLiveKit, env, secrets, platform, fallbackSecret, byPointer)
        : kind === 'redis'
          ? normaliseRedis(name, ws as WrittenRedis, tools, byPointer?.get(`/services/${escapePointer(name)}/password`))
          : normaliseHttp(name, kind, ws as WrittenHttp, tools, env);
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
  return ws.kind ?? (name === 'livekit' || name === 'whisper' || name === 'kokoro' || name === 'redis' ? name : 'command');
}

function voicemodeHomeOf(env: Env): string {
  const v = env['VOICEMODE_HOME'];
  if (v !== undefined && v !== '') return v;
  const home = homeDir(env);
  return home === undefined ? '/nonexistent/.voicemode' : join(home, '.voicemode');
}
