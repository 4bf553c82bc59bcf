// What the user wrote (validated) → DesiredState: defaults filled, durations in ms, `~` expanded,
// secrets resolved (load.ts reads `{ env }` and `{ file }` secrets and passes them in).
// Pure. It trusts its input: load.ts only calls it when the schema and the rules found nothing.

import { join } from 'node:path';
import type { ClientsDesired, DesiredState, KindName, SecretResult, ServiceDesired, SpecSource, SupervisorKind } from '../model.js';
import type { NormaliseContext } from '../services/contract.js';
import { findKind, kindNamed, PRESET_NAMES } from '../services/registry.js';
import { escapePointer, valueAt } from './messages.js';
import { isMap } from './rule-kit.js';
import { DEFAULTS } from './default.js';

/** tailscale serve's port for `expose.https` when the file names none. */
export const DEFAULT_HTTPS_PORT = 7443;

export type Env = Readonly<Record<string, string | undefined>>;

/** One service's entry as written: its kind's schema part says what it holds. */
export type WrittenEntry = Readonly<Record<string, unknown>> & { readonly kind?: KindName };

/** The file as written: snake_case, everything optional but `version`. Matches the schema. */
export interface WrittenSpec {
  readonly version: 1;
  readonly supervisor?: 'auto' | SupervisorKind;
  /**
   * By name; each entry is its kind's to read (ServiceKind.normalise, which types it).
   * `services:` with nothing after it is YAML null: no services, like `services: {}`.
   */
  readonly services?: Readonly<Record<string, WrittenEntry>> | null;
  readonly clients?: { readonly env_file?: string; readonly lk_project?: string };
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
 * `secrets`: every secret by its JSON pointer, as load.ts resolved them; `lazy`: those only a
 * client needs, each its value or why it cannot be had (src/spec/secrets.ts).
 */
export function normalise(
  w: WrittenSpec,
  source: SpecSource,
  env: Env,
  secrets: ReadonlyMap<string, string> = new Map(),
  lazy: ReadonlyMap<string, SecretResult> = new Map(),
  platform: string = process.platform,
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
      secretAt: (pointer) => secrets.get(pointer),
      lazySecretAt: (pointer) => lazy.get(pointer),
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

/**
 * The file's service entries that are mappings, as written (before the schema's verdict), each
 * with its pointer and its kind: undefined for a `kind:` vm does not have (the schema reports it).
 * What the rules and the secrets walk.
 */
export function writtenServices(data: unknown): Array<{ readonly name: string; readonly at: string; readonly entry: Readonly<Record<string, unknown>>; readonly kind: ReturnType<typeof findKind> }> {
  const services = valueAt(data, '/services');
  if (!isMap(services)) return [];
  return Object.entries(services).flatMap(([name, entry]) => (isMap(entry) ? [{ name, at: `/services/${escapePointer(name)}`, entry, kind: findKind(serviceKind(name, entry as { kind?: never })) }] : []));
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
