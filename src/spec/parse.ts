// Bytes → text → YAML document with positions → plain data. Every failure becomes a located
// SpecProblem; nothing from the yaml library reaches the user raw.

import { LineCounter, isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair, YAMLError } from 'yaml';
import type { SpecProblem } from '../model.js';
import { TOO_DEEP, firstTooDeep, textTooDeep } from './depth.js';

/** A services file is a few hundred bytes; anything this big is a mistake or an attack. */
export const MAX_SPEC_BYTES = 256 * 1024;
/** Aliases are legal YAML, but expanding them without a cap lets a tiny file eat memory. */
export const MAX_ALIAS_COUNT = 100;
/** A library message is a sentence; anything longer is quoting the file back. */
const MAX_YAML_MESSAGE = 160;

export interface ParsedSpec {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  /** The document as plain data (maps → objects); what the schema validates. */
  readonly data: unknown;
}

export type ParseResult = { ok: true; spec: ParsedSpec } | { ok: false; problems: SpecProblem[] };

/** Decodes strict UTF-8 (a BOM is dropped). Returns the text, or a problem at the first bad byte. */
export function decodeSpec(bytes: Uint8Array, file: string): string | SpecProblem {
  if (bytes.byteLength > MAX_SPEC_BYTES) return sizeProblem(file, bytes.byteLength);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Locate the first undecodable byte through the lossy decoding: it is the first U+FFFD
    // (a file that also contains a literal U+FFFD earlier is too rare to care about).
    const lossy = new TextDecoder('utf-8').decode(bytes);
    const at = Math.max(0, lossy.indexOf('\uFFFD'));
    const before = lossy.slice(0, at);
    return {
      file,
      line: before.split('\n').length,
      column: at - before.lastIndexOf('\n'),
      pointer: '',
      message: 'the file is not UTF-8 text; save it as UTF-8',
    };
  }
}

export function parseSpec(text: string, file: string): ParseResult {
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_SPEC_BYTES) return { ok: false, problems: [sizeProblem(file, size)] };
  const lines = new LineCounter();
  const at = (offset: number, message: string): SpecProblem => {
    const { line, col } = lines.linePos(offset);
    return { file, line, column: col, pointer: '', message };
  };
  const deep = textTooDeep(text);
  if (deep !== undefined) {
    // The line counter learns line starts while parsing; count them here instead.
    lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i !== -1 && i < deep; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    return { ok: false, problems: [at(deep, TOO_DEEP)] };
  }
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  // Warnings (e.g. an unknown !tag) are errors here: a config file should mean one thing.
  let issues = [...doc.errors, ...doc.warnings];
  // The parser ran out of stack (hundreds of nested [ or {): what follows is noise.
  const exhausted = issues.find((e) => e.code === 'RESOURCE_EXHAUSTION');
  if (exhausted !== undefined) return { ok: false, problems: [at(exhausted.pos[0], yamlMessage(exhausted, doc, text, lines))] };
  // Before anything below walks the tree recursively (visit, toJS, the validator).
  const tooDeep = firstTooDeep(doc);
  if (tooDeep !== undefined) {
    return { ok: false, problems: [at(tooDeep, TOO_DEEP)] };
  }
  // After a real syntax error the recovered tree is guesswork: its "duplicate keys" are noise.
  if (issues.some((e) => e.code !== 'DUPLICATE_KEY')) issues = issues.filter((e) => e.code !== 'DUPLICATE_KEY');
  const problems = issues.sort((a, b) => a.pos[0] - b.pos[0]).map((e) => at(e.pos[0], yamlMessage(e, doc, text, lines)));
  visit(doc, {
    Pair(_, pair) {
      // yaml would stringify a collection key (with a process warning); no valid file has one.
      if (pair.key !== null && !isScalar(pair.key) && isNodeWithRange(pair.key)) {
        problems.push(at(pair.key.range[0], 'keys must be plain names, not lists or mappings'));
      }
    },
  });
  if (problems.length > 0) return { ok: false, problems };
  try {
    const data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown;
    return { ok: true, spec: { file, text, doc, lines, data } };
  } catch (e) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount, or when an alias
    // names an anchor that is not set before it (`*secret` with no `&secret`).
    const unresolved = /^Unresolved alias .*: (.*)$/.exec(e instanceof Error ? e.message : '')?.[1];
    let offset = 0;
    visit(doc, {
      Alias(_, alias) {
        if (unresolved !== undefined && alias.source !== unresolved) return undefined;
        offset = alias.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const message =
      unresolved === undefined
        ? `YAML aliases expand too much (limit ${MAX_ALIAS_COUNT}); write the values out instead of using anchors and aliases`
        : `YAML alias *${unresolved} has no anchor &${unresolved} before it`;
    return { ok: false, problems: [at(offset, message)] };
  }
}

export function sizeProblem(file: string, size: number): SpecProblem {
  return {
    file,
    line: 1,
    column: 1,
    pointer: '',
    message: `the file is too large (${Math.ceil(size / 1024)} KiB; at most ${MAX_SPEC_BYTES / 1024} KiB is read)`,
  };
}

function yamlMessage(e: YAMLError, doc: Document.Parsed, text: string, lines: LineCounter): string {
  switch (e.code) {
    case 'DUPLICATE_KEY': {
      const dup = duplicateOf(doc, e.pos[0]);
      const name = dup?.name ?? text.slice(e.pos[0], e.pos[1]);
      const where = dup?.first === undefined ? '' : ` (first set on line ${lines.linePos(dup.first).line})`;
      return `duplicate key ${JSON.stringify(name)}${where}: each key may appear once`;
    }
    case 'MULTIPLE_DOCS':
      return 'only one YAML document is allowed; remove the second `---` and what follows';
    case 'TAB_AS_INDENT':
      return 'tabs cannot indent YAML; use spaces';
    case 'RESOURCE_EXHAUSTION':
      return TOO_DEEP;
    default: {
      // The library message is a sentence without location; keep only its first line, and not
      // too much of it (an unknown tag is quoted back whole).
      const first = e.message.split('\n', 1)[0] ?? e.code;
      return `YAML syntax: ${first.length > MAX_YAML_MESSAGE ? `${first.slice(0, MAX_YAML_MESSAGE - 3)}...` : first}`;
    }
  }
}

/** The name of the key starting at `offset`, and where the same key was first set. */
function duplicateOf(doc: Document.Parsed, offset: number): { name: string; first: number | undefined } | undefined {
  let found: { name: string; first: number | undefined } | undefined;
  visit(doc, {
    Map(_, map) {
      const dup = map.items.find((p) => isNodeWithRange(p.key) && p.key.range[0] === offset);
      if (dup === undefined) return undefined;
      const name = keyName(dup);
      const first = map.items.find((p) => p !== dup && keyName(p) === name)?.key;
      found = { name, first: isNodeWithRange(first) ? first.range[0] : undefined };
      return visit.BREAK;
    },
  });
  return found;
}

/** A key as plain data names it (toJS turns a null key into ''). */
export function keyName(pair: Pair<unknown, unknown>): string {
  const k = pair.key;
  if (isScalar(k)) return k.value === null ? '' : String(k.value);
  return String(k);
}

function isNodeWithRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === 'object' && n !== null && 'range' in n && Array.isArray((n as Node).range);
}

