// Turns one ajv error into words a person can act on, and says where it belongs: the JSON
// pointer of the offending node and whether to point at its key or its value.
// Pure: no I/O, no positions (validate.ts locates).
//
// Nothing a kind calls sensitive (ServiceKind.sensitive: LiveKit's keys, a password) is ever
// echoed: a value there is a secret, or may be one written in the wrong place (a secret pasted as
// `env:` or as a key of the reference). Messages are chosen by the shape of the pointer, with the
// service's name as `*`: the shared definitions (bind addresses, paths, secret references, health)
// read alike in every kind.

import type { ErrorObject } from 'ajv';
import { allowedKeys, kindKeys, namedKinds } from './generated/validate.js';
import { pointerSegments } from './parse.js';
import { findKind } from '../services/registry.js';
import type { KindName } from '../model.js';
import { serviceKind } from './normalise.js';

export interface Described {
  readonly pointer: string;
  readonly part: 'key' | 'value';
  readonly message: string;
}

/** Keys the schema's if/then/else allows with one install method only. */
const ONLY_WITH: Readonly<Record<string, string>> = {
  '/services/*/install/path': 'path is only used with `method: path`',
  '/services/*/install/base_url': 'base_url is only used with `method: release` (or auto)',
  '/services/*/install/archive': 'archive is only used with `method: release` (or auto)',
  '/services/*/install/script_url': 'script_url is only used with `method: script`',
};

/** Why a key is required, when the schema requires it conditionally (then/else). */
const REQUIRED_WHEN: Readonly<Record<string, string>> = {
  version: ' (needed with install method release, the default; or set install.method: path)',
  path: ' (needed with `method: path`)',
};

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping (key: value)', array: 'a list', string: 'text',
  integer: 'a whole number', number: 'a number', boolean: 'true or false',
};

/** Pointer with list indices and user-chosen names (services, keys) as `*`, to look up messages by shape. */
export function shape(pointer: string): string {
  return pointer
    .replace(/^\/hosts\/[^/]+/, '/hosts/*')
    .replace(/^\/services\/[^/]+/, '/services/*')
    .replace(/\/bind_addresses\/\d+$/, '/bind_addresses/*')
    .replace(/^(\/services\/\*\/keys)\/[^/]+/, '$1/*');
}

/**
 * The keys the closed mapping at `pointer` allows. Inside a service's entry they are its kind's
 * (its `kind:`, or its name for a service vm knows by name); `*` in a recorded path stands for
 * a name the user chose.
 */
export function allowedAt(pointer: string, data: unknown): readonly string[] {
  const m = /^\/services\/([^/]+)(.*)$/.exec(pointer);
  if (m === null) return lookup(allowedKeys, pointer);
  const [, name = '', rest = ''] = m;
  const kind = kindOfEntry(name, data);
  const keys = Object.hasOwn(kindKeys, kind) ? kindKeys[kind] : undefined;
  return keys === undefined ? [] : lookup(keys, rest);
}

function lookup(table: Readonly<Record<string, readonly string[]>>, pointer: string): readonly string[] {
  if (Object.hasOwn(table, pointer)) return table[pointer] ?? [];
  const segs = pointer.split('/');
  const match = Object.keys(table).find((k) => {
    const ks = k.split('/');
    return ks.length === segs.length && ks.every((s, i) => s === '*' || s === segs[i]);
  });
  return match === undefined ? [] : (table[match] ?? []);
}

/** Whether the node at `pointer` is a secret or part of one (its kind says: sensitive): never shown. */
export function isUnderKeys(pointer: string, data: unknown): boolean {
  const m = /^\/services\/([^/]+)(\/.*)?$/.exec(pointer);
  if (m === null) return false;
  const [, name = '', rest = ''] = m;
  const sensitive = findKind(kindOfEntry(name, data))?.sensitive ?? [];
  return sensitive.some((s) => rest === s || rest.startsWith(`${s}/`));
}

/** The kind the entry at `/services/NAME` is (NAME escaped), as the schema reads it: serviceKind. */
function kindOfEntry(name: string, data: unknown): string {
  const kind = valueAt(data, `/services/${name}/kind`);
  return serviceKind(pointerSegments(`/${name}`)[0] ?? '', typeof kind === 'string' ? { kind: kind as KindName } : {});
}

