// How deep a document nests, checked before anything recursive walks it. A services file nests
// about 6 levels (services → livekit → keys → name → env); thousands of nested `[` are an attack
// on the parser's stack, not a configuration.

import { isMap, isPair, isSeq } from 'yaml';
import type { Document } from 'yaml';

export const MAX_DEPTH = 32;
export const TOO_DEEP = `the file nests more than ${MAX_DEPTH} levels deep; a services file needs about 6`;

/**
 * Where flow collections (`[`, `{`) or compact block indicators on one line (`- - - x`) nest
 * deeper than MAX_DEPTH, found in the text before parsing; or undefined. The YAML parser recurses
 * once per level and runs out of stack somewhere near 800 levels, at a place that depends on the
 * stack size; this finds the usual bombs at a place that does not. It only counts: quoted text
 * and comments are skipped, and whatever it misses the parser still reports (RESOURCE_EXHAUSTION).
 */
export function textTooDeep(text: string): number | undefined {
  let flow = 0;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      lineStart = true;
      continue;
    }
    if (lineStart) {
      lineStart = false;
      let j = i;
      let block = 0;
      for (;;) {
        while (text[j] === ' ') j++;
        if ((text[j] !== '-' && text[j] !== '?') || (text[j + 1] !== ' ' && text[j + 1] !== '\n')) break;
        if (++block > MAX_DEPTH) return j;
        j++;
      }
      i = j - 1;
      continue;
    }
    const prev = text[i - 1];
    const boundary = prev === undefined || prev === ' ' || prev === '\t' || prev === '\n' || prev === '[' || prev === '{' || prev === ',' || prev === ':';
    if (c === '#' && boundary) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end - 1;
    } else if ((c === '"' || c === "'") && boundary) {
      // A quoted scalar: "..." with \ escapes, '...' with '' for a quote.
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += c === '"' && text[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '[' || c === '{') {
      if (++flow > MAX_DEPTH) return i;
    } else if ((c === ']' || c === '}') && flow > 0) {
      flow--;
    }
  }
  return undefined;
}

/** Offset of the first node nested deeper than MAX_DEPTH, or undefined. Iterative: no recursion. */
export function firstTooDeep(doc: Document.Parsed): number | undefined {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: doc.contents, depth: 1 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth > MAX_DEPTH) return node.range?.[0] ?? 0;
    for (const item of node.items as unknown[]) {
      if (isPair(item)) {
        stack.push({ node: item.key, depth: depth + 1 }, { node: item.value, depth: depth + 1 });
      } else {
        stack.push({ node: item, depth: depth + 1 });
      }
    }
  }
  return undefined;
}