interface Found {
  readonly pair: Pair<unknown, unknown> | undefined;
  readonly node: unknown;
  /** False when the pointer goes past what the document contains (a default, a missing parent). */
  readonly complete: boolean;
}

/** `/a/b~1c` → ['a', 'b/c'] (JSON pointer, RFC 6901). */
export function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function find(spec: ParsedSpec, pointer: string): Found {
  const segments = pointerSegments(pointer);
  let node: unknown = spec.doc.contents;
  let pair: Pair<unknown, unknown> | undefined;
  for (const seg of segments) {
    if (isAlias(node)) node = node.resolve(spec.doc);
    const next = isMap(node) ? node.items.find((p) => keyName(p) === seg) : isSeq(node) ? node.items[Number(seg)] : undefined;
    if (next === undefined) return { pair, node, complete: false };
    pair = isPair(next) ? next : undefined;
    node = isPair(next) ? next.value : next;
  }
  return { pair, node, complete: true };
}

/**
 * The 1-based line and column of the node a JSON pointer names. `key` points at the key of the
 * last pair (unknown keys, missing children); `value` at the value. A pointer past what the
 * document contains lands on the nearest ancestor that is there.
 */
export function locate(spec: ParsedSpec, pointer: string, part: 'key' | 'value'): { line: number; column: number } {
  const { pair, node, complete } = find(spec, pointer);
  // An empty value (`port:`) has a zero-width range at the line end: the key reads better.
  const useKey = part === 'key' || !complete || !isNodeWithRange(node) || node.range[0] === node.range[1];
  const target = useKey && pair !== undefined && isNodeWithRange(pair.key) ? pair.key : node;
  const { line, col } = spec.lines.linePos(isNodeWithRange(target) ? target.range[0] : 0);
  return { line, column: col };
}

/** The text the user wrote for the value at `pointer` (e.g. `0777` where the data says 777). */
export function sourceText(spec: ParsedSpec, pointer: string): string | undefined {
  const { node, complete } = find(spec, pointer);
  if (!complete || !isNodeWithRange(node)) return undefined;
  // One line: a plain scalar may be folded over several.
  return spec.text.slice(node.range[0], node.range[1]).trim().replace(/\s*\n\s*/g, ' ');
}