/** A name the user chose (a key), quoted for a message and cut short when long. */
export function quoteName(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
}

/** What kind of value `v` is, for messages that must not show it. */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return 'a number';
  if (typeof v === 'boolean') return 'true or false';
  return 'text';
}

const SECRET_FORMS = 'text, { env: NAME } or { file: PATH }';

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function valueAt(data: unknown, pointer: string): unknown {
  const step = (v: unknown, seg: string): unknown => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[seg] : undefined);
  return pointerSegments(pointer).reduce<unknown>(step, data);
}

/** How a value reads in a message: strings quoted, collections named, null as "nothing". */
export function show(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  return String(v);
}

/** The name a message uses for the node at `pointer`: `port`, `bind_addresses[1]`, `key "devkey"`. */
export function subject(pointer: string): string {
  const segs = pointerSegments(pointer);
  const last = segs.at(-1) ?? '';
  const parent = segs.at(-2) ?? '';
  if (parent === 'keys') return `the secret of key ${quoteName(last)}`;
  if (segs.at(-3) === 'keys') return `${last} of key ${quoteName(parent)}`;
  if (/^\d+$/.test(last)) return `${parent}[${last}]`;
  return last === '' ? 'the file' : last;
}

/** The option a typo most likely meant: a prefix either way, or within a small edit distance. */
function closest(word: string, options: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  if (w.length < 2 || w.length > 64) return undefined;
  // Edit distance where swapping two neighbours is one edit (`prot` is one edit from `port`).
  const dist = (b: string): number => {
    let before: number[] = [];
    let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= w.length; i++) {
      const cur = [i];
      for (let j = 1; j <= b.length; j++) {
        let d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (w[i - 1] === b[j - 1] ? 0 : 1));
        if (i > 1 && j > 1 && w[i - 1] === b[j - 2] && w[i - 2] === b[j - 1]) d = Math.min(d, (before[j - 2] ?? 0) + 1);
        cur[j] = d;
      }
      before = prev;
      prev = cur;
    }
    return prev[b.length] ?? Infinity;
  };
  const scored = options.map((o) => ({ o, d: w.startsWith(o.toLowerCase()) || o.toLowerCase().startsWith(w) ? 0 : dist(o.toLowerCase()) }));
  const best = scored.sort((x, y) => x.d - y.d)[0];
  return best !== undefined && best.d <= Math.max(1, Math.floor(w.length / 3)) ? best.o : undefined;
}

