// Host overrides: `hosts:` maps a host-name glob (`*`, `?`) to `{ services: … }`, deep-merged over
// the base in file order (later wins; a list replaces a list). The merge is done on the YAML
// nodes, not on plain data: an override's nodes keep their ranges in the same text, so every
// problem the schema or a rule finds in the merged document is located at the line the user
// wrote it on, the override's when the override set it. Pure (no I/O).

import { hostname as osHostname } from 'node:os';
import { isMap, isPair, Pair } from 'yaml';
import type { Document, YAMLMap } from 'yaml';
import type { Env } from './normalise.js';
import { keyName, MAX_ALIAS_COUNT } from './parse.js';
import type { ParsedSpec } from './parse.js';

/** The name host entries are matched against: VOICEMODE_HOSTNAME (containers, tests), else the system's. */
export function hostnameOf(env: Env): string {
  const v = env['VOICEMODE_HOSTNAME'];
  return v !== undefined && v !== '' ? v : osHostname();
}

/** Whether a `hosts:` glob matches a host name: the whole name (FQDN) or its short form, case-insensitively. */
export function hostMatches(pattern: string, host: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  const short = host.split('.')[0] ?? host;
  return re.test(host) || re.test(short);
}

/** The `hosts:` entries' patterns, in file order (only well-formed ones: mappings). */
export function hostPatterns(spec: ParsedSpec): string[] {
  const hosts = (spec.data as { hosts?: unknown } | null)?.hosts;
  if (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)) return [];
  return Object.entries(hosts).filter(([, v]) => typeof v === 'object' && v !== null && !Array.isArray(v)).map(([k]) => k);
}

/** The entries that match `host`, in file order. */
export function matchingHosts(spec: ParsedSpec, host: string): string[] {
  return hostPatterns(spec).filter((p) => hostMatches(p, host));
}

/**
 * The document with `hosts:` removed and the `services` of each entry in `patterns` merged over
 * the base, in that order. The text and line counter are the same: positions still hold.
 */
export function mergeHosts(spec: ParsedSpec, patterns: readonly string[]): ParsedSpec {
  const hasHosts = isMap(spec.doc.contents) && spec.doc.contents.items.some((p) => keyName(p) === 'hosts');
  if (!hasHosts) return spec;
  const doc = spec.doc.clone() as Document.Parsed;
  const root = doc.contents as YAMLMap;
  const hostsPair = root.items.find((p) => keyName(p) === 'hosts');
  root.items = root.items.filter((p) => p !== hostsPair);
  const hosts = hostsPair?.value;
  for (const pattern of patterns) {
    const entry = isMap(hosts) ? hosts.items.find((p) => keyName(p) === pattern)?.value : undefined;
    const services = isMap(entry) ? entry.items.find((p) => keyName(p) === 'services') : undefined;
    if (services === undefined) continue;
    const base = root.items.find((p) => keyName(p) === 'services');
    if (base === undefined) root.items.push(new Pair(services.key, services.value));
    else base.value = mergeNode(base.value, services.value);
  }
  const data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
  return { ...spec, doc, data };
}

/** `over` merged onto `base`: maps key by key (recursively), anything else replaced. */
function mergeNode(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over;
  const out = base.clone() as YAMLMap;
  for (const pair of over.items) {
    if (!isPair(pair)) continue;
    const name = keyName(pair);
    const i = out.items.findIndex((p) => keyName(p) === name);
    if (i === -1) out.items.push(new Pair(pair.key, pair.value));
    else {
      const existing = out.items[i] as Pair<unknown, unknown>;
      // The override's key and value: a problem in the merged value points at the override.
      out.items[i] = new Pair(isMap(existing.value) && isMap(pair.value) ? existing.key : pair.key, mergeNode(existing.value, pair.value));
    }
  }
  return out;
}

/** For a message: `hosts."homeserver"`. */
export function hostLabel(pattern: string): string {
  return /^[A-Za-z0-9_-]+$/.test(pattern) ? `hosts.${pattern}` : `hosts.${JSON.stringify(pattern)}`;
}
