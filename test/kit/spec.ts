// voicemode.services.yaml from plain data: one entry builder per kind, taking what tests vary in
// camelCase and writing the file's own fields, nothing more (no defaults: an entry has exactly
// the fields a test passes). Anything else a test needs goes in as the file writes it, and is
// written after the builder's fields. A test that asserts on the text itself (a line and column,
// a comment) writes its text by hand.

import { Document, isCollection, isMap } from 'yaml';

/** One service's entry (or any map) as the file writes it. */
export type Entry = Record<string, unknown>;
/** A key's secret: inline, or a reference the way the file writes it. */
export type Secret = string | { env: string } | { file: string };
export interface Install {
  method?: 'auto' | 'release' | 'brew' | 'script' | 'path';
  base_url?: string;
  archive?: string;
  script_url?: string;
  path?: string;
}

interface Common {
  state?: 'running' | 'stopped' | 'absent';
  install?: Install;
  port?: number;
  /** health.timeout, e.g. '15s' */
  health?: string;
}

/** The fields the builder writes first, in the file's usual order; `undefined` ones are left out. */
function entry(fields: Entry, extra: Entry): Entry {
  return Object.fromEntries(Object.entries({ ...fields, ...extra }).filter(([, v]) => v !== undefined));
}

/** `health:` from its timeout (and, for a command, its path); none of either, no `health:`. */
function healthOf(timeout: string | undefined, path?: string): Entry | undefined {
  return timeout === undefined && path === undefined ? undefined : entry({ path, timeout }, {});
}

export interface LiveKitOptions extends Common {
  version?: string;
  /** rtc.tcp_port */
  tcpPort?: number;
  /** rtc.port_range_start and port_range_end */
  rtcRange?: readonly [start: number, end: number];
  keys?: Record<string, Secret>;
}

export function livekitEntry(o: LiveKitOptions & Entry): Entry {
  const { state, version, install, port, tcpPort, rtcRange, keys, health, ...extra } = o;
  const rtc =
    rtcRange === undefined && tcpPort === undefined ? undefined : entry({ port_range_start: rtcRange?.[0], port_range_end: rtcRange?.[1], tcp_port: tcpPort }, {});
  return entry({ state, version, install, port, rtc, keys, health: healthOf(health) }, extra);
}

export interface WhisperOptions extends Common {
  model?: { url: string; sha256: string };
  threads?: number;
}

export function whisperEntry(o: WhisperOptions & Entry): Entry {
  const { state, install, model, port, threads, health, ...extra } = o;
  return entry({ state, install, model: model === undefined ? undefined : { url: model.url, sha256: model.sha256 }, port, threads, health: healthOf(health) }, extra);
}

export interface KokoroOptions extends Common {
  env?: Record<string, string>;
}

export function kokoroEntry(o: KokoroOptions & Entry): Entry {
  const { state, install, port, env, health, ...extra } = o;
  return entry({ state, install, port, env, health: healthOf(health) }, extra);
}

export interface CommandOptions extends Omit<Common, 'install'> {
  command: readonly string[];
  /** health.path */
  healthPath?: string;
}

/** A `command` service: its name says nothing of its kind, so the entry does. */
export function commandEntry(o: CommandOptions & Entry): Entry {
  const { state, command, port, health, healthPath, ...extra } = o;
  return entry({ kind: 'command', state, command, port, health: healthOf(health, healthPath) }, extra);
}

export interface RedisOptions extends Common {
  password?: Secret;
}

export function redisEntry(o: RedisOptions & Entry): Entry {
  const { state, install, port, password, health, ...extra } = o;
  return entry({ state, install, port, password, health: healthOf(health) }, extra);
}

/**
 * The file (`version: 1` first, then `top`, then `services`), with each entry's maps and lists
 * on one line (`rtc: { … }`) and no line ever folded, as people write it: one field, one line,
 * so a test can say which line an extra field lands on. `top` may carry `hosts:`, whose entries
 * are written the same way.
 */
export function servicesFile(services: Record<string, Entry>, top: Entry = {}): string {
  // An object used twice is written out twice, as a person would, not as a YAML alias.
  const doc = new Document({ version: 1, ...top, services }, { aliasDuplicateObjects: false });
  const entriesOf = (services: unknown) => (isMap(services) ? services.items.map((p) => p.value) : []);
  const hosts = doc.get('hosts');
  const all = [...entriesOf(doc.get('services')), ...(isMap(hosts) ? hosts.items.flatMap((h) => (isMap(h.value) ? entriesOf(h.value.get('services')) : [])) : [])];
  for (const e of all) if (isMap(e)) for (const field of e.items) if (isCollection(field.value)) field.value.flow = true;
  return doc.toString({ lineWidth: 0 });
}
