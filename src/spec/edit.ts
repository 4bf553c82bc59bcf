// Edits the user's voicemode.services.yaml the way a person would: one value changed (or one
// `key: value` added) under services.NAME, every other byte as it was. yaml's Document API finds
// the nodes and their ranges; the text is spliced at those ranges, because `doc.toString()`
// re-renders the whole document (it re-spaces comments, for one). Pure: text in, text out.
//
// The values vm sets here are plain words and booleans (`state: stopped`, `autostart: false`),
// written in the quoting style the old value had, so a file written with `state: "running"`
// keeps its double quotes.

import { isMap, isScalar, parseDocument, type Pair, type Scalar, type YAMLMap } from 'yaml';
import { UserError } from '../errors.js';

export type EditValue = string | boolean;

export interface EditResult {
  readonly text: string;
  /** Whether any value differs from what the file said. */
  readonly changed: boolean;
}

/** The services the file declares, in its order ([] when `services:` is missing or empty). */
export function declaredServices(text: string): string[] {
  const services = parseDocument(text).get('services', true);
  if (!isMap(services)) return [];
  return services.items.flatMap((p) => (isScalar(p.key) ? [String(p.key.value)] : []));
}

/** Whether services.`service` in the file has `key` (false for an undeclared service). */
export function hasServiceKey(text: string, service: string, key: string): boolean {
  const body = parseDocument(text).getIn(['services', service], true);
  return isMap(body) && body.items.some((p) => isScalar(p.key) && String(p.key.value) === key);
}

/**
 * Sets each `key: value` under services.`service`, keeping everything else byte for byte. A key
 * already holding that value is left alone (its quoting too). Throws UserError('USAGE') when the
 * service is not declared; the caller validates the result before writing it.
 */
export function setServiceKeys(text: string, service: string, set: ReadonlyArray<readonly [string, EditValue]>): EditResult {
  let out = text;
  let changed = false;
  // One key at a time, re-parsing in between: each edit shifts the ranges after it.
  for (const [key, value] of set) {
    const r = setOne(out, service, key, value);
    out = r.text;
    changed ||= r.changed;
  }
  return { text: out, changed };
}

function setOne(text: string, service: string, key: string, value: EditValue): EditResult {
  const doc = parseDocument(text);
  const services = doc.get('services', true);
  const pair = isMap(services) ? services.items.find((p) => isScalar(p.key) && String(p.key.value) === service) : undefined;
  if (pair === undefined) {
    const names = declaredServices(text);
    throw new UserError('USAGE', `no service named ${JSON.stringify(service)} in the file`, names.length === 0 ? 'the file declares no services' : `declared: ${names.join(', ')}`);
  }
  const body = pair.value;
  if (isMap(body)) {
    const existing = body.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (existing !== undefined) return replaceValue(text, existing, value);
    return { text: insertPair(text, body, key, value), changed: true };
  }
  // `livekit:` with nothing after it (null): give it a flow map holding the one key.
  if (isScalar(body) && (body.value === null || body.value === '') && body.range !== undefined && body.range !== null) {
    const at = body.range[0];
    const lead = text[at - 1] === ' ' ? '' : ' ';
    return { text: `${text.slice(0, at)}${lead}{ ${key}: ${render(value, 'PLAIN')} }${text.slice(body.range[1])}`, changed: true };
  }
  throw new UserError('USAGE', `services.${service} in the file is not a map: edit it by hand`);
}

/** Replaces an existing value in place, in its quoting style, keeping a trailing comment's column. */
function replaceValue(text: string, pair: Pair, value: EditValue): EditResult {
  const v = pair.value;
  if (!isScalar(v) || v.range === undefined || v.range === null) throw new UserError('USAGE', `${String((pair.key as Scalar).value)} in the file is not a plain value: edit it by hand`);
  if (v.value === value || String(v.value) === String(value)) return { text, changed: false };
  const [start, end] = v.range;
  const next = render(value, v.type);
  let after = text.slice(end);
  // `state: running   # comment` → `state: absent    # comment`: the comment stays where it was.
  const pad = /^( +)#/.exec(after);
  if (pad?.[1] !== undefined) {
    const spaces = Math.max(1, pad[1].length + (end - start) - next.length);
    after = ' '.repeat(spaces) + after.slice(pad[1].length);
  }
  return { text: text.slice(0, start) + next + after, changed: true };
}

/** Adds `key: value` as the service's first entry, indented (or spaced) like its neighbours. */
function insertPair(text: string, body: YAMLMap, key: string, value: EditValue): string {
  const first = body.items[0];
  const entry = `${key}: ${render(value, 'PLAIN')}`;
  const range = body.range;
  if (body.flow === true) {
    if (first === undefined) {
      // `livekit: {}` → `livekit: { state: stopped }`
      if (range === undefined || range === null) throw new UserError('USAGE', 'cannot edit this file: a map without a position');
      return `${text.slice(0, range[0])}{ ${entry} }${text.slice(textEndOfFlow(text, range[0]))}`;
    }
    const at = (first.key as Scalar).range?.[0];
    if (at === undefined) throw new UserError('USAGE', 'cannot edit this file: a key without a position');
    return `${text.slice(0, at)}${entry}, ${text.slice(at)}`;
  }
  const at = (first?.key as Scalar | undefined)?.range?.[0];
  if (at === undefined) throw new UserError('USAGE', 'cannot edit this file: a key without a position');
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  const indent = text.slice(lineStart, at);
  // A key that shares its line with something before it (`- name: x`) is not a block entry we can copy.
  if (!/^ *$/.test(indent)) throw new UserError('USAGE', 'cannot edit this layout of services in the file: edit it by hand');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return `${text.slice(0, lineStart)}${indent}${entry}${eol}${text.slice(lineStart)}`;
}

/** The index just past the `}` that closes the flow map opening at `open`. */
function textEndOfFlow(text: string, open: number): number {
  const close = text.indexOf('}', open);
  return close === -1 ? open : close + 1;
}

function render(value: EditValue, style: Scalar['type']): string {
  const s = String(value);
  if (typeof value === 'boolean') return s;
  if (style === 'QUOTE_DOUBLE') return JSON.stringify(s);
  if (style === 'QUOTE_SINGLE') return `'${s.replace(/'/g, "''")}'`;
  return s;
}

/**
 * The file's text with every secret's value replaced by `(sensitive)`: inline secrets under
 * services.*.keys and services.*.fallback.api_secret (an `{ env }` or `{ file }` reference is
 * not a secret and stays). For showing a diff of the file; never written anywhere.
 */
export function redactSpecText(text: string): string {
  const doc = parseDocument(text);
  const services = doc.get('services', true);
  const ranges: Array<readonly [number, number]> = [];
  // An `{ env }` or `{ file }` reference is a map, not a secret: only a scalar is the secret itself.
  const secretAt = (node: unknown) => {
    if (isScalar(node) && node.range !== undefined && node.range !== null && node.value !== null) ranges.push([node.range[0], node.range[1]]);
  };
  if (isMap(services)) {
    for (const s of services.items) {
      if (!isMap(s.value)) continue;
      const keys = s.value.get('keys', true);
      if (isMap(keys)) for (const k of keys.items) secretAt(k.value);
      const fallback = s.value.get('fallback', true);
      if (isMap(fallback)) secretAt(fallback.get('api_secret', true));
    }
  }
  let out = text;
  for (const [a, b] of ranges.sort((x, y) => y[0] - x[0])) out = `${out.slice(0, a)}(sensitive)${out.slice(b)}`;
  return out;
}
