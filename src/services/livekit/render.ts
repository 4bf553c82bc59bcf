// What vm writes for LiveKit, rendered from the desired state. Pure.
//
// livekit.yaml uses only keys livekit-server accepts: it parses its config strictly and
// (FACTS.md) an unknown key makes it print an error and exit 0.

import { parse, stringify } from 'yaml';
import { ipBytes, isWildcard } from '../../ip.js';
import type { LiveKitDesired, LiveKitPaths } from './model.js';
import type { HealthCheck } from '../../model.js';
import type { SupervisedInput } from '../../resources/supervised.js';

const MANAGED = '# Managed by vm (Voice Mode). `vm apply` rewrites this file: change voicemode.services.yaml instead.\n';

// A watch plans every few seconds from the same desired state: rendering (a whole yaml document
// each time) is the bulk of a no-op cycle's garbage, so the result is kept per desired object.
const configs = new WeakMap<LiveKitDesired, { keyFile: string; tailnet: string | undefined; text: string }>();
let lastKeyFile: { entries: string; text: string } | undefined;

/** What the plan shows instead of the Redis password (the config file is 0600; diffs are not). */
export const SENSITIVE = '(sensitive)';

/**
 * `tailnet`: the tailnet IPv4 LiveKit also binds and advertises (expose.tailscale while
 * tailscale is Running, see expose.ts); undefined renders the file's addresses only.
 */
export function renderConfig(d: LiveKitDesired, paths: LiveKitPaths, tailnet?: string): string {
  const known = configs.get(d);
  if (known !== undefined && known.keyFile === paths.keyFile && known.tailnet === tailnet) return known.text;
  const text = renderConfigText(d, paths, tailnet);
  configs.set(d, { keyFile: paths.keyFile, tailnet, text });
  return text;
}

/**
 * The addresses LiveKit listens on: the file's, plus the tailnet IPv4 when exposed — never a
 * wildcard on Tailscale's account; nothing added when the file already listens everywhere
 * (a second bind on the same port would fail) or on that very address.
 */
export function bindAddressesWith(d: Pick<LiveKitDesired, 'bindAddresses'>, tailnet: string | undefined): readonly string[] {
  if (tailnet === undefined || d.bindAddresses.some((a) => { const b = ipBytes(a); return a === tailnet || (b !== undefined && isWildcard(b)); })) return d.bindAddresses;
  return [...d.bindAddresses, tailnet];
}

function renderConfigText(d: LiveKitDesired, paths: LiveKitPaths, tailnet: string | undefined, password?: string): string {
  const r = d.redis;
  const config = {
    port: d.port,
    bind_addresses: [...bindAddressesWith(d, tailnet)],
    rtc: {
      port_range_start: d.rtc.portRangeStart,
      port_range_end: d.rtc.portRangeEnd,
      tcp_port: d.rtc.tcpPort,
      use_external_ip: d.rtc.useExternalIp,
      // An explicit node_ip is what LiveKit advertises in its host candidates (mediatransportutil
      // rtcconfig: NAT 1:1 rewrite of host candidates) and it adds no STUN servers: every device
      // on the tailnet reaches this address, and nothing asks the internet for a public one.
      ...(tailnet === undefined ? {} : { node_ip: tailnet }),
    },
    room: { auto_create: d.room.autoCreate, empty_timeout: d.room.emptyTimeout },
    logging: { level: d.logging.level },
    // Refused beyond loopback unless allow_insecure (src/spec/exposure.ts): it serves /debug/pprof.
    ...(d.dev ? { development: true } : {}),
    // LiveKit's multi-node mode (protocol's RedisConfig keys). The password lives here, in this
    // 0600 file only: never in the unit's environment (REDIS_PASSWORD) or the command line.
    ...(r === undefined
      ? {}
      : {
          redis: {
            address: r.address,
            ...(r.username === undefined ? {} : { username: r.username }),
            ...(r.password === undefined ? {} : { password: password ?? r.password }),
            ...(r.db === 0 ? {} : { db: r.db }),
            ...(r.tls ? { use_tls: true } : {}),
          },
        }),
    ...(d.region === undefined ? {} : { region: d.region }),
    // Keys stay out of this file (and out of the unit and process arguments): only the key
    // file, mode 0600, holds secrets. LiveKit refuses a key file readable by others.
    key_file: paths.keyFile,
  };
  return MANAGED + stringify(config);
}

