// LiveKit's entry in the file → its desired state: defaults filled, durations in ms, `~`
// expanded, secrets as load.ts resolved them. Pure; the schema and the rules have run.

import type { LogLevel, SecretResult, ServiceName, ServiceState } from '../../model.js';
import type { InstallMethod, KeysSpec, LiveKitDesired, LiveKitExpose, LiveKitFallback } from './model.js';
import { LIVEKIT_DEFAULTS as DEFAULTS, DEFAULT_SCRIPT_URL, GENERATED_API_KEY } from './defaults.js';
import { DEFAULT_HTTPS_PORT, expandHome, parseDuration, parseSize, type Env, type WrittenSecret } from '../../spec/normalise.js';
import { clientFallbackUrl } from './fallback-url.js';
import { escapePointer } from '../../spec/messages.js';
import type { NormaliseContext } from '../contract.js';

/** LiveKit's entry as written (snake_case, everything optional): matches its schema part. */
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

export function normaliseLiveKit(_name: ServiceName, written: unknown, ctx: NormaliseContext): LiveKitDesired {
  return livekit(written as WrittenLiveKit, ctx);
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

function keys(w: WrittenLiveKit['keys'], secretAt: (pointer: string) => string | undefined, at: string): KeysSpec {
  if (w === undefined) return { kind: 'generated', apiKey: GENERATED_API_KEY };
  // A fresh plain object: the written map came from YAML and may hold keys like __proto__ as
  // own properties; Object.fromEntries keeps them as data.
  const entries = Object.entries(w).map(([name, secret]): [string, string] => {
    const value = typeof secret === 'string' ? secret : secretAt(`${at}/keys/${escapePointer(name)}`);
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

function livekit(w: WrittenLiveKit, ctx: NormaliseContext): LiveKitDesired {
  const { env, platform, secretAt, pointer: at } = ctx;
  const redis = redisOf(w.redis, secretAt(`${at}/redis/password`));
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
    keys: keys(w.keys, secretAt, at),
    room: {
      autoCreate: w.room?.auto_create ?? d.room.autoCreate,
      emptyTimeout: w.room?.empty_timeout ?? d.room.emptyTimeout,
    },
    logging: { level: w.logging?.level ?? d.logLevel, maxBytes: parseSize(w.logging?.max_size) ?? d.logMaxBytes },
    health: { timeoutMs: parseDuration(w.health?.timeout) ?? d.healthTimeoutMs },
    ...(w.fallback === undefined ? {} : { fallback: fallback(w.fallback, ctx.lazySecretAt(`${at}/fallback/api_secret`)) }),
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