function patternMessage(pointer: string, value: unknown, source: string | undefined, data: unknown): string {
  const s = typeof value === 'string' ? value : '';
  if (isUnderKeys(pointer, data)) {
    // A secret reference's parts, wherever a kind keeps one (a key's secret, a password).
    if (/\/env$/.test(pointer)) return `${subject(pointer)} must name an environment variable (letters, digits and _, not starting with a digit), not hold the secret itself`;
    if (/\/file$/.test(pointer)) return !s.startsWith('/') && !s.startsWith('~/') ? `${subject(pointer)} must be an absolute path or start with ~/` : pathCharacters(subject(pointer), s);
    return `${subject(pointer)} must be non-empty text without newlines or control characters`;
  }
  switch (shape(pointer)) {
    case '/services/*/version':
      return `version must be an exact X.Y.Z such as 1.9.0, without a leading v (got ${show(value)})`;
    case '/services/*/install/path':
      if (!s.startsWith('/') && !s.startsWith('~/')) return `path must be absolute or start with ~/ (got ${show(value)})`;
      return pathCharacters('path', s);
    case '/clients/env_file':
      if (!s.startsWith('/') && !s.startsWith('~/')) return `env_file must be absolute or start with ~/ (got ${show(value)})`;
      return pathCharacters('env_file', s);
    case '/clients/lk_project':
      return `lk_project must be letters, digits, _ and - only, as lk names projects (got ${show(value)})`;
    case '/services/*/install/base_url':
      if (/^https?:\/\//.test(s)) return 'base_url must not contain spaces, newlines or control characters';
      return `base_url must start with https:// (got ${show(value)})`;
    case '/services/*/bind_addresses/*':
      if (/\s|[\u0000-\u001f\u007f]/.test(s)) return `${subject(pointer)} must be an IP address without spaces, newlines or control characters (got ${show(value)})`;
      if (/^[0-9.]+$/.test(s)) return `${subject(pointer)} is not a valid IPv4 address (got ${show(value)})`;
      return `${subject(pointer)} must be an IP address such as 127.0.0.1 or ::1, not a host name (got ${show(value)})`;
    case '/services/*/health/timeout':
      return `timeout must be a duration such as 500ms, 30s or 2m, or a number of seconds (got ${source ?? show(value)})`;
    default:
      return `${subject(pointer)} has the wrong form (got ${show(value)})`;
  }
}

/** Why a path is refused, besides not being absolute. Paths land in systemd units and plists. */
function pathCharacters(name: string, s: string): string {
  if (s.includes('%')) return `${name} must not contain %: systemd would read it as a unit specifier`;
  if (s.includes('$')) return `${name} must not contain $: vm does not expand variables, and systemd would (write the path out; ~/ is fine)`;
  if (/["'\\]/.test(s)) return `${name} must not contain quotes or backslashes`;
  return `${name} must not contain newlines or control characters`;
}

/**
 * One ajv error → what to tell the user, or undefined for wrapper errors that only repeat
 * what their sub-errors already say (if/then/else, propertyNames, anyOf/oneOf).
 */
export function describe(err: ErrorObject, data: unknown, source: (pointer: string) => string | undefined): Described | undefined {
  const at = err.instancePath;
  const value = valueAt(data, at);
  const p = err.params as Record<string, unknown>;
  const name = subject(at);
  switch (err.keyword) {
    case 'if':
    case 'propertyNames':
    case 'anyOf':
    case 'oneOf':
      return undefined;
    case 'additionalProperties': {
      const key = String(p['additionalProperty']);
      const allowed = allowedAt(at, data);
      if (isUnderKeys(at, data)) {
        // The key might be the secret itself (`lan: { s3cr3t: x }`): do not repeat it, not
        // even in the pointer.
        return { pointer: at, part: 'value', message: `${name} must be ${SECRET_FORMS}; this mapping has another key (allowed here: ${allowed.join(', ')})` };
      }
      const guess = closest(key, allowed);
      const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
      return { pointer: `${at}/${escapePointer(key)}`, part: 'key', message: `unknown key ${quoteName(key)}${hint}; allowed here: ${allowed.join(', ')}` };
    }
    case 'false schema':
      return { pointer: at, part: 'key', message: ONLY_WITH[shape(at)] ?? `${name} is not allowed here` };
    case 'required': {
      const key = String(p['missingProperty']);
      // A service with a name vm does not know: one line says what it needs, not three.
      const isService = /^\/services\/[^/]+$/.test(at);
      const kindless = isService && typeof value === 'object' && value !== null && (value as Record<string, unknown>)['kind'] === undefined;
      if (kindless && key === 'kind') {
        return { pointer: at, part: 'key', message: `${quoteName(pointerSegments(at).at(-1) ?? '')} is not a service vm knows by name (${namedKinds.join(', ')}): declare it with kind: command, its command and its port` };
      }
      if (kindless && (key === 'command' || key === 'port')) return undefined;
      const when = /\/(then|else)\//.test(err.schemaPath) ? (REQUIRED_WHEN[key] ?? '') : '';
      const where = at === '' ? '' : ` in ${name}`;
      return { pointer: `${at}/${escapePointer(key)}`, part: 'key', message: `missing key ${JSON.stringify(key)}${where}${when}` };
    }
    case 'type': {
      if (at === '') {
        const message = value === null || value === undefined
          ? 'the file is empty; it needs at least `version: 1`'
          : `the file must be a mapping of keys (like \`version: 1\`), not ${show(value)}`;
        return { pointer: '', part: 'value', message };
      }
      // `version: 1.9` is a YAML number; saying "quote it" would only lead to the next error.
      if (shape(at) === '/services/*/version') return { pointer: at, part: 'value', message: patternMessage(at, value, source(at), data) };
      if (shape(at) === '/services/*/keys/*') {
        const quote = typeof value === 'number' || typeof value === 'boolean' ? ' (put a secret that looks like a number in quotes)' : '';
        return { pointer: at, part: 'value', message: `${name} must be ${SECRET_FORMS}; got ${kindOf(value)}${quote}` };
      }
      // `null` is allowed only where writing nothing means none (`services:`): not worth naming.
      const types = (Array.isArray(p['type']) ? (p['type'] as string[]) : [String(p['type'])]).filter((t) => t !== 'null');
      const expected = shape(at) === '/services/*/health/timeout' ? 'a duration such as 30s or a number of seconds' : types.map((t) => TYPE_NAMES[t] ?? t).join(' or ');
      if (isUnderKeys(at, data)) return { pointer: at, part: 'value', message: `${name} must be ${expected}, got ${kindOf(value)}` };
      // Show a number as written (0777, 1e3), not as JavaScript prints it.
      const written = typeof value === 'number' || typeof value === 'boolean' ? (source(at) ?? String(value)) : undefined;
      const quote = types.includes('string') && written !== undefined ? `; put it in quotes: "${written}"` : '';
      return { pointer: at, part: 'value', message: `${name} must be ${expected}, got ${written ?? show(value)}${quote}` };
    }
    case 'enum': {
      const allowed = (p['allowedValues'] as unknown[]).map(String);
      const guess = typeof value === 'string' ? closest(value, allowed) : undefined;
      const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
      return { pointer: at, part: 'value', message: `${name} must be one of ${allowed.join(', ')}; got ${show(value)}${hint}` };
    }
    case 'const': {
      const hint = at === '/version' ? ' is the file format and' : '';
      const where = at === '/version' ? '; the LiveKit version goes under services.livekit.version' : '';
      return { pointer: at, part: 'value', message: `${name}${hint} must be ${show(p['allowedValue'])} (got ${show(value)})${where}` };
    }
    case 'pattern':
      if (err.propertyName !== undefined && at === '/services') {
        return {
          pointer: `${at}/${escapePointer(err.propertyName)}`,
          part: 'key',
          message: `service name ${quoteName(err.propertyName)} must start with a lowercase letter and use only a-z, 0-9 and - (at most 40): it names a unit and a log directory`,
        };
      }
      if (err.propertyName !== undefined) {
        return {
          pointer: `${at}/${escapePointer(err.propertyName)}`,
          part: 'key',
          message: `key name ${quoteName(err.propertyName)} may only use letters, digits, _ and - (1 to 64 of them)`,
        };
      }
      return { pointer: at, part: 'value', message: patternMessage(at, value, source(at), data) };
    case 'minimum':
      return { pointer: at, part: 'value', message: `${name} must be at least ${String(p['limit'])} (got ${show(value)})` };
    case 'maximum':
      return { pointer: at, part: 'value', message: `${name} must be at most ${String(p['limit'])} (got ${show(value)})` };
    case 'exclusiveMinimum':
      return { pointer: at, part: 'value', message: `${name} must be greater than ${String(p['limit'])} (got ${show(value)})` };
    case 'minItems':
      return { pointer: at, part: 'value', message: `${name} must list at least one address` };
    case 'uniqueItems': {
      const later = Math.max(Number(p['i']), Number(p['j']));
      return { pointer: `${at}/${later}`, part: 'value', message: `${name} lists ${show(valueAt(value, `/${later}`))} twice` };
    }
    case 'minProperties':
      if (shape(at) === '/services/*/keys/*') return { pointer: at, part: 'value', message: `${name} must be ${SECRET_FORMS}; got an empty mapping` };
      return { pointer: at, part: 'key', message: `${name} must declare at least one key, or be left out so vm generates one` };
    case 'maxProperties':
      return { pointer: at, part: 'value', message: `${name} takes one of env or file, not both` };
    default:
      return { pointer: at, part: 'value', message: `${name} ${err.message ?? 'is not valid'}` };
  }
}