/** The config as the plan shows it: the Redis password replaced. */
export function redactedConfig(d: LiveKitDesired, paths: LiveKitPaths, tailnet?: string): string {
  return d.redis?.password === undefined ? renderConfig(d, paths, tailnet) : renderConfigText(d, paths, tailnet, SENSITIVE);
}

/** A config on disk as the plan shows it: a `redis.password` line replaced (never its value). */
export function redactConfigText(content: string): string {
  return content.replace(/^(\s+password:)[^\n]*$/gm, `$1 ${SENSITIVE}`);
}

/** The key file LiveKit reads: a YAML map api_key → secret. */
export function renderKeyFile(entries: Readonly<Record<string, string>>): string {
  // One entry, compared by content: generated keys come as a new object on every plan.
  const key = JSON.stringify(entries);
  if (lastKeyFile?.entries === key) return lastKeyFile.text;
  const text = '# Managed by vm (Voice Mode). LiveKit API keys (api_key: secret). Keep this file private (0600).\n' + stringify({ ...entries });
  lastKeyFile = { entries: key, text };
  return text;
}

/** The same file with every secret replaced, for diffs and plan output. */
export function redactKeyFile(entries: Readonly<Record<string, string>>): string {
  return renderKeyFile(Object.fromEntries(Object.keys(entries).map((k) => [k, '(sensitive)'])));
}

/**
 * The URL a client connects to: ws:// on the first loopback bind address, else the first bind
 * address (an unspecified 0.0.0.0 or :: is reached on loopback).
 */
export function clientUrl(d: Pick<LiveKitDesired, 'port' | 'bindAddresses'>): string {
  const loop = d.bindAddresses.find((a) => a.startsWith('127.') || a === '::1');
  const first = loop ?? d.bindAddresses[0] ?? '127.0.0.1';
  const host = first === '0.0.0.0' ? '127.0.0.1' : first === '::' ? '[::1]' : first.includes(':') ? `[${first}]` : first;
  return `ws://${host}:${d.port}`;
}

/** livekit-server answers `GET /` with `OK`, and 406 while its node stats are stale (FACTS.md). */
export const LIVEKIT_HEALTH: HealthCheck = { protocol: 'http', body: 'OK', starting: 406 };

/** The wait for health after a start or restart: the plan's, and `vm restart`'s. */
export function healthWait(d: LiveKitDesired): SupervisedInput['health'] {
  return { url: healthUrl(d), check: LIVEKIT_HEALTH, timeoutMs: d.health.timeoutMs };
}

/** Where to ask for health: loopback when LiveKit listens there, else its first address. */
export function healthUrl(d: LiveKitDesired): string {
  return healthUrlOf(d.port, d.bindAddresses);
}

/** The same, from a rendered livekit.yaml (rollback checks the config it put back). */
export function healthUrlOfConfig(content: string): string | undefined {
  try {
    const c = parse(content) as { port?: unknown; bind_addresses?: unknown };
    const addrs = Array.isArray(c.bind_addresses) ? c.bind_addresses.filter((a): a is string => typeof a === 'string') : [];
    return typeof c.port === 'number' ? healthUrlOf(c.port, addrs) : undefined;
  } catch {
    return undefined;
  }
}

function healthUrlOf(port: number, addrs: readonly string[]): string {
  const loopbackOrAny = addrs.length === 0 || addrs.some((a) => a === '0.0.0.0' || a === '::' || a.startsWith('127.'));
  if (loopbackOrAny) return `http://127.0.0.1:${port}/`;
  if (addrs.includes('::1')) return `http://[::1]:${port}/`;
  const first = addrs[0] ?? '127.0.0.1';
  return first.includes(':') ? `http://[${first}]:${port}/` : `http://${first}:${port}/`;
}
