// Which API keys LiveKit gets. Pure. Secrets are read from the observed key file only to keep a
// generated secret stable: it is created once and must not change between applies.

import { parse } from 'yaml';
import type { FileState } from '../../model.js';
import type { KeysSpec } from './model.js';

export const MIN_SECRET_LENGTH = 32;

export interface ResolvedKeys {
  readonly entries: Readonly<Record<string, string>>;
  /** For a generated key: whether the secret already on disk is kept or a new one is made. */
  readonly generated: 'kept' | 'new' | undefined;
}

export function resolveKeys(spec: KeysSpec, keyFile: FileState, freshSecret: () => string): ResolvedKeys {
  if (spec.kind === 'declared') return { entries: spec.entries, generated: undefined };
  const existing = readKeyFile(keyFile)?.[spec.apiKey];
  if (existing !== undefined && existing.length >= MIN_SECRET_LENGTH) {
    return { entries: { [spec.apiKey]: existing }, generated: 'kept' };
  }
  return { entries: { [spec.apiKey]: freshSecret() }, generated: 'new' };
}

/** The key file's map, or undefined when it is absent or not a map of strings. */
let lastParsed: { content: string; keys: Record<string, string> | undefined } | undefined;

export function readKeyFile(file: FileState): Record<string, string> | undefined {
  if (!file.exists) return undefined;
  // The same key file is read on every watch cycle: parse it once per content.
  if (lastParsed?.content === file.content) return lastParsed.keys === undefined ? undefined : { ...lastParsed.keys };
  const keys = parseKeyFile(file.content);
  lastParsed = { content: file.content, keys };
  return keys === undefined ? undefined : { ...keys };
}

function parseKeyFile(content: string): Record<string, string> | undefined {
  let doc: unknown;
  try {
    doc = parse(content);
  } catch {
    return undefined;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** "keys.devkey: (sensitive) changed" and friends; never a secret's value. */
export function describeKeyChanges(before: Record<string, string> | undefined, after: Readonly<Record<string, string>>, fingerprint: (secret: string) => string): string[] {
  if (before === undefined) return ['key file is not a valid key map'];
  const out: string[] = [];
  for (const k of Object.keys(after)) {
    const was = before[k];
    const now = after[k] ?? '';
    if (was === undefined) out.push(`keys.${k}: added`);
    else if (was !== now) out.push(`keys.${k}: (sensitive) changed, fingerprint ${fingerprint(was)} → ${fingerprint(now)}`);
  }
  for (const k of Object.keys(before)) if (!(k in after)) out.push(`keys.${k}: removed`);
  return out;
}
