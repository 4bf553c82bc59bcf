// What the user wrote (validated) → DesiredState: defaults filled, durations in ms, `~` expanded.
// Pure. It trusts its input: load.ts only calls it when the schema and the rules found nothing.

import { join } from 'node:path';
import type { DesiredState, InstallMethod, KeysSpec, LiveKitDesired, LogLevel, SpecSource } from '../model.js';
import { DEFAULTS, GENERATED_API_KEY } from './default.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** The file as written: snake_case, everything optional but `version`. Matches the schema. */
export interface WrittenSpec {
  readonly version: 1;
  readonly supervisor?: 'auto' | 'systemd';
  readonly services?: { readonly livekit?: WrittenLiveKit };
}

export interface WrittenLiveKit {
  readonly state?: 'running';
  readonly autostart?: boolean;
  readonly version?: string;
  readonly install?: { readonly method?: 'release' | 'path'; readonly path?: string; readonly base_url?: string };
  readonly port?: number;
  readonly bind_addresses?: readonly string[];
  readonly rtc?: {
    readonly port_range_start?: number;
    readonly port_range_end?: number;
    readonly tcp_port?: number;
    readonly use_external_ip?: boolean;
  };
  readonly keys?: Readonly<Record<string, string>>;
  readonly room?: { readonly auto_create?: boolean; readonly empty_timeout?: number };
  readonly logging?: { readonly level?: LogLevel };
  readonly health?: { readonly timeout?: number | string };
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** `500ms`, `30s`, `2m`, or a plain number of seconds → milliseconds; undefined if neither. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v * 1000) : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^([0-9]+)(ms|s|m)$/.exec(v);
  return m === null ? undefined : Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
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

function install(w: WrittenLiveKit['install'], env: Env): InstallMethod {
  if (w?.method === 'path') return { method: 'path', path: expandHome(w.path ?? '', env) };
  return { method: 'release', baseUrl: w?.base_url ?? DEFAULTS.baseUrl };
}

function keys(w: WrittenLiveKit['keys']): KeysSpec {
  if (w === undefined) return { kind: 'generated', apiKey: GENERATED_API_KEY };
  // A fresh plain object: the written map came from YAML and may hold keys like __proto__ as
  // own properties; Object.fromEntries keeps them as data.
  return { kind: 'declared', entries: Object.fromEntries(Object.entries(w)) };
}

function livekit(w: WrittenLiveKit, env: Env): LiveKitDesired {
  const d = DEFAULTS;
  return {
    name: 'livekit',
    state: w.state ?? d.state,
    autostart: w.autostart ?? d.autostart,
    // With method: path and no version, '' means "whatever that binary is" (nothing to pin).
    version: w.version ?? '',
    install: install(w.install, env),
    port: w.port ?? d.port,
    bindAddresses: [...(w.bind_addresses ?? d.bindAddresses)],
    rtc: {
      portRangeStart: w.rtc?.port_range_start ?? d.rtc.portRangeStart,
      portRangeEnd: w.rtc?.port_range_end ?? d.rtc.portRangeEnd,
      tcpPort: w.rtc?.tcp_port ?? d.rtc.tcpPort,
      useExternalIp: w.rtc?.use_external_ip ?? d.rtc.useExternalIp,
    },
    keys: keys(w.keys),
    room: {
      autoCreate: w.room?.auto_create ?? d.room.autoCreate,
      emptyTimeout: w.room?.empty_timeout ?? d.room.emptyTimeout,
    },
    logging: { level: w.logging?.level ?? d.logLevel },
    health: { timeoutMs: parseDuration(w.health?.timeout) ?? d.healthTimeoutMs },
  };
}

export function normalise(w: WrittenSpec, source: SpecSource, env: Env): DesiredState {
  const lk = w.services?.livekit;
  return {
    source,
    supervisor: w.supervisor ?? DEFAULTS.supervisor,
    services: lk === undefined ? {} : { livekit: livekit(lk, env) },
  };
}
