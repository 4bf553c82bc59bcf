// A named entry in a YAML file the user also edits (lk's ~/.livekit/cli-config.yaml: a list
// `projects:` of `{name, url, api_key, api_secret}` and a `default_project`). yaml's Document API
// edits the one entry in place, so other entries, other keys and comments stay. Pure.

import { isMap, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';

export interface EntryRef {
  /** The top-level key holding the list (`projects`). */
  readonly list: string;
  /** The key that names an entry (`name`) and the name vm manages. */
  readonly nameKey: string;
  readonly name: string;
  /** A top-level key set to `name` when the file has none (`default_project`). */
  readonly defaultKey?: string;
}

export type EntrySearch =
  | { readonly kind: 'none' }
  /** The entry's scalar fields, as strings. */
  | { readonly kind: 'found'; readonly fields: Readonly<Record<string, string>> }
  /** Not a YAML map with a list where the entry goes: vm will not rewrite what it cannot read. */
  | { readonly kind: 'invalid'; readonly why: string };

const TO_STRING = { lineWidth: 0 } as const;

function load(text: string | undefined): { doc: Document } | { why: string } {
  const doc = parseDocument(text ?? '');
  if (doc.errors.length > 0) return { why: `not valid YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}` };
  if (doc.contents !== null && !isMap(doc.contents)) return { why: 'not a YAML map' };
  return { doc };
}

function entryIn(doc: Document, ref: EntryRef): { items: unknown[]; index: number } | { why: string } | undefined {
  const seq = doc.get(ref.list, true);
  if (seq === undefined || seq === null) return undefined;
  if (!isSeq(seq)) return { why: `\`${ref.list}\` is not a list` };
  const index = seq.items.findIndex((it) => isMap(it) && it.get(ref.nameKey) === ref.name);
  return { items: seq.items, index };
}

export function findEntry(text: string | undefined, ref: EntryRef): EntrySearch {
  const l = load(text);
  if ('why' in l) return { kind: 'invalid', why: l.why };
  const e = entryIn(l.doc, ref);
  if (e !== undefined && 'why' in e) return { kind: 'invalid', why: e.why };
  if (e === undefined || e.index < 0) return { kind: 'none' };
  const item = e.items[e.index] as YAMLMap;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(item.toJSON() as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = String(v);
  }
  return { kind: 'found', fields };
}

/**
 * `text` with the entry holding `value` (its other keys kept), or without the entry when `value`
 * is undefined (and without `defaultKey` when that named it). Throws on a file it cannot read.
 */
export function setEntry(text: string | undefined, ref: EntryRef, value: Readonly<Record<string, string>> | undefined): string {
  const l = load(text);
  if ('why' in l) throw new Error(l.why);
  const doc = l.doc;
  const e = entryIn(doc, ref);
  if (e !== undefined && 'why' in e) throw new Error(e.why);
  if (value === undefined) {
    if (e === undefined || e.index < 0) return text ?? '';
    e.items.splice(e.index, 1);
    if (ref.defaultKey !== undefined && doc.get(ref.defaultKey) === ref.name) doc.delete(ref.defaultKey);
    return doc.toString(TO_STRING);
  }
  if (doc.contents === null) {
    // A new file, in lk's own order: the default first, then the list.
    (doc as { contents: unknown }).contents = doc.createNode({ ...(ref.defaultKey === undefined ? {} : { [ref.defaultKey]: ref.name }), [ref.list]: [] });
  }
  if (e !== undefined && e.index >= 0) {
    const item = e.items[e.index] as YAMLMap;
    for (const [k, v] of Object.entries(value)) item.set(k, v);
  } else {
    const entry = doc.createNode({ [ref.nameKey]: ref.name, ...value });
    const seq = doc.get(ref.list, true);
    if (isSeq(seq)) {
      seq.flow = false; // `projects: []` becomes a block list, as lk writes it
      seq.items.push(entry);
    } else {
      doc.set(ref.list, doc.createNode([{ [ref.nameKey]: ref.name, ...value }]));
    }
  }
  if (ref.defaultKey !== undefined) {
    const d = doc.get(ref.defaultKey);
    if (d === undefined || d === null || d === '') doc.set(ref.defaultKey, ref.name);
  }
  return doc.toString(TO_STRING);
}
